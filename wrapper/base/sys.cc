// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/sys.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <memory>

#include "wrapper/base/paths.h"

namespace diag::sys {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = o.release();
    }
    return *this;
}

UniqueFd::~UniqueFd() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

int UniqueFd::release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

Result<struct stat> fstat_fd(int fd, const std::string& what, ErrorCode code) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return sys_error(code, "fstat(" + what + ")", errno);
    }
    return st;
}

std::optional<std::string> read_small_file(const std::string& path, size_t max) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return std::nullopt;
    }
    auto text = read_all(fd, path, max);
    ::close(fd);
    if (!text.ok()) {
        return std::nullopt;
    }
    return std::move(text).value();
}

Result<std::string> read_all(int fd, const std::string& what, size_t max) {
    std::string out;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error(ErrorCode::kInternal, "read(" + what + ")", errno);
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > max) {
            return make_error(ErrorCode::kInternal, what + ": larger than " + std::to_string(max) + " bytes");
        }
    }
    return out;
}

Status check_trusted(const struct stat& st, const std::string& what, uid_t owner, ErrorCode code) {
    if (st.st_uid != owner) {
        return make_error(code, what + ": not owned by uid " + std::to_string(owner) + " (owner is " +
                                    std::to_string(st.st_uid) + ")");
    }
    const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky_dir) {
        return make_error(code, what + ": writable by group or other");
    }
    return ok_status();
}

Result<UniqueFd> open_trusted(const std::string& path, int flags, uid_t owner, ErrorCode code) {
    if (path.empty() || path[0] != '/') {
        return make_error(code, path + ": not an absolute path");
    }
    const auto comps = util::split_path(path);
    UniqueFd cur(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur.valid()) {
        return sys_error(code, "open(/)", errno);
    }
    for (size_t i = 0; i < comps.size(); ++i) {
        DIAG_TRY_ASSIGN(struct stat st, fstat_fd(cur.get(), util::join_path(comps, i), code));
        DIAG_TRY(check_trusted(st, util::join_path(comps, i), owner, code));
        const bool last = i + 1 == comps.size();
        UniqueFd next(::openat(cur.get(), comps[i].c_str(), (last ? flags : O_PATH) | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid()) {
            return sys_error(code, "open(" + util::join_path(comps, i + 1) + ")", errno);
        }
        cur = std::move(next);
    }
    DIAG_TRY_ASSIGN(struct stat st, fstat_fd(cur.get(), path, code));
    DIAG_TRY(check_trusted(st, path, owner, code));
    return cur;
}

NonBlocking::NonBlocking(std::initializer_list<int> fds) {
    for (const int fd : fds) {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0 && n_ < kMaxFds) {
            fd_[n_] = fd;
            flags_[n_++] = flags;
        }
    }
    for (size_t i = 0; i < n_; ++i) {
        // Cannot fail on an open fd with valid flags; if it did, a write could block, which is
        // what the wrapper did before this guard existed, never a wrong result.
        (void)::fcntl(fd_[i], F_SETFL, flags_[i] | O_NONBLOCK);
    }
}

NonBlocking::~NonBlocking() {
    for (size_t i = n_; i-- > 0;) {
        (void)::fcntl(fd_[i], F_SETFL, flags_[i]);
    }
}

bool write_within(int fd, std::string_view data, int millis) {
    // A client that stopped reading must not keep the wrapper (and the request) alive: wait for
    // room up to the bound, then give up. A closed fd (EPIPE, EBADF) is not worth waiting for.
    const NonBlocking nb({fd});
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
    size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n > 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0 || errno != EAGAIN) {
            return false;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now()).count();
        pollfd p{fd, POLLOUT, 0};
        const int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
        if (ready == 0 || (ready < 0 && errno != EINTR)) {
            return false;
        }
    }
    return true;
}

void say(const std::string& line) {
    // The audit record has the outcome whether or not the line arrives.
    (void)write_within(STDERR_FILENO, "diag-wrapper: " + line + "\n", kSayMillis);
}

Status hold_terminating_signals() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigemptyset(&ignore.sa_mask);
    if (::sigaction(SIGPIPE, &ignore, nullptr) != 0) {
        return sys_error(ErrorCode::kInternal, "sigaction(SIGPIPE, SIG_IGN)", errno);
    }
    // Every asynchronous signal, not only the four that mean "go away": SIGUSR1, SIGALRM and the
    // real-time signals end a process by default too, and SIGTSTP/SIGTTIN/SIGTTOU stop it, and
    // any process of the same uid may send them (the command itself, on kernels whose Landlock
    // cannot scope signals). Only the supervisor's signalfd reads the terminating ones; the rest
    // stay pending, harmless. The signals a fault raises stay unblocked (blocking them turns a
    // crash into a hang or an undefined state); SIGKILL and SIGSTOP cannot be blocked.
    sigset_t held;
    ::sigfillset(&held);
    for (const int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) {
        ::sigdelset(&held, s);
    }
    if (::sigprocmask(SIG_BLOCK, &held, nullptr) != 0) {
        return sys_error(ErrorCode::kInternal, "sigprocmask(SIG_BLOCK, asynchronous signals)", errno);
    }
    return ok_status();
}

Result<std::string> real_path(const std::string& path, ErrorCode code) {
    std::unique_ptr<char, decltype(&std::free)> p(::realpath(path.c_str(), nullptr), &std::free);
    if (!p) {
        return sys_error(code, "realpath(" + path + ")", errno);
    }
    return std::string(p.get());
}

}  // namespace diag::sys
