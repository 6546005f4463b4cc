// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/sinks.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "wrapper/base/deadline.h"

namespace diag::audit_sinks {

namespace {

// How long a sink may keep a writer waiting (the lock, a full socket): see kLockGraceMillis.
uint64_t sink_wait_ms() {
    const auto left = deadline::remaining_ms();
    return left ? std::max(*left, kLockGraceMillis) : kLockWaitMillis;
}

// Sends one datagram (`send` or `sendmsg`, by `attempt`) on a non-blocking socket, waiting for
// room within sink_wait_ms(): a journald that is stalled, restarting or flooded by other senders
// (its socket is world-writable) must not pin the wrapper and its session, whose terminating
// signals are held. Errors: kAudit.
template <typename Attempt>
Status send_bounded(int sock, const std::string& what, const Attempt& attempt) {
    const uint64_t wait_ms = sink_wait_ms();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
        if (attempt() >= 0) {
            return ok_status();
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return sys_error(ErrorCode::kAudit, what, errno);
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            return make_error(ErrorCode::kAudit, what + ": not sent within " + std::to_string(wait_ms) + " ms");
        }
        pollfd p{sock, POLLOUT, 0};
        (void)::poll(&p, 1, static_cast<int>(left));
    }
}

}  // namespace

Status lock_bounded(int fd, const std::string& path) {
    const uint64_t wait_ms = sink_wait_ms();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            return ok_status();
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return sys_error(ErrorCode::kAudit, "flock(" + path + ")", errno);
        }
        if (std::chrono::steady_clock::now() >= until) {
            return make_error(ErrorCode::kAudit,
                              "flock(" + path + "): not obtained within " + std::to_string(wait_ms) + " ms");
        }
        const timespec pause{0, 2 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
    }
}

namespace {

// open_trusted_log, also reporting the errno of the file's own open (0 when it opened, or when
// something else failed first): write_file retries what a rotation causes, and nothing else; and
// the file's fstat when it opened (`opened`).
Result<sys::UniqueFd> open_trusted_log_errno(const std::string& path, int flags, mode_t create_mode, uid_t owner,
                                             const std::string& what, int& open_errno, struct stat& opened) {
    open_errno = 0;
    const size_t slash = path.rfind('/');
    if (path.empty() || path[0] != '/' || slash == std::string::npos || slash + 1 == path.size()) {
        return make_error(ErrorCode::kAudit, what + " " + path + ": not an absolute file path");
    }
    // The directories: nobody but `owner` may rename or replace an entry in them, so the file
    // checked below stays the file written.
    auto dir =
        sys::open_trusted(slash == 0 ? "/" : path.substr(0, slash), O_PATH | O_DIRECTORY, owner, ErrorCode::kAudit);
    if (!dir.ok()) {
        const int err = errno;
        if (err == ENOENT) {
            return sys_error(ErrorCode::kAudit, what + " open(" + path + ")", err);
        }
        return make_error(ErrorCode::kAudit, what + " " + path + ": " + dir.error().msg);
    }
    const std::string base = path.substr(slash + 1);
    sys::UniqueFd fd(::openat(dir->get(), base.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, create_mode));
    if (!fd.valid()) {
        open_errno = errno;
        return sys_error(ErrorCode::kAudit, what + " open(" + path + ")", open_errno);
    }
    DIAG_TRY_ASSIGN(struct stat st, sys::fstat_fd(fd.get(), path, ErrorCode::kAudit));
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kAudit, what + " " + path + ": not a regular file");
    }
    // Group write is how the account appends; other write, another owner or a second name
    // (a hard link the account made elsewhere) would let someone else rewrite it.
    if (st.st_uid != owner || (st.st_mode & S_IWOTH) != 0 || st.st_nlink != 1) {
        return make_error(ErrorCode::kAudit, what + " " + path + ": must be owned by uid " + std::to_string(owner) +
                                                 ", not writable by others, with one link");
    }
    opened = st;
    return fd;
}

// The audit file open for appending. A rotation (adr/0020) renames the file away, creates the
// next one and only then gives it the account's group: for that instant the name is missing
// (ENOENT) or not yet writable by the account (EACCES). Those two are retried until `until`;
// anything else fails at once.
Result<sys::UniqueFd> open_for_append(const std::string& path, std::chrono::steady_clock::time_point until,
                                      struct stat& opened) {
    for (;;) {
        int open_errno = 0;
        auto fd =
            open_trusted_log_errno(path, O_WRONLY | O_APPEND | O_CREAT, 0640, 0, "audit file", open_errno, opened);
        const bool rotating = open_errno == ENOENT || open_errno == EACCES;
        if (fd.ok() || !rotating || std::chrono::steady_clock::now() >= until) {
            return fd;
        }
        const timespec pause{0, 2 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
    }
}

// Whether the file opened (`held`: its fstat at the open; a descriptor's device and inode never
// change) is still the file named `path`. A rotation may rename the file between our open and our
// lock; a line written then would land in the rotated file after the rotation has finished with
// it (adr/0020: it waits for the lock once, then compresses).
Result<bool> still_named(const struct stat& held, const std::string& path) {
    struct stat named {};
    if (::lstat(path.c_str(), &named) != 0) {
        if (errno == ENOENT) {
            return false;
        }
        return sys_error(ErrorCode::kAudit, "audit file lstat(" + path + ")", errno);
    }
    return named.st_dev == held.st_dev && named.st_ino == held.st_ino;
}

}  // namespace

Result<sys::UniqueFd> open_trusted_log(const std::string& path, int flags, mode_t create_mode, uid_t owner,
                                       const std::string& what) {
    int open_errno = 0;
    struct stat opened {};
    return open_trusted_log_errno(path, flags, create_mode, owner, what, open_errno, opened);
}

Status write_file(const std::string& path, const std::string& line) {
    // One write() of the complete line under an exclusive lock: concurrent requests never
    // interleave, and a short write is a failure, not a truncated record. The lock is taken on
    // the file that still has the name, so a line goes to exactly one file across a rotation.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(sink_wait_ms());
    sys::UniqueFd fd;
    for (;;) {
        struct stat opened {};
        DIAG_TRY_ASSIGN(fd, open_for_append(path, until, opened));
        DIAG_TRY(lock_bounded(fd.get(), path));
        DIAG_TRY_ASSIGN(const bool current, still_named(opened, path));
        if (current) {
            break;
        }
        if (std::chrono::steady_clock::now() >= until) {
            return make_error(ErrorCode::kAudit, "audit file " + path + ": replaced while waiting for its lock");
        }
    }
    const ssize_t n = ::write(fd.get(), line.data(), line.size());
    if (n < 0) {
        return sys_error(ErrorCode::kAudit, "audit file write(" + path + ")", errno);
    }
    if (static_cast<size_t>(n) != line.size()) {
        return make_error(ErrorCode::kAudit, "audit file write(" + path + "): short write");
    }
    return ok_status();
}

namespace {

// journald's way for an entry larger than a datagram: the payload in a memfd, sealed so the
// sender cannot change it after journald has looked, passed as the only content of the message.
Status send_memfd(int sock, const std::string& payload, const std::string& what) {
    sys::UniqueFd mem(::memfd_create("diag-wrapper-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!mem.valid()) {
        return sys_error(ErrorCode::kAudit, what + " memfd_create", errno);
    }
    size_t off = 0;
    while (off < payload.size()) {
        const ssize_t n = ::write(mem.get(), payload.data() + off, payload.size() - off);
        if (n <= 0) {
            return sys_error(ErrorCode::kAudit, what + " write(memfd)", n < 0 ? errno : EIO);
        }
        off += static_cast<size_t>(n);
    }
    if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        return sys_error(ErrorCode::kAudit, what + " fcntl(F_ADD_SEALS)", errno);
    }
    union {
        cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control{};
    msghdr msg{};
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    const int fd = mem.get();
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return send_bounded(sock, what + " sendmsg(memfd)", [&] { return ::sendmsg(sock, &msg, MSG_NOSIGNAL); });
}

}  // namespace

Status send_datagram(const std::string& socket_path, const std::string& payload, const char* what,
                     bool memfd_fallback) {
    const std::string w(what);
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kAudit, w + " socket()", errno);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
        return make_error(ErrorCode::kAudit, w + " socket path too long: " + socket_path);
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return sys_error(ErrorCode::kAudit, w + " connect(" + socket_path + ")", errno);
    }
    ssize_t n = -1;
    int send_errno = 0;
    auto sent = send_bounded(fd.get(), w + " send(" + socket_path + ")", [&] {
        n = ::send(fd.get(), payload.data(), payload.size(), MSG_NOSIGNAL);
        send_errno = n < 0 ? errno : 0;
        return n;
    });
    if (!sent.ok() && (send_errno == EMSGSIZE || send_errno == ENOBUFS) && memfd_fallback) {
        return send_memfd(fd.get(), payload, w);
    }
    DIAG_TRY(sent);
    if (static_cast<size_t>(n) != payload.size()) {
        return sys_error(ErrorCode::kAudit, w + " send(" + socket_path + ")", EMSGSIZE);
    }
    return ok_status();
}

}  // namespace diag::audit_sinks
