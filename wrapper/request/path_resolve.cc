// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/path_resolve.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <optional>

#include "wrapper/base/deadline.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/parse.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/text_safety.h"

namespace diag::path_resolve {

namespace {

using policy::Deny;
using policy::DenyEntry;
using policy::DenyGlob;


// Whether the symlinks on the way to `path` (a glob match: its components come from directory
// listings, some of them another account's) may decide what the match denies. A symlink another
// account owns could point anywhere: `~/.ssh -> /` would deny every path to every request. So
// one owned by a user other than root counts only when that user also owns what it points to
// (`~/.ssh -> ~/dotfiles/ssh`); otherwise only the match's own name stays denied, by the pattern.
bool symlinks_trusted(const std::string& path) {
    std::string here;
    for (const auto& c : util::split_path(path)) {
        here += "/" + c;
        struct stat lst {};
        if (::lstat(here.c_str(), &lst) != 0) {
            return true;  // the rest does not exist (or cannot be seen): nothing to follow
        }
        if (!S_ISLNK(lst.st_mode) || lst.st_uid == 0) {
            continue;
        }
        struct stat tst {};
        if (::stat(here.c_str(), &tst) != 0) {
            return true;  // dangling: the name is all there is
        }
        if (tst.st_uid != lst.st_uid) {
            return false;
        }
    }
    return true;
}

// Longest existing prefix resolved with realpath(3), the rest appended lexically.
std::string canonicalize_lenient(const std::string& path) {
    auto comps = util::split_path(path);
    for (size_t n = comps.size();; --n) {
        auto real = sys::real_path(util::join_path(comps, n), ErrorCode::kPolicyInvalid);
        if (real.ok()) {
            std::string out = *real;
            for (size_t i = n; i < comps.size(); ++i) {
                out += (out == "/" ? "" : "/") + comps[i];
            }
            return out;
        }
        if (n == 0) {
            return path;
        }
    }
}

std::string decode_mountinfo(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const std::string oct = s.substr(i + 1, 3);
            if (oct.size() == 3 && oct.find_first_not_of("01234567") == std::string::npos) {
                out += static_cast<char>(std::stoi(oct, nullptr, 8));
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

struct Mount {
    std::string dev;    // "major:minor"
    std::string root;   // path inside the filesystem
    std::string point;  // mount point
    std::string id;     // mount id, and the id of the mount it is mounted on
    std::string parent;
};

// The whole mount table or an error: a table cut short would hide bind mounts of denied paths
// (fail open), so a table that cannot be read whole refuses the request.
Result<std::vector<Mount>> read_mounts() {
    std::vector<Mount> out;
    const auto table = sys::read_small_file("/proc/self/mountinfo", kMaxMountTableBytes);
    if (!table) {
        return make_error(ErrorCode::kPolicyInvalid, "/proc/self/mountinfo: cannot be read whole (missing, or larger than " +
                                                         std::to_string(kMaxMountTableBytes) + " bytes)");
    }
    const std::string& text = *table;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        // "id parent major:minor root mount-point options ..."
        const auto f = util::fields(std::string_view(text).substr(start, end - start));
        if (f.size() >= 5) {
            out.push_back({std::string(f[2]), decode_mountinfo(std::string(f[3])), decode_mountinfo(std::string(f[4])),
                           std::string(f[0]), std::string(f[1])});
        }
        start = end + 1;
    }
    return out;
}

std::string rebase(const std::string& path, const std::string& from, const std::string& to) {
    // path is within `from`; returns the same relative location under `to`.
    std::string rest = path.substr(from == "/" ? 0 : from.size());
    if (to == "/") {
        return rest.empty() ? "/" : rest;
    }
    return to + rest;
}

// Bind-mount aliases of an existing canonical path (confinement.md 1.2 step 2): the same object
// seen through every other mount of the same filesystem.
// The mount a path lookup of `path` ends in, as the kernel walks it: from the mount at "/", into
// the child mount on the shallowest directory of the path (a mount on /a hides an older one on
// /a/b), the most recent of those stacked on the same place, and so on down. Falls back to the
// longest mount point containing the path when the parent links do not make a tree.
const Mount* visible_mount(const std::string& path, const std::vector<Mount>& mounts) {
    const Mount* cur = nullptr;
    for (const auto& m : mounts) {
        // The root: the last mount on "/" whose parent is not a mount on "/" below it in the list.
        if (m.point == "/" && (cur == nullptr || m.parent == cur->id)) {
            cur = &m;
        }
    }
    for (size_t depth = 0; cur != nullptr && depth <= mounts.size(); ++depth) {
        const Mount* next = nullptr;
        for (const auto& m : mounts) {
            if (&m == cur || m.parent != cur->id || !util::path_within(path, m.point)) {
                continue;
            }
            if (next == nullptr || m.point.size() <= next->point.size()) {
                next = &m;  // shallowest; the later of equal ones
            }
        }
        if (next == nullptr) {
            return cur;
        }
        cur = next;
    }
    const Mount* home = nullptr;
    for (const auto& m : mounts) {
        if (util::path_within(path, m.point) && (home == nullptr || m.point.size() >= home->point.size())) {
            home = &m;
        }
    }
    return home;
}

std::vector<std::string> mount_aliases(const std::string& path, const std::vector<Mount>& mounts) {
    const Mount* home = visible_mount(path, mounts);
    std::vector<std::string> out;
    if (home == nullptr) {
        return out;
    }
    const std::string rel = rebase(path, home->point, home->root);
    for (const auto& m : mounts) {
        if (&m == home || m.dev != home->dev) {
            continue;
        }
        if (util::path_within(rel, m.root)) {
            out.push_back(rebase(rel, m.root, m.point));
        } else if (util::path_within(m.root, rel)) {
            out.push_back(m.point);  // the whole mount lies inside the denied object
        }
    }
    return out;
}

// Where else the places `pattern` (canonical, globs allowed within components) names are shown:
// for every mount whose point matches a prefix of the pattern, the rest of the pattern under
// every other mount of the same file system that shows that place, or the whole of a mount that
// shows a place inside a match. For patterns the expansion could not see: it has no paths to ask
// mount_aliases about. Hidden (over-mounted) mounts count too: more is denied, never less.
std::vector<std::string> pattern_aliases(const std::string& pattern, const std::vector<Mount>& mounts) {
    const auto comps = util::split_path(pattern);
    // True when the literal components `lit` match the pattern components `pat` one by one.
    auto matches = [](const std::vector<std::string>& pat, size_t pat_from, const std::vector<std::string>& lit, size_t n) {
        for (size_t i = 0; i < n; ++i) {
            if (::fnmatch(pat[pat_from + i].c_str(), lit[i].c_str(), 0) != 0) {
                return false;
            }
        }
        return true;
    };
    std::vector<std::string> out;
    for (const auto& m : mounts) {
        const auto point = util::split_path(m.point);
        if (point.size() > comps.size() || !matches(comps, 0, point, point.size())) {
            continue;
        }
        // The pattern inside this file system: the mount's root (literal), then the rest.
        std::vector<std::string> rel;
        for (const auto& c : util::split_path(m.root)) {
            rel.push_back(util::glob_escape(c));
        }
        rel.insert(rel.end(), comps.begin() + static_cast<long>(point.size()), comps.end());
        for (const auto& h : mounts) {
            if (&h == &m || h.dev != m.dev) {
                continue;
            }
            const auto root = util::split_path(h.root);
            if (root.size() <= rel.size() && matches(rel, 0, root, root.size())) {
                std::string alias = util::glob_escape(h.point);
                for (size_t i = root.size(); i < rel.size(); ++i) {
                    alias += (alias == "/" ? "" : "/") + rel[i];
                }
                out.push_back(alias);
            } else if (root.size() > rel.size() && matches(rel, 0, root, rel.size())) {
                out.push_back(util::glob_escape(h.point));  // the whole mount shows a place inside a match
            }
        }
    }
    return out;
}

dev_t mount_device(const Mount& m) {
    const size_t colon = m.dev.find(':');
    const auto major_no = util::parse_int(std::string_view(m.dev).substr(0, colon));
    const auto minor_no = colon == std::string::npos ? std::nullopt : util::parse_int(std::string_view(m.dev).substr(colon + 1));
    return major_no && minor_no ? makedev(static_cast<unsigned>(*major_no), static_cast<unsigned>(*minor_no)) : 0;
}

// `path` could not be looked at (EACCES/EPERM on the way): whatever is there is unknown to us.
// The hard-link check must then not clear multiply-linked files on the device of the nearest
// ancestor we can see, nor on the device of any mount below that ancestor (a file system mounted
// under the hidden directory is another device).
void note_unseen(const std::string& path, std::vector<std::pair<std::string, dev_t>>& unexpanded,
                 const std::vector<Mount>& mounts) {
    std::string up = path;
    struct stat st {};
    do {
        up = up.substr(0, std::max<size_t>(up.rfind('/'), 1));
    } while (up != "/" && ::stat(up.c_str(), &st) != 0);
    if (::stat(up.c_str(), &st) == 0) {
        unexpanded.emplace_back(up, st.st_dev);
    }
    for (const auto& m : mounts) {
        if (util::path_within(m.point, up) && m.point != up) {
            if (const dev_t dev = mount_device(m); dev != 0) {
                unexpanded.emplace_back(m.point, dev);
            }
        }
    }
}

// A place (a pattern: literal parts escaped) this user cannot look at: itself and the same place
// under every other mount that shows it (a 0711 /home bound from /persist/home, or bound again
// elsewhere), each noted unseen for the hard-link check. The caller denies them by name.
std::vector<std::string> unseen_places(const std::string& pattern, std::vector<std::pair<std::string, dev_t>>& unexpanded,
                                       const std::vector<Mount>& mounts) {
    std::vector<std::string> out = pattern_aliases(pattern, mounts);
    out.insert(out.begin(), pattern);
    for (const auto& p : out) {
        note_unseen(p, unexpanded, mounts);
    }
    return out;
}

void add_object(Deny& deny, const std::string& canonical, const std::string& origin,
                const std::vector<Mount>& mounts, bool kernel_guarded) {
    struct stat st {};
    if (::stat(canonical.c_str(), &st) != 0) {
        if (errno == EACCES || errno == EPERM) {
            // Unseen, so no inode to compare: denied by name wherever a mount shows the same place.
            for (const auto& p : unseen_places(util::glob_escape(canonical), deny.unexpanded, mounts)) {
                add_deny_entry(deny, p, origin + " (where this user cannot look)", kernel_guarded);
            }
        }
        return;
    }
    add_deny_entry(deny, util::glob_escape(canonical), origin, kernel_guarded);
    if (deny.objects.emplace(std::make_pair(st.st_dev, st.st_ino), canonical).second) {
        // A bind mount of a device is the same device: its driver checks the same capability.
        for (const auto& alias : mount_aliases(canonical, mounts)) {
            add_deny_entry(deny, util::glob_escape(alias), origin + " (bind mount of " + canonical + ")", kernel_guarded);
        }
    }
}

// Built-in devices whose driver refuses open(2) without CAP_SYS_RAWIO (drivers/char/mem.c
// open_port), whatever their mode; /dev/kmem is gone since 5.13 (same check before). Only when
// the path is that driver's node (char 1:1, 1:2, 1:4) or absent (only root can make one): a
// regular file there is an ordinary denied file.
bool raw_io_device(const std::string& path) {
    const bool named = path == "/dev/mem" || path == "/dev/kmem" || path == "/dev/port";
    if (!named) {
        return false;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return errno == ENOENT;
    }
    const unsigned minor_no = minor(st.st_rdev);
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && (minor_no == 1 || minor_no == 2 || minor_no == 4);
}

bool on_procfs(int fd) {
    struct statfs sfs {};
    return ::fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

// FUSE (not in every linux/magic.h): owners and modes are whatever its mounter says.
constexpr long kFuseSuperMagic = 0x65735546;

// Whether some user other than root could replace the name `c` (stat `cst`) in directory `d`
// (stat `dst`, on a file system of type `fstype`) after we checked it: the directory's owner
// can (rename, or chmod and rename), and so can anyone with write access to it (group and other
// write bits; a POSIX ACL granting write shows in the group bits as its mask) unless the sticky
// bit protects an entry that is root's. Read-only mounts do not count: the same directory may be
// writable through another mount.
std::optional<std::string> replaceable_by(const struct stat& dst, const struct stat& cst, long fstype) {
    if (fstype == kFuseSuperMagic) {
        return "is on a FUSE file system, whose owners and modes its mounter decides";
    }
    if (dst.st_uid != 0) {
        return "is in a directory owned by uid " + std::to_string(dst.st_uid) + ", who can rename it";
    }
    const bool sticky = (dst.st_mode & S_ISVTX) != 0;
    if ((dst.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (!sticky || cst.st_uid != 0)) {
        return sticky ? "belongs to uid " + std::to_string(cst.st_uid) + " in a directory others can write"
                      : std::string("is in a directory others can write");
    }
    return std::nullopt;
}

// The first component of `canonical` that a user other than root could replace before the
// child looks the path up again by name (replaceable_by), with the reason; nullopt when only
// root could. Components that are not directories (any more) end the walk as replaceable.
using Why = std::optional<std::string>;
Result<Why> replaceable_component(const std::string& canonical) {
    sys::UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat dst {};
    if (!dir.valid() || ::fstat(dir.get(), &dst) != 0) {
        return Why("/ cannot be examined");
    }
    const auto comps = util::split_path(canonical);
    std::string here;
    for (size_t i = 0; i < comps.size(); ++i) {
        DIAG_TRY(deadline::check("checking who could swap a path argument"));
        // Names on procfs, sysfs and cgroupfs are the kernel's: nothing below can be renamed
        // (/proc/self stays a symlink on purpose, path_resolve keeps it literal).
        struct statfs sfs {};
        if (::fstatfs(dir.get(), &sfs) != 0) {
            return Why((here.empty() ? "/" : here) + " cannot be examined");
        }
        const auto fstype = static_cast<long>(sfs.f_type);
        if (fstype == PROC_SUPER_MAGIC || fstype == SYSFS_MAGIC || fstype == CGROUP2_SUPER_MAGIC ||
            fstype == CGROUP_SUPER_MAGIC) {
            return Why();
        }
        here += "/" + comps[i];
        struct stat cst {};
        if (::fstatat(dir.get(), comps[i].c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0) {
            return Why(here + " changed while it was checked");
        }
        if (auto why = replaceable_by(dst, cst, fstype)) {
            return Why(here + " " + *why);
        }
        if (i + 1 == comps.size()) {
            break;
        }
        sys::UniqueFd next(::openat(dir.get(), comps[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid() || ::fstat(next.get(), &dst) != 0) {
            return Why(here + " changed while it was checked");
        }
        dir = std::move(next);
    }
    return Why();
}

}  // namespace

const std::vector<std::string>& builtin_denies() {
    static const std::vector<std::string> kBuiltin = {
        "/proc/*/environ",        "/proc/*/task/*/environ",   "/proc/*/mem",
        "/proc/*/task/*/mem",     "/proc/*/fd",               "/proc/*/task/*/fd",
        "/proc/*/fdinfo",         "/proc/*/task/*/fdinfo",    "/proc/*/map_files",
        "/proc/*/task/*/map_files", "/proc/*/pagemap",        "/proc/*/task/*/pagemap",
        "/proc/*/syscall",        "/proc/*/task/*/syscall",   "/proc/*/stack",
        "/proc/*/task/*/stack",   "/proc/*/auxv",             "/proc/*/task/*/auxv",
        "/proc/kcore",            "/proc/kmem",               "/proc/sysrq-trigger",
        "/dev/mem",               "/dev/kmem",                "/dev/port",
    };
    return kBuiltin;
}

namespace {

// Every existing path that `comps` (a canonical deny pattern, split) names, matching each glob
// component with fnmatch(3) without FNM_PERIOD, as match_deny does. A directory it cannot read is
// noted in `unexpanded` (the hard-link check then knows it could not look there). Bounded: more
// than kMaxGlobMatches matches or kMaxGlobScan entries read is a policy error.
// What the expansion could not see: the pattern's remainder from there, on the canonical form
// of the part it reached (a component may be a symlink into the hidden directory). It is denied
// by name, so a mount point or an argument that resolves there is refused, and its device is
// unverified for the hard-link check.
struct Unseen {
    std::vector<std::string> patterns;
    std::vector<std::pair<std::string, dev_t>>& unexpanded;
    const std::vector<Mount>& mounts;
    std::map<std::string, policy::Listing>& listings;  // what was read, kept for the Landlock walk
};

void note_unseen_match(const std::string& reached, const std::vector<std::string>& rest, Unseen& unseen) {
    std::string pattern = util::glob_escape(canonicalize_lenient(reached));
    for (const auto& c : rest) {
        pattern += (pattern == "/" ? "" : "/") + c;
    }
    for (auto& p : unseen_places(pattern, unseen.unexpanded, unseen.mounts)) {
        unseen.patterns.push_back(std::move(p));
    }
}

// The entries of `dir`, from `listings` or read and kept there. Null, with errno set, when it
// cannot be opened; null with errno 0 when it has more than `limit` entries (not kept). Errors:
// decision-timeout (any account can fill /tmp, which a deny glob may have to list).
Result<const policy::Listing*> list_dir(std::map<std::string, policy::Listing>& listings, const std::string& dir,
                                size_t limit) {
    if (auto it = listings.find(dir); it != listings.end()) {
        return static_cast<const policy::Listing*>(&it->second);
    }
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        return nullptr;
    }
    policy::Listing entries;
    while (const dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (auto late = deadline::check("listing a directory for a deny pattern"); !late.ok()) {
            ::closedir(d);
            return std::move(late).error();
        }
        if (entries.size() == limit) {
            ::closedir(d);
            errno = 0;
            return nullptr;
        }
        entries.emplace_back(e->d_name, e->d_type);
    }
    ::closedir(d);
    return static_cast<const policy::Listing*>(&listings.emplace(dir, std::move(entries)).first->second);
}

Status expand_pattern(const std::vector<std::string>& comps, size_t i, const std::string& at,
                      std::vector<std::string>& out, Unseen& unseen, size_t& scanned, const RawDeny& r) {
    DIAG_TRY(deadline::check("expanding a deny pattern"));
    if (i == comps.size()) {
        struct stat st {};
        if (::lstat(at.c_str(), &st) != 0) {
            if (errno == EACCES || errno == EPERM) {
                note_unseen_match(at, {}, unseen);  // cannot tell whether it exists
            }
            return ok_status();
        }
        out.push_back(at);
        if (out.size() > kMaxGlobMatches) {
            return make_error(ErrorCode::kPolicyInvalid, r.origin + ": deny entry '" + r.path + "' matches more than " +
                                                             std::to_string(kMaxGlobMatches) + " paths");
        }
        return ok_status();
    }
    const std::string base = at == "/" ? "" : at;
    if (!util::has_glob(comps[i])) {
        return expand_pattern(comps, i + 1, base + "/" + util::glob_unescape(comps[i]), out, unseen, scanned, r);
    }
    auto listed = list_dir(unseen.listings, at, kMaxGlobScan - scanned + 1);
    const int err = errno;  // list_dir's answer when it returns null
    if (!listed.ok()) {
        return std::move(listed).error();
    }
    const policy::Listing* listing = *listed;
    if (listing != nullptr) {
        scanned += listing->size();
    }
    if ((listing == nullptr && err == 0) || scanned > kMaxGlobScan) {
        return make_error(ErrorCode::kPolicyInvalid, r.origin + ": deny entry '" + r.path + "' reads more than " +
                                                         std::to_string(kMaxGlobScan) + " directory entries");
    }
    if (listing == nullptr) {
        if (err == EACCES || err == EPERM) {
            // `at` itself may be visible but unreadable, or below a directory we cannot search.
            note_unseen_match(at, std::vector<std::string>(comps.begin() + static_cast<long>(i), comps.end()), unseen);
        }
        return ok_status();  // absent or not a directory: nothing there to deny
    }
    std::vector<std::string> names;
    for (const auto& [name, type] : *listing) {
        if (::fnmatch(comps[i].c_str(), name.c_str(), 0) == 0) {
            names.push_back(name);
        }
    }
    for (const auto& name : names) {
        DIAG_TRY(expand_pattern(comps, i + 1, base + "/" + name, out, unseen, scanned, r));
    }
    return ok_status();
}

}  // namespace

Status check_deny_syntax(const std::vector<RawDeny>& written) {
    if (written.size() + builtin_denies().size() > policy::kMaxDenyEntries) {
        return make_error(ErrorCode::kPolicyInvalid, "more than " + std::to_string(policy::kMaxDenyEntries) +
                                                         " deny entries");
    }
    for (const auto& w : written) {
        if (w.path.empty() || w.path[0] != '/') {
            return make_error(ErrorCode::kPolicyInvalid, w.origin + ": deny entry '" + w.path + "' is not absolute");
        }
        for (const auto& c : util::split_path(w.path)) {
            if (c == "." || c == "..") {
                return make_error(ErrorCode::kPolicyInvalid,
                                  w.origin + ": deny entry '" + w.path + "' contains '.' or '..'");
            }
        }
    }
    return ok_status();
}

Result<Deny> build_deny(const std::vector<RawDeny>& raw) {
    DIAG_TRY(check_deny_syntax(raw));
    Deny deny;
    DIAG_TRY_ASSIGN(const auto mounts, read_mounts());
    for (const auto& m : mounts) {
        if (const dev_t dev = mount_device(m); dev != 0) {
            deny.mount_points.emplace_back(m.point, dev);
        }
    }
    std::vector<RawDeny> all = raw;
    for (const auto& b : builtin_denies()) {
        all.push_back({b, "built-in"});
    }
    std::map<std::string, std::string> canonical_prefixes;
    for (const auto& r : all) {
        // A backslash in a written entry is an ordinary character (systemd escapes "-" as \x2d in
        // unit and credential names): escaped here, so only * ? [ are wildcards.
        std::string escaped;
        for (char ch : r.path) {
            escaped += ch == '\\' ? std::string("\\\\") : std::string(1, ch);
        }
        const auto comps = util::split_path(escaped);
        const std::string written = util::join_path(comps);
        // Only the built-in entries: a policy that names /dev/mem itself gets the full walk.
        const bool guarded = r.origin == "built-in" && raw_io_device(written);
        add_deny_entry(deny, written, r.origin, guarded);
        // Canonical form of the glob-free prefix (a denied symlink protects its target).
        size_t plain = 0;
        while (plain < comps.size() && !util::has_glob(comps[plain])) {
            ++plain;
        }
        // Many entries share a prefix (every built-in /proc pattern): resolve each one once.
        const std::string plain_part = util::join_path(comps, plain);
        auto memo = canonical_prefixes.find(plain_part);
        if (memo == canonical_prefixes.end()) {
            memo = canonical_prefixes.emplace(plain_part, canonicalize_lenient(util::glob_unescape(plain_part))).first;
        }
        // Literal (a symlink on the way may point at a name with glob characters), then the
        // entry's own pattern components.
        std::string canon = util::glob_escape(memo->second);
        for (size_t i = plain; i < comps.size(); ++i) {
            canon += (canon == "/" ? "" : "/") + comps[i];
        }
        add_deny_entry(deny, canon, r.origin, guarded);
        if (is_pseudo_fs_path(canon)) {
            continue;  // /proc objects come and go; the patterns cover them.
        }
        if (plain == comps.size()) {
            add_object(deny, memo->second, r.origin, mounts, guarded);
            continue;
        }
        // Expanded by us, not glob(3): '*' must match dot names here exactly as in match_deny,
        // and glob does not let it in directory components (GLOB_PERIOD only reaches the last).
        // /home/*/.ssh must find /home/.hidden/.ssh, or its bind mounts and hard links go unseen.
        std::vector<std::string> matches;
        size_t scanned = 0;
        Unseen unseen{{}, deny.unexpanded, mounts, deny.listings};
        DIAG_TRY(expand_pattern(util::split_path(canon), 0, "/", matches, unseen, scanned, r));
        for (const auto& m : matches) {
            // The match's name is denied by the pattern itself; its object is pinned (and its
            // bind mounts and hard links denied) only through symlinks we can trust.
            if (symlinks_trusted(m)) {
                add_object(deny, canonicalize_lenient(m), r.origin, mounts, guarded);
            }
        }
        for (const auto& p : unseen.patterns) {
            add_deny_entry(deny, p, r.origin + " (where this user cannot look)", guarded);
        }
    }
    // A mount whose mount point is denied by name (or lies below a denied path) makes what it
    // shows denied wherever else that file system shows it, found or not by the expansion above:
    // the mount table is readable even where the mount point's directory is not. Repeated until
    // nothing is added (an alias can itself hold a mount point).
    for (size_t pass = 0; pass <= mounts.size(); ++pass) {
        const size_t before = deny.entries.size();
        for (const auto& m : mounts) {
            // Mounts x mounts per pass, repeated while aliases are added: seconds on a host with
            // thousands of mounts (container runtimes), so it counts against the deadline too.
            DIAG_TRY(deadline::check("following bind mounts of denied paths"));
            if (is_pseudo_fs_path(m.point)) {
                continue;
            }
            if (const DenyEntry* e = match_deny(deny, m.point)) {
                const std::string origin = e->origin;  // add_deny_entry may move the entries
                const bool guarded = e->kernel_guarded;
                for (const auto& alias : mount_aliases(m.point, mounts)) {
                    add_deny_entry(deny, util::glob_escape(alias), origin + " (bind mount of " + m.point + ")", guarded);
                }
            }
            // The other way round: this mount shows a directory that is denied where another
            // mount of the same file system shows it (its source), seen or not.
            for (const auto& h : mounts) {
                if (&h == &m || h.dev != m.dev || !util::path_within(m.root, h.root)) {
                    continue;
                }
                const std::string source = rebase(m.root, h.root, h.point);
                if (const DenyEntry* e = match_deny(deny, source)) {
                    const std::string origin = e->origin;
                    add_deny_entry(deny, util::glob_escape(m.point), origin + " (bind mount of " + source + ")",
                                   e->kernel_guarded);
                }
            }
        }
        if (deny.entries.size() == before) {
            break;
        }
    }
    return deny;
}


Result<Resolved> resolve(const Deny& deny, std::string_view input, Use use, const std::vector<std::string>& roots) {
    Resolved out;
    out.input = std::string(input);
    const std::string shown = "'" + text_safety::printable(input) + "'";
    if (input.empty()) {
        return diag::deny("path-not-found", "empty path");
    }
    sys::UniqueFd cur(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur.valid()) {
        return sys_error(ErrorCode::kInternal, "open(/)", errno);
    }
    // The canonical path so far and the denylist followed down it, one component at a time.
    DenyCursor canon(deny);
    std::deque<std::string> todo;
    for (auto& c : util::split_path(input)) {
        todo.push_back(std::move(c));
    }
    int symlinks = 0;
    // The first denied thing met on the walk: a deny entry by name, or a denied object by inode.
    std::string hit_pattern;
    std::string hit_origin;
    std::string hit_path;
    auto check_here = [&](const std::string& here, const struct stat& st) {
        if (!hit_path.empty()) {
            return;
        }
        if (const DenyEntry* e = canon.match()) {
            hit_pattern = e->pattern;
            hit_origin = e->origin;
            hit_path = here;
        } else if (auto it = deny.objects.find({st.st_dev, st.st_ino}); it != deny.objects.end()) {
            // The same object as a denied one under another name: bind mount or hard link.
            hit_pattern = it->second;
            hit_origin = "same object as denied " + it->second;
            hit_path = here;
        }
    };
    auto denied = [&]() {
        return diag::deny("path-denied",
                          shown + " is denied: " + hit_path + " matches deny entry " + hit_pattern + " (" + hit_origin + ")",
                          hit_pattern);
    };

    // The depth at which a literal "self"/"thread-self" was kept under /proc (0: none on the way).
    size_t self_depth = 0;
    std::string last_self;
    while (!todo.empty()) {
        // The components to walk grow with every symlink another account points at a deep tree.
        DIAG_TRY(deadline::check("resolving a path argument"));
        const std::string comp = std::move(todo.front());
        todo.pop_front();
        if (comp == ".") {
            continue;
        }
        if (comp == "..") {
            if (self_depth != 0 && canon.depth() == self_depth) {
                // Leaving a literal /proc/self or /proc/thread-self by "..": the real parent is the
                // wrapper's /proc/PID (or its task directory) while the name we track goes back to
                // /proc (or to /), so name and object would part ways. Nothing needs this.
                return diag::deny("path-magic-link", shown + ": '..' out of /proc/" + last_self + " is not followed");
            }
            if (canon.depth() > 0) {
                sys::UniqueFd up(::openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
                if (!up.valid()) {
                    return diag::deny("path-not-found", shown + ": " + std::strerror(errno));
                }
                cur = std::move(up);
                canon.pop();
            }
            continue;
        }
        sys::UniqueFd next(::openat(cur.get(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid()) {
            return diag::deny("path-not-found", shown + ": " + std::strerror(errno));
        }
        struct stat st {};
        if (::fstat(next.get(), &st) != 0) {
            return diag::deny("path-not-found", shown + ": " + std::strerror(errno));
        }
        canon.push(comp);
        const std::string& here = canon.path();
        check_here(here, st);
        if (!S_ISLNK(st.st_mode)) {
            cur = std::move(next);
            continue;
        }
        // A symlink: check the link itself (done above), then follow it by hand.
        out.hops.push_back(here);
        canon.pop();
        if (++symlinks > kMaxSymlinks) {
            return diag::deny("path-not-found", shown + ": too many levels of symbolic links");
        }
        char buf[PATH_MAX];
        const ssize_t n = ::readlinkat(next.get(), "", buf, sizeof buf - 1);
        if (n < 0) {
            return diag::deny("path-not-found", shown + ": readlink: " + std::strerror(errno));
        }
        const std::string target(buf, static_cast<size_t>(n));
        if (on_procfs(cur.get())) {
            struct stat cst {};
            const bool proc_root = ::fstat(cur.get(), &cst) == 0 && cst.st_ino == 1;
            if (proc_root && (comp == "self" || comp == "thread-self")) {
                // Keep "self" literal: in the child it names the child. The deny patterns
                // (/proc/*/environ ...) match it like any pid.
                sys::UniqueFd self(::openat(cur.get(), target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
                if (!self.valid()) {
                    return diag::deny("path-not-found", shown + ": " + std::strerror(errno));
                }
                cur = std::move(self);
                canon.push(comp);
                self_depth = canon.depth();
                last_self = comp;
                continue;
            }
            if (target.empty() || target[0] == '/' || target.find(':') != std::string::npos) {
                // /proc/PID/{cwd,root,exe,fd/N,map_files/*,ns/*}: the kernel does not resolve these
                // by their text, so neither can we check them.
                if (!hit_path.empty()) {
                    return denied();  // already inside a denied directory (/proc/PID/fd): the real reason
                }
                return diag::deny("path-magic-link", shown + ": " + out.hops.back() + " is a /proc magic link");
            }
        }
        const auto tcomps = util::split_path(target);
        todo.insert(todo.begin(), tcomps.begin(), tcomps.end());
        if (!target.empty() && target[0] == '/') {
            canon.reset();
            self_depth = 0;
            cur = sys::UniqueFd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!cur.valid()) {
                return sys_error(ErrorCode::kInternal, "open(/)", errno);
            }
        }
    }

    struct stat st {};
    if (::fstat(cur.get(), &st) != 0) {
        return diag::deny("path-not-found", shown + ": " + std::strerror(errno));
    }
    out.canonical = canon.path();
    out.dev = st.st_dev;
    out.ino = st.st_ino;
    out.mode = st.st_mode;
    out.nlink = st.st_nlink;
    const bool is_dir = S_ISDIR(st.st_mode);

    if (!hit_path.empty()) {
        if ((use == Use::kMetadata || use == Use::kMetaTree) && !is_dir) {
            out.metadata_of_denied = hit_pattern;
        } else {
            return denied();
        }
    }
    if (use != Use::kMetadata && use != Use::kMetaTree && !is_dir && !S_ISREG(st.st_mode)) {
        return diag::deny("path-type", shown + " is not a regular file or directory");
    }
    const bool tree = use == Use::kTree || use == Use::kMetaTree;
    if (tree && is_dir) {
        if (const DenyEntry* below = deny_below(deny, out.canonical)) {
            return diag::deny("path-tree-denied",
                              shown + " contains denied path " + below->pattern + " (" + below->origin + ")",
                              below->pattern);
        }
    }
    if (!roots.empty()) {
        bool inside = false;
        for (const auto& r : roots) {
            inside = inside || util::path_within(out.canonical, r);
        }
        if (!inside) {
            return diag::deny("path-outside-roots", shown + " resolves to " + out.canonical +
                                                        ", outside the roots allowed for this argument");
        }
    }
    // The child is given the canonical path and looks it up again. A component some other user
    // can swap for a symlink between this check and that lookup would send it elsewhere (to a
    // hard link of a secret in a directory we cannot scan, which neither the deny patterns nor
    // Landlock can tell apart, or a denied directory that a listing tool lists: Landlock's
    // read-dir right is inherited). Then a file to read is handed over as the object checked here
    // (its fd, /proc/self/fd/N in argv); anything else, metadata and directories included, is
    // refused.
    DIAG_TRY_ASSIGN(const auto replaceable, replaceable_component(out.canonical));
    if (const auto& why = replaceable) {
        if ((use != Use::kContent && use != Use::kTree) || !S_ISREG(st.st_mode)) {  // a file is a tree of one
            return diag::deny("path-replaceable", shown + ": " + *why +
                                                      ", so it could be swapped before the command opens it");
        }
        out.fd = sys::UniqueFd(::open(("/proc/self/fd/" + std::to_string(cur.get())).c_str(),
                                      O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        struct stat fst {};
        if (!out.fd.valid() || ::fstat(out.fd.get(), &fst) != 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
            return diag::deny("path-replaceable", shown + ": " + *why + ", and it could not be held open (" +
                                                      std::strerror(errno) + ")");
        }
        out.bound_because = *why;
    }
    out.object = std::move(cur);
    return out;
}

}  // namespace diag::path_resolve
