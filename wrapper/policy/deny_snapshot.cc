// SPDX-License-Identifier: Apache-2.0
// The deny list's snapshot: taken by --compile as the policy's account, used by a request only
// while every witness is unchanged (see deny_snapshot.h, adr/0027).
#include "wrapper/policy/deny_snapshot.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <linux/capability.h>
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
#include <map>
#include <set>

#include "wrapper/base/deadline.h"
#include "wrapper/base/mountinfo.h"
#include "wrapper/base/parse.h"
#include "wrapper/base/passwd.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/deny_glob.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/policy/deny_match.h"
#include "wrapper/policy/image_codec.h"

namespace diag::deny_snapshot {

namespace {

constexpr int kMaxHops = 40;                            // as the kernel's MAXSYMLINKS
constexpr size_t kMaxSnapshotBytes = 16 * 1024 * 1024;  // what the compile reads from its child
constexpr int64_t kNsPerSec = 1'000'000'000;
// How long --compile waits for the child taking the snapshot (two builds and one settle wait
// take well under 3 s); then it has none, and the compile goes on.
constexpr int64_t kChildMillis = 10'000;
constexpr uint64_t kZfsMagic = 0x2fc12fc1;  // not in linux/magic.h

Error malformed() { return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: malformed"); }
Error not_current(const std::string& why) {
    return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: not current: " + why);
}

int64_t ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * kNsPerSec + t.tv_nsec; }

int64_t coarse_now() {
    timespec ts{};
    (void)::clock_gettime(CLOCK_REALTIME_COARSE, &ts);  // the clock ctimes are stamped from
    return ns(ts);
}

Witness identity(const std::string& path) {
    Witness w;
    w.path = path;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        w.err = errno;
        return w;
    }
    w.dev = st.st_dev;
    w.ino = st.st_ino;
    w.mode = st.st_mode;
    w.uid = st.st_uid;
    w.gid = st.st_gid;
    w.mtime_ns = ns(st.st_mtim);
    w.ctime_ns = ns(st.st_ctim);
    return w;
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

// The newest ctime of the witnesses that exist, or the first witness not settled by `limit`.
const Witness* unsettled(const std::vector<Witness>& ws, int64_t limit) {
    for (const auto& w : ws) {
        if (w.err == 0 && w.ctime_ns > limit) {
            return &w;
        }
    }
    return nullptr;
}

bool settle_limit(int64_t started_ns, int64_t settle_ns, int64_t& limit) {
    return !__builtin_sub_overflow(started_ns, settle_ns, &limit);
}

void encode_deny(image_codec::Writer& w, const policy::Deny& d) {
    w.u64(d.entries.size());
    for (const auto& e : d.entries) {
        w.str(e.pattern);
        w.str(e.origin);
        w.u8(e.kernel_guarded ? 1 : 0);
    }
    w.u64(d.objects.size());
    for (const auto& [id, path] : d.objects) {
        w.u64(id.first);
        w.u64(id.second);
        w.str(path);
    }
    for (const auto* list : {&d.unexpanded, &d.mount_points}) {
        w.u64(list->size());
        for (const auto& [path, dev] : *list) {
            w.str(path);
            w.u64(dev);
        }
    }
    w.u64(d.listings.size());
    for (const auto& [dir, entries] : d.listings) {
        w.str(dir);
        w.u64(entries.size());
        for (const auto& [name, type] : entries) {
            w.str(name);
            w.u8(type);
        }
    }
}

// The entries in order through add_deny_entry, which builds the indexes as the build did; the
// objects and the lists as recorded.
void decode_deny(image_codec::Reader& r, policy::Deny& d) {
    for (size_t n = r.count(); n > 0 && r.ok(); --n) {
        std::string pattern = r.str();
        std::string origin = r.str();
        const bool guarded = r.below(2) == 1;
        if (!r.ok()) {
            return;
        }
        const size_t before = d.entries.size();
        deny_list::add_deny_entry(d, pattern, origin, guarded);
        if (d.entries.size() != before + 1) {
            r.fail();  // a duplicate: not what a build writes
        }
    }
    for (size_t n = r.count(); n > 0 && r.ok(); --n) {
        const uint64_t dev = r.u64();
        const uint64_t ino = r.u64();
        // In the map's order, each once: the only encoding of the map, so bytes that decode
        // encode back to themselves.
        const auto id = std::make_pair(static_cast<dev_t>(dev), static_cast<ino_t>(ino));
        if (!d.objects.empty() && !(d.objects.rbegin()->first < id)) {
            r.fail();
            return;
        }
        d.objects.emplace_hint(d.objects.end(), id, r.str());
    }
    for (auto* list : {&d.unexpanded, &d.mount_points}) {
        for (size_t n = r.count(); n > 0 && r.ok(); --n) {
            std::string path = r.str();
            list->emplace_back(std::move(path), static_cast<dev_t>(r.u64()));
        }
    }
    // The directories the build listed: each is a witness (opendir follows its whole path), so
    // while the snapshot is current each holds these very entries, of these types.
    for (size_t n = r.count(); n > 0 && r.ok(); --n) {
        std::string dir = r.str();
        if (!d.listings.empty() && !(d.listings.rbegin()->first < dir)) {
            r.fail();  // the map's order, each once (see the objects above)
            return;
        }
        policy::Listing entries;
        for (size_t k = r.count(); k > 0 && r.ok(); --k) {
            std::string name = r.str();
            entries.emplace_back(std::move(name), r.u8());
        }
        d.listings.emplace_hint(d.listings.end(), std::move(dir), std::move(entries));
    }
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
Status check_settled(const Snapshot& s, int64_t settle_ns) {
    int64_t limit = 0;
    if (!settle_limit(s.started_ns, settle_ns, limit)) {
        return make_error(ErrorCode::kInternal, "deny snapshot: unsettled: the clock");
    }
    if (const Witness* w = unsettled(s.witnesses, limit)) {
        return make_error(ErrorCode::kInternal, "deny snapshot: unsettled: " + w->path + " changed just before");
    }
    return ok_status();
}

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

// The effective capability set (capget(2), 64 bits); all bits set when it cannot be read, which
// no process that took a snapshot has unless it really had them all.
uint64_t effective_caps() {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) {
        return ~uint64_t{0};
    }
    return uint64_t{data[0].effective} | (uint64_t{data[1].effective} << 32);
}

// The LSM context this process runs in (SELinux, AppArmor, Smack: what they let it look up
// differs by context); empty when none is reported.
std::string lsm_context() { return sys::read_small_file("/proc/self/attr/current", 4096).value_or(""); }

}  // namespace

Creds current_creds() {
    Creds c{static_cast<uint32_t>(::getuid()),
            static_cast<uint32_t>(::getgid()),
            static_cast<uint32_t>(::geteuid()),
            static_cast<uint32_t>(::getegid()),
            effective_caps(),
            lsm_context(),
            {}};
    const int n = ::getgroups(0, nullptr);
    if (n > 0) {
        std::vector<gid_t> g(static_cast<size_t>(n));
        const int got = ::getgroups(n, g.data());
        g.resize(got > 0 ? static_cast<size_t>(got) : 0);
        c.groups.assign(g.begin(), g.end());
    }
    c.groups.push_back(c.gid);  // initgroups lists the primary group; a bare setgid may not
    std::sort(c.groups.begin(), c.groups.end());
    c.groups.erase(std::unique(c.groups.begin(), c.groups.end()), c.groups.end());
    return c;
}

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

std::string encode(const Snapshot& s) {
    image_codec::Writer w;
    w.u64(static_cast<uint64_t>(s.started_ns));
    w.u64(s.creds.uid);
    w.u64(s.creds.gid);
    w.u64(s.creds.euid);
    w.u64(s.creds.egid);
    w.u64(s.creds.caps);
    w.str(s.creds.lsm);
    w.u64(s.creds.groups.size());
    for (const uint32_t g : s.creds.groups) {
        w.u64(g);
    }
    w.str(s.mounts_sha256);
    w.u8(s.runtime_apart ? 1 : 0);
    w.u64(s.witnesses.size());
    for (const auto& x : s.witnesses) {
        w.str(x.path);
        for (const uint64_t v :
             {static_cast<uint64_t>(static_cast<uint32_t>(x.err)), x.dev, x.ino, uint64_t{x.mode}, uint64_t{x.uid},
              uint64_t{x.gid}, static_cast<uint64_t>(x.mtime_ns), static_cast<uint64_t>(x.ctime_ns)}) {
            w.u64(v);
        }
    }
    encode_deny(w, s.deny);
    return w.bytes();
}

Result<Snapshot> decode(std::string_view bytes) {
    image_codec::Reader r(bytes);
    Snapshot s;
    auto u32 = [&r]() {
        const uint64_t v = r.u64();
        if (v > UINT32_MAX) {
            r.fail();
        }
        return static_cast<uint32_t>(v);
    };
    s.started_ns = static_cast<int64_t>(r.u64());
    s.creds.uid = u32();
    s.creds.gid = u32();
    s.creds.euid = u32();
    s.creds.egid = u32();
    s.creds.caps = r.u64();
    s.creds.lsm = r.str();
    for (size_t n = r.count(); n > 0 && r.ok(); --n) {
        const uint32_t g = u32();
        if (!s.creds.groups.empty() && g <= s.creds.groups.back()) {
            return malformed();  // sorted, without duplicates, as recorded
        }
        s.creds.groups.push_back(g);
    }
    s.mounts_sha256 = r.str();
    s.runtime_apart = r.below(2) == 1;
    // Each witness takes its eight u64 fields and a string's length (72 bytes): a count the bytes
    // left cannot hold is refused before anything is allocated for it.
    const size_t n = r.count();
    if (n > r.left() / 72) {
        return malformed();
    }
    s.witnesses.resize(n);
    for (auto& x : s.witnesses) {
        x.path = r.str();
        x.err = static_cast<int32_t>(u32());
        x.dev = r.u64();
        x.ino = r.u64();
        x.mode = u32();
        x.uid = u32();
        x.gid = u32();
        x.mtime_ns = static_cast<int64_t>(r.u64());
        x.ctime_ns = static_cast<int64_t>(r.u64());
    }
    decode_deny(r, s.deny);
    if (!r.done() || s.mounts_sha256.size() != 32 || s.witnesses.empty()) {
        return malformed();
    }
    return s;
}

Result<policy::Deny> restore(std::string_view bytes, int64_t settle_ns) {
    DIAG_TRY_ASSIGN(Snapshot s, decode(bytes));
    if (!(s.creds == current_creds())) {
        return not_current("taken for uid " + std::to_string(s.creds.uid) + " with other groups or ids");
    }
    int64_t limit = 0;
    if (!settle_limit(s.started_ns, settle_ns, limit)) {
        return not_current("its start is out of range");
    }
    if (const Witness* w = unsettled(s.witnesses, limit)) {
        return not_current(w->path + " was not settled when it was taken");
    }
    const auto table = sys::read_small_file("/proc/self/mountinfo", mountinfo::kMaxMountTableBytes);
    if (!table || sha256_raw(mount_key(*table, s.runtime_apart)) != s.mounts_sha256) {
        return not_current("the mount table changed");
    }
    for (const auto& w : s.witnesses) {
        if (!(identity(w.path) == w)) {
            return not_current(w.path + " changed");
        }
    }
    return std::move(s.deny);
}

std::string mount_key(std::string_view table, bool apart) {
    if (!apart) {
        return std::string(table);
    }
    std::vector<std::string_view> lines;
    std::map<std::string_view, int> per_device;  // mounts showing each device ("major:minor")
    for (std::string_view rest = table; !rest.empty();) {
        const size_t nl = rest.find('\n');
        lines.push_back(rest.substr(0, nl == std::string_view::npos ? rest.size() : nl + 1));
        rest.remove_prefix(lines.back().size());
        if (const auto f = util::fields(lines.back()); f.size() >= 3) {
            ++per_device[f[2]];
        }
    }
    std::string out;
    for (const std::string_view line : lines) {
        // "id parent major:minor root mount-point options [optional...] - fstype source super":
        // the separator is the first "-" after the options.
        const auto f = util::fields(line);
        const auto dash = f.size() > 6 ? std::find(f.begin() + 6, f.end(), "-") : f.end();
        const bool runtime = dash != f.end() && dash + 1 != f.end() && *(dash + 1) == "tmpfs" && f[3] == "/" &&
                             f[4].size() > 10 && f[4].substr(0, 10) == "/run/user/" &&
                             f[4].find_first_not_of("0123456789", 10) == std::string_view::npos &&
                             per_device[f[2]] == 1;  // a device no other mount shows: no alias
        if (!runtime) {
            out += line;
        }
    }
    return out;
}

bool runtime_apart(const policy::Deny& deny, const std::vector<Witness>& witnesses) {
    const std::vector<std::string> place = {"run", "user"};
    for (const auto& e : deny.entries) {
        const auto comps = util::split_path(e.pattern);
        // Reaches /run/user when its first components can match "run" and "user" (below), or
        // it ends before them and matches what it has (above).
        bool reaches = true;
        for (size_t i = 0; i < comps.size() && i < place.size(); ++i) {
            reaches = reaches && ::fnmatch(comps[i].c_str(), place[i].c_str(), 0) == 0;
        }
        if (reaches) {
            return false;
        }
    }
    return std::none_of(witnesses.begin(), witnesses.end(),
                        [](const Witness& w) { return util::path_within(w.path, "/run/user"); });
}

std::string describe(std::string_view bytes) {
    if (bytes.empty()) {
        return "none (requests build the deny list)";
    }
    auto s = decode(bytes);
    if (!s.ok()) {
        return "malformed (requests build the deny list)";
    }
    return "taken for uid " + std::to_string(s->creds.uid) + " (" + std::to_string(s->witnesses.size()) +
           " witnesses, " + std::to_string(s->deny.entries.size()) +
           " entries); requests of that account use it while its witnesses are unchanged";
}

}  // namespace diag::deny_snapshot
