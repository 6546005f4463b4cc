// SPDX-License-Identifier: Apache-2.0
// Taking the deny list's snapshot (deny_snapshot.h, adr/0027): the build as the policy's account,
// in a child bounded in time, and the witnesses its answers rest on.
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <set>

#include "wrapper/base/deadline.h"
#include "wrapper/base/passwd.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/deny_glob.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/policy/deny_snapshot.h"

namespace diag::deny_snapshot {

namespace {

constexpr int kMaxHops = 40;                            // as the kernel's MAXSYMLINKS
constexpr size_t kMaxSnapshotBytes = 16 * 1024 * 1024;  // what the compile reads from its child
constexpr int64_t kNsPerSec = 1'000'000'000;
// How long --compile waits for the child taking the snapshot (two builds and one settle wait
// take well under 3 s); then it has none, and the compile goes on.
constexpr int64_t kChildMillis = 10'000;
constexpr uint64_t kZfsMagic = 0x2fc12fc1;  // not in linux/magic.h

int64_t coarse_now() {
    timespec ts{};
    (void)::clock_gettime(CLOCK_REALTIME_COARSE, &ts);  // the clock ctimes are stamped from
    return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

// The parent of an absolute, normalized path ("/" is its own).
std::string parent_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// Walks `path` as the kernel resolves it, component by component, following every symlink, and
// adds to `out` each directory the walk goes through, each symlink it follows and where it ends. A failed component
// ends the walk: its directory is already a witness.
void walk(const std::string& path, std::set<std::string>& out, deny_list::Recorder& rec) {
    std::vector<std::string> todo;
    for (auto& c : util::split_path(path)) {
        todo.push_back(std::move(c));
    }
    std::reverse(todo.begin(), todo.end());  // a stack: the next component last
    std::string at = "/";
    out.insert(at);
    int hops = 0;
    while (!todo.empty()) {
        const std::string c = std::move(todo.back());
        todo.pop_back();
        if (c.empty() || c == ".") {
            continue;
        }
        if (c == "..") {
            at = parent_of(at);
            continue;
        }
        const std::string next = at == "/" ? "/" + c : at + "/" + c;
        struct stat st {};
        if (::lstat(next.c_str(), &st) != 0) {
            rec.note(next, errno);  // an odd error leaves a directory out: no snapshot then
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            out.insert(next);
            char target[PATH_MAX];
            const ssize_t n = ::readlink(next.c_str(), target, sizeof target - 1);
            if (n <= 0) {
                rec.note(next, n < 0 ? errno : EIO);
                return;
            }
            if (++hops > kMaxHops) {
                return;  // the build's own lookup ended here too (ELOOP)
            }
            const std::string t(target, static_cast<size_t>(n));
            if (t[0] == '/') {
                at = "/";
            }
            auto parts = util::split_path(t);
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
                todo.push_back(std::move(*it));
            }
            continue;
        }
        at = next;
        out.insert(at);
    }
}

// The witnesses of what `rec` noted: a lookup depends on the directories it walked through (its
// parent, resolved), and on itself when it is a symlink; a followed path on its whole walk.
std::set<std::string> witnesses_of(deny_list::Recorder& rec) {
    std::set<std::string> out;
    std::set<std::string> done;
    for (const auto& p : rec.asked) {
        if (!done.insert("a" + p).second) {
            continue;
        }
        walk(parent_of(p), out, rec);
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) {
            rec.note(p, errno);
        } else if (S_ISLNK(st.st_mode)) {
            out.insert(p);
        }
    }
    for (const auto& p : rec.followed) {
        if (done.insert("f" + p).second) {
            walk(p, out, rec);
        }
    }
    return out;
}

// All of `data` to `fd` (a pipe the parent reads while the child writes).
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

// Every byte of `fd` up to `max`, within `millis`. Errors: kInternal (also "timed out").
Result<std::string> read_child(int fd, size_t max, int64_t millis) {
    std::string out;
    char buf[65536];
    const auto mono_ms = []() {
        timespec ts{};
        (void)::clock_gettime(CLOCK_MONOTONIC, &ts);  // a clock step neither stretches nor cuts it
        return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
    };
    const int64_t until = mono_ms() + millis;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int64_t left_ms = until - mono_ms();
        const int ready = left_ms > 0 ? ::poll(&p, 1, static_cast<int>(left_ms)) : 0;
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            return make_error(ErrorCode::kInternal, "deny snapshot: timed out (a file system that does not answer?)");
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return sys_error(ErrorCode::kInternal, "deny snapshot: read", errno);
        }
        if (n == 0) {
            return out;
        }
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > max) {
            return make_error(ErrorCode::kInternal, "deny snapshot: too large");
        }
    }
}

// The credentials sshd gives `account`: its uid and gid from /etc/passwd, its groups from
// /etc/group (initgroups(3) with the files source). Errors: kPolicyInvalid.
Result<Creds> account_creds(const std::string& account) {
    const auto passwd = sys::read_small_file("/etc/passwd", 64 << 20);
    const auto group = sys::read_small_file("/etc/group", 64 << 20);
    if (!passwd || !group) {
        return make_error(ErrorCode::kPolicyInvalid, "/etc/passwd or /etc/group cannot be read");
    }
    const auto ids = util::passwd_ids(*passwd, account);
    if (!ids) {
        return make_error(ErrorCode::kPolicyInvalid, "no account '" + account + "' in /etc/passwd");
    }
    // Root keeps its capabilities (its snapshot is taken in-process, with the caller's); any
    // other account has none after the switch.
    Creds c{ids->first,
            ids->second,
            ids->first,
            ids->second,
            ids->first == 0 ? current_creds().caps : 0,
            current_creds().lsm,  // a uid change keeps it; a request in another context does not match
            util::member_gids(*group, account)};
    c.groups.push_back(ids->second);
    std::sort(c.groups.begin(), c.groups.end());
    c.groups.erase(std::unique(c.groups.begin(), c.groups.end()), c.groups.end());
    return c;
}

// Ok when `path` lies on a file system whose directories date every change (ext4, XFS, Btrfs,
// F2FS, ZFS, tmpfs and devtmpfs, each with this host's clock), is not encrypted (an fscrypt
// directory shows other names once its key is added, and no time moves), and its ctime is not at
// the 32-bit limit (where later changes keep the same clamped time). /proc and /sys themselves
// are witnesses of the names below them the build looks up, which never change. Errors:
// kPolicyInvalid naming the path.
Status dated(const std::string& path) {
    const int fd = ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR || err == EACCES || err == EPERM || err == ELOOP) {
            return ok_status();  // absent or hidden: its directory, a witness too, dates it
        }
        return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: " + path + ": " + std::strerror(err));
    }
    struct statfs fs {};
    struct statx sx {};
    const bool got =
        ::fstatfs(fd, &fs) == 0 && ::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0;
    ::close(fd);
    const auto type = static_cast<uint64_t>(fs.f_type);
    const bool pseudo_root = (path == "/proc" && type == PROC_SUPER_MAGIC) || (path == "/sys" && type == SYSFS_MAGIC);
    const bool dating = type == EXT4_SUPER_MAGIC || type == XFS_SUPER_MAGIC || type == BTRFS_SUPER_MAGIC ||
                        type == F2FS_SUPER_MAGIC || type == kZfsMagic || type == TMPFS_MAGIC;
    if (!got || !(dating || pseudo_root)) {
        return make_error(ErrorCode::kPolicyInvalid,
                          "deny snapshot: " + path + " is on a file system whose directory times are not relied on");
    }
    if ((sx.stx_attributes_mask & STATX_ATTR_ENCRYPTED) != 0 && (sx.stx_attributes & STATX_ATTR_ENCRYPTED) != 0) {
        return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: " + path + " is encrypted (fscrypt)");
    }
    if (sx.stx_ctime.tv_sec >= INT32_MAX - 1) {
        return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: " + path + " has a ctime at the 32-bit limit");
    }
    return ok_status();
}

// The list built with the caller's credentials and its witnesses, settled or not.
Result<Snapshot> take_unchecked(const std::vector<policy::DenyWritten>& raw) {
    Snapshot s;
    s.started_ns = coarse_now();
    s.creds = current_creds();
    deny_list::Recorder rec;
    DIAG_TRY_ASSIGN(s.deny, deny_list::build_deny(raw, &rec));
    s.mounts = rec.mounts;  // hashed once the witnesses are known (mount_key)
    const std::set<std::string> witnesses = witnesses_of(rec);
    if (!rec.odd.empty()) {
        return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: the build met " + rec.odd);
    }
    for (const auto& path : witnesses) {
        // Below /proc a symlink's target is the reader's own (/proc/self, a process's cwd or
        // root) and entries come and go without a directory's ctime moving; /sys likewise keeps
        // no dates: an answer found there is not one a later request would get.
        if (path != "/proc" && path != "/sys" && deny_list::is_pseudo_fs_path(path)) {
            return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: a deny entry resolves through " + path +
                                                             ", whose answers depend on the process and are not dated");
        }
        DIAG_TRY(dated(path));
        s.witnesses.push_back(identity(path));
    }
    // A listing below /proc or /sys (their directories keep no dates) would be kept stale.
    for (const auto& [dir, entries] : s.deny.listings) {
        if (deny_list::is_pseudo_fs_path(dir)) {
            return make_error(ErrorCode::kPolicyInvalid,
                              "deny snapshot: a deny entry lists " + dir + ", which keeps no dates");
        }
    }
    s.runtime_apart = runtime_apart(s.deny, s.witnesses);
    s.mounts_sha256 = sha256_raw(mount_key(s.mounts, s.runtime_apart));
    return s;
}

// Ok when every witness of `s` is settled by `settle_ns`; else "unsettled" naming one.
Status check_settled(const Snapshot& s, int64_t settle_ns) { return settled(s.witnesses, s.started_ns, settle_ns); }

// take(), and once more after the newest witness has settled when that is at most `settle_ns`
// away (a compile runs right after a package or an activation changed /etc).
Result<Snapshot> take_settled(const std::vector<policy::DenyWritten>& raw, int64_t settle_ns) {
    DIAG_TRY_ASSIGN(Snapshot s, take_unchecked(raw));
    if (check_settled(s, settle_ns).ok()) {
        return s;
    }
    int64_t newest = 0;
    for (const auto& w : s.witnesses) {
        newest = w.err == 0 ? std::max(newest, w.ctime_ns) : newest;
    }
    const int64_t wait = std::min(newest + settle_ns + 1 - coarse_now(), settle_ns + 1);
    if (wait > 0) {
        timespec ts{static_cast<time_t>(wait / kNsPerSec), static_cast<long>(wait % kNsPerSec)};
        while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    DIAG_TRY_ASSIGN(s, take_unchecked(raw));
    DIAG_TRY(check_settled(s, settle_ns));
    return s;
}

}  // namespace

Result<Snapshot> take(const std::vector<policy::DenyWritten>& raw, int64_t settle_ns) {
    DIAG_TRY_ASSIGN(Snapshot s, take_unchecked(raw));
    DIAG_TRY(check_settled(s, settle_ns));
    return s;
}

Result<std::string> take_as(const std::vector<policy::DenyWritten>& raw, const std::string& account,
                            int64_t settle_ns) {
    if (account.empty()) {
        return make_error(ErrorCode::kPolicyInvalid, "settings.account is not set");
    }
    DIAG_TRY_ASSIGN(const Creds want, account_creds(account));
    if (current_creds() == want) {
        DIAG_TRY_ASSIGN(const Snapshot s, take_settled(raw, settle_ns));
        return encode(s);
    }
    if (::geteuid() != 0) {
        return make_error(ErrorCode::kPolicyInvalid, "only root can take it as '" + account + "'");
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return sys_error(ErrorCode::kInternal, "deny snapshot: pipe2", errno);
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return sys_error(ErrorCode::kInternal, "deny snapshot: fork", errno);
    }
    if (pid == 0) {
        // The account's credentials, exactly, or nothing: a snapshot taken with others would
        // not match a request's and would never be used, or worse, be used with other answers.
        ::close(fds[0]);
        // A keyring of its own, empty, as a login's: root's session keys (fscrypt v1, network
        // file systems' credentials) must not show the build what a request could not see.
        constexpr long kJoinSessionKeyring = 1;  // KEYCTL_JOIN_SESSION_KEYRING
        // ENOSYS: a kernel without keyrings has no keys to hide.
        if (::syscall(SYS_keyctl, kJoinSessionKeyring, nullptr) < 0 && errno != ENOSYS) {
            (void)write_all(fds[1], "Edeny snapshot: no keyring of its own for the build");
            ::_exit(1);
        }
        std::vector<gid_t> groups(want.groups.begin(), want.groups.end());
        if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(want.gid, want.gid, want.gid) != 0 ||
            ::setresuid(want.uid, want.uid, want.uid) != 0 || !(current_creds() == want)) {
            ::_exit(3);
        }
        // Bounded like a request's build: a directory another account fills, a deep chain.
        deadline::start(deadline::kDefaultMillis / 2);
        auto s = take_settled(raw, settle_ns);
        if (!s.ok()) {
            const std::string why = s.error().msg;
            (void)write_all(fds[1], "E" + why);
            ::_exit(1);
        }
        ::_exit(write_all(fds[1], "S" + encode(*s)) ? 0 : 2);
    }
    ::close(fds[1]);
    auto bytes = read_child(fds[0], kMaxSnapshotBytes, kChildMillis);
    ::close(fds[0]);
    if (!bytes.ok()) {
        ::kill(pid, SIGKILL);  // a build stuck on a hung file system (NFS, FUSE) or stopped
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!bytes.ok()) {
        return std::move(bytes).error();
    }
    if (!bytes->empty() && (*bytes)[0] == 'E') {
        return make_error(ErrorCode::kPolicyInvalid, bytes->substr(1));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || bytes->empty() || (*bytes)[0] != 'S') {
        return make_error(ErrorCode::kInternal, "deny snapshot: the child taking it as '" + account + "' failed");
    }
    return bytes->substr(1);
}

}  // namespace diag::deny_snapshot
