// SPDX-License-Identifier: Apache-2.0
// Building the denylist from the policy's entries and the built-in ones (see deny_list.h).
#include "wrapper/policy/deny_list.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <map>

#include "wrapper/base/deadline.h"
#include "wrapper/base/mountinfo.h"
#include "wrapper/base/paths.h"
#include "wrapper/policy/deny_glob.h"
#include "wrapper/policy/deny_match.h"

namespace diag::deny_list {

namespace {

using mountinfo::Mount;
using policy::Deny;
using policy::DenyEntry;

// Whether the symlinks on the way to `path` (a glob match: its components come from directory
// listings, some of them another account's) may decide what the match denies. A symlink another
// account owns could point anywhere: `~/.ssh -> /` would deny every path to every request. So
// one owned by a user other than root counts only when that user also owns what it points to
// (`~/.ssh -> ~/dotfiles/ssh`); otherwise only the match's own name stays denied, by the pattern.
// Every match below /etc/ssh asks about /etc and /etc/ssh again: `memo` answers once per build.
bool symlinks_trusted(const std::string& path, FsMemo& memo) {
    std::string here;
    for (const auto& c : util::split_path(path)) {
        here += "/" + c;
        const FsMemo::Look lst = memo.lstat(here);
        if (lst.err != 0) {
            return true;  // the rest does not exist (or cannot be seen): nothing to follow
        }
        if (!S_ISLNK(lst.st.st_mode) || lst.st.st_uid == 0) {
            continue;
        }
        const FsMemo::Look tst = memo.stat(here);
        if (tst.err != 0) {
            return true;  // dangling: the name is all there is
        }
        if (tst.st.st_uid != lst.st.st_uid) {
            return false;
        }
    }
    return true;
}

// The object `canonical` names: denied by name and, when it exists, by (dev, ino) and under its
// bind-mount aliases; where this user cannot look, by name wherever a mount shows the place.
// The canonicalization looked at `canonical` (or at where its lookup fails) already: `memo`
// answers the stat from that lstat.
void add_object(Deny& deny, const std::string& canonical, const std::string& origin, const std::vector<Mount>& mounts,
                bool kernel_guarded, FsMemo& memo) {
    const FsMemo::Look look = memo.stat(canonical);
    const struct stat& st = look.st;
    if (look.err != 0) {
        if (look.err == EACCES || look.err == EPERM) {
            // Unseen, so no inode to compare: denied by name wherever a mount shows the same place.
            for (const auto& p : unseen_places(util::glob_escape(canonical), deny.unexpanded, mounts, memo)) {
                add_deny_entry(deny, p, origin + " (where this user cannot look)", kernel_guarded);
            }
        }
        return;
    }
    add_deny_entry(deny, util::glob_escape(canonical), origin, kernel_guarded);
    if (deny.objects.emplace(std::make_pair(st.st_dev, st.st_ino), canonical).second) {
        // A bind mount of a device is the same device: its driver checks the same capability.
        for (const auto& alias : mountinfo::mount_aliases(canonical, mounts)) {
            add_deny_entry(deny, util::glob_escape(alias), origin + " (bind mount of " + canonical + ")",
                           kernel_guarded);
        }
    }
}

// Built-in devices whose driver refuses open(2) without CAP_SYS_RAWIO (drivers/char/mem.c
// open_port), whatever their mode; /dev/kmem is gone since 5.13 (same check before). Only when
// the path is that driver's node (char 1:1, 1:2, 1:4) or absent (only root can make one): a
// regular file there is an ordinary denied file.
bool raw_io_device(const std::string& path, FsMemo& memo) {
    const bool named = path == "/dev/mem" || path == "/dev/kmem" || path == "/dev/port";
    if (!named) {
        return false;
    }
    const FsMemo::Look look = memo.stat(path);
    if (look.err != 0) {
        return look.err == ENOENT;
    }
    const struct stat& st = look.st;
    const unsigned minor_no = minor(st.st_rdev);
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && (minor_no == 1 || minor_no == 2 || minor_no == 4);
}

// Every mount point, with its device: the hard-link check tells by them which file system a
// path is on.
void add_mount_points(Deny& deny, const std::vector<Mount>& mounts) {
    for (const auto& m : mounts) {
        if (const dev_t dev = mountinfo::mount_device(m); dev != 0) {
            deny.mount_points.emplace_back(m.point, dev);
        }
    }
}

// One entry (written or built-in): as written, in canonical form, and every object it names
// that exists. `canonical_prefixes` memoizes the canonical form of glob-free prefixes, `memo`
// what the file system answered (one build).
Status add_entry(Deny& deny, const RawDeny& r, const std::vector<Mount>& mounts,
                 std::map<std::string, std::string>& canonical_prefixes, FsMemo& memo) {
    // A backslash in a written entry is an ordinary character (systemd escapes "-" as \x2d in
    // unit and credential names): escaped here, so only * ? [ are wildcards.
    std::string escaped;
    for (char ch : r.path) {
        escaped += ch == '\\' ? std::string("\\\\") : std::string(1, ch);
    }
    const auto comps = util::split_path(escaped);
    const std::string written = util::join_path(comps);
    // Only the built-in entries: a policy that names /dev/mem itself gets the full walk.
    const bool guarded = r.origin == "built-in" && raw_io_device(written, memo);
    add_deny_entry(deny, written, r.origin, guarded);
    // Canonical form of the glob-free prefix (a denied symlink protects its target).
    size_t plain = 0;
    while (plain < comps.size() && !util::has_glob(comps[plain])) {
        ++plain;
    }
    // Many entries share a prefix (every built-in /proc pattern): resolve each one once.
    const std::string plain_part = util::join_path(comps, plain);
    auto prefix = canonical_prefixes.find(plain_part);
    if (prefix == canonical_prefixes.end()) {
        prefix =
            canonical_prefixes.emplace(plain_part, canonicalize_lenient(util::glob_unescape(plain_part), memo)).first;
    }
    // Literal (a symlink on the way may point at a name with glob characters), then the
    // entry's own pattern components.
    std::string canon = util::glob_escape(prefix->second);
    for (size_t i = plain; i < comps.size(); ++i) {
        canon += (canon == "/" ? "" : "/") + comps[i];
    }
    add_deny_entry(deny, canon, r.origin, guarded);
    if (is_pseudo_fs_path(canon)) {
        return ok_status();  // /proc objects come and go; the patterns cover them.
    }
    if (plain == comps.size()) {
        add_object(deny, prefix->second, r.origin, mounts, guarded, memo);
        return ok_status();
    }
    // Expanded by us, not glob(3): '*' must match dot names here exactly as in match_deny,
    // and glob does not let it in directory components (GLOB_PERIOD only reaches the last).
    // /home/*/.ssh must find /home/.hidden/.ssh, or its bind mounts and hard links go unseen.
    std::vector<std::string> matches;
    size_t scanned = 0;
    Unseen unseen{{}, deny.unexpanded, mounts, deny.listings, memo};
    DIAG_TRY(expand_pattern(util::split_path(canon), 0, "/", matches, unseen, scanned, r));
    for (const auto& m : matches) {
        // The match's name is denied by the pattern itself; its object is pinned (and its
        // bind mounts and hard links denied) only through symlinks we can trust.
        if (symlinks_trusted(m, memo)) {
            add_object(deny, canonicalize_lenient(m, memo), r.origin, mounts, guarded, memo);
        }
    }
    for (const auto& p : unseen.patterns) {
        add_deny_entry(deny, p, r.origin + " (where this user cannot look)", guarded);
    }
    return ok_status();
}

// A mount whose mount point is denied by name (or lies below a denied path) makes what it
// shows denied wherever else that file system shows it, found or not by the expansion of the
// entries: the mount table is readable even where the mount point's directory is not. Repeated
// until nothing is added (an alias can itself hold a mount point). Runs after every entry was
// added, so that each one's aliases are followed.
Status follow_bind_mounts(Deny& deny, const std::vector<Mount>& mounts) {
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
                for (const auto& alias : mountinfo::mount_aliases(m.point, mounts)) {
                    add_deny_entry(deny, util::glob_escape(alias), origin + " (bind mount of " + m.point + ")",
                                   guarded);
                }
            }
            // The other way round: this mount shows a directory that is denied where another
            // mount of the same file system shows it (its source), seen or not.
            for (const auto& h : mounts) {
                if (&h == &m || h.dev != m.dev || !util::path_within(m.root, h.root)) {
                    continue;
                }
                const std::string source = mountinfo::rebase(m.root, h.root, h.point);
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
    return ok_status();
}

}  // namespace

const std::vector<std::string>& builtin_denies() {
    static const std::vector<std::string> kBuiltin = {
        "/proc/*/environ",     "/proc/*/task/*/environ",
        "/proc/*/mem",         "/proc/*/task/*/mem",
        "/proc/*/fd",          "/proc/*/task/*/fd",
        "/proc/*/fdinfo",      "/proc/*/task/*/fdinfo",
        "/proc/*/map_files",   "/proc/*/task/*/map_files",
        "/proc/*/pagemap",     "/proc/*/task/*/pagemap",
        "/proc/*/syscall",     "/proc/*/task/*/syscall",
        "/proc/*/stack",       "/proc/*/task/*/stack",
        "/proc/*/auxv",        "/proc/*/task/*/auxv",
        "/proc/kcore",         "/proc/kmem",
        "/proc/sysrq-trigger", "/dev/mem",
        "/dev/kmem",           "/dev/port",
    };
    return kBuiltin;
}

Status check_deny_syntax(const std::vector<RawDeny>& written) {
    if (written.size() + builtin_denies().size() > policy::kMaxDenyEntries) {
        return make_error(ErrorCode::kPolicyInvalid,
                          "more than " + std::to_string(policy::kMaxDenyEntries) + " deny entries");
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

Result<Deny> build_deny(const std::vector<RawDeny>& raw, Recorder* recorder) {
    DIAG_TRY(check_deny_syntax(raw));
    Deny deny;
    DIAG_TRY_ASSIGN(const auto mounts, mountinfo::read_mounts(recorder != nullptr ? &recorder->mounts : nullptr));
    add_mount_points(deny, mounts);
    std::vector<RawDeny> all = raw;
    for (const auto& b : builtin_denies()) {
        all.push_back({b, "built-in"});
    }
    std::map<std::string, std::string> canonical_prefixes;
    FsMemo memo;  // this build's only: the next request asks the file system again
    memo.recorder = recorder;
    for (const auto& r : all) {
        DIAG_TRY(add_entry(deny, r, mounts, canonical_prefixes, memo));
    }
    DIAG_TRY(follow_bind_mounts(deny, mounts));
    return deny;
}

bool is_pseudo_fs_path(const std::string& p) { return util::path_within(p, "/proc") || util::path_within(p, "/sys"); }

}  // namespace diag::deny_list
