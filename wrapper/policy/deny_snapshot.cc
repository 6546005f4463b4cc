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

constexpr int64_t kNsPerSec = 1'000'000'000;

Error malformed() { return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: malformed"); }
Error not_current(const std::string& why) {
    return make_error(ErrorCode::kPolicyInvalid, "deny snapshot: not current: " + why);
}

int64_t ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * kNsPerSec + t.tv_nsec; }

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
    // The indexes sized once (a count is never more than the bytes left): no rehash per entry.
    const size_t count = r.count();
    d.entries.reserve(count);
    d.exact.reserve(count);
    d.ancestors.reserve(count);
    d.unguarded_ancestors.reserve(count);
    for (size_t n = count; n > 0 && r.ok(); --n) {
        std::string pattern = r.str();
        std::string origin = r.str();
        const bool guarded = r.below(2) == 1;
        if (!r.ok()) {
            return;
        }
        const size_t before = d.entries.size();
        deny_list::add_deny_entry(d, std::move(pattern), std::move(origin), guarded);
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

Status settled(const std::vector<Witness>& ws, int64_t started_ns, int64_t settle_ns) {
    int64_t limit = 0;  // the newest ctime a settled witness may have
    if (__builtin_sub_overflow(started_ns, settle_ns, &limit)) {
        return make_error(ErrorCode::kInternal, "deny snapshot: unsettled: the clock");
    }
    for (const auto& w : ws) {
        if (w.err == 0 && w.ctime_ns > limit) {
            return make_error(ErrorCode::kInternal, "deny snapshot: unsettled: " + w.path + " changed just before");
        }
    }
    return ok_status();
}

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
    if (auto st = settled(s.witnesses, s.started_ns, settle_ns); !st.ok()) {
        return not_current("not settled when it was taken (" + st.error().msg + ")");
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
