// SPDX-License-Identifier: Apache-2.0
// Deny patterns against the file system: canonical forms, glob expansion, unseen places (see
// deny_glob.h).
#include "wrapper/policy/deny_glob.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"

namespace diag::deny_list {

namespace {

using mountinfo::Mount;

// `path` could not be looked at (EACCES/EPERM on the way): whatever is there is unknown to us.
// The hard-link check must then not clear multiply-linked files on the device of the nearest
// ancestor we can see, nor on the device of any mount below that ancestor (a file system mounted
// under the hidden directory is another device).
void note_unseen(const std::string& path, std::vector<std::pair<std::string, dev_t>>& unexpanded,
                 const std::vector<Mount>& mounts, FsMemo& memo) {
    std::string up = path;
    do {
        up = up.substr(0, std::max<size_t>(up.rfind('/'), 1));
    } while (up != "/" && memo.stat(up).err != 0);
    if (const auto& st = memo.stat(up); st.err == 0) {
        unexpanded.emplace_back(up, st.st.st_dev);
    }
    for (const auto& m : mounts) {
        if (util::path_within(m.point, up) && m.point != up) {
            if (const dev_t dev = mountinfo::mount_device(m); dev != 0) {
                unexpanded.emplace_back(m.point, dev);
            }
        }
    }
}

void note_unseen_match(const std::string& reached, const std::vector<std::string>& rest, Unseen& unseen) {
    std::string pattern = util::glob_escape(canonicalize_lenient(reached, unseen.memo));
    for (const auto& c : rest) {
        pattern += (pattern == "/" ? "" : "/") + c;
    }
    for (auto& p : unseen_places(pattern, unseen.unexpanded, unseen.mounts, unseen.memo)) {
        unseen.patterns.push_back(std::move(p));
    }
}

// The entries of `dir`, from `listings` or read and kept there. Null, with errno set, when it
// cannot be opened (known to `memo`: many patterns share an absent /etc/nix); null with errno
// 0 when it has more than `limit` entries (not kept). Errors: decision-timeout (any account can
// fill /tmp, which a deny glob may have to list).
Result<const policy::Listing*> list_dir(std::map<std::string, policy::Listing>& listings, FsMemo& memo,
                                        const std::string& dir, size_t limit) {
    if (auto it = listings.find(dir); it != listings.end()) {
        return static_cast<const policy::Listing*>(&it->second);
    }
    if (const int known = memo.known_unlistable(dir); known != 0) {
        errno = known;
        return nullptr;
    }
    if (memo.recorder != nullptr) {
        memo.recorder->followed.push_back(dir);
    }
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        const int err = errno;
        if (memo.recorder != nullptr) {
            memo.recorder->note(dir, err);
        }
        memo.note_unlistable(dir, err);
        errno = err;
        return nullptr;
    }
    policy::Listing entries;
    for (;;) {
        errno = 0;
        const dirent* e = ::readdir(d);
        if (e == nullptr) {
            if (errno != 0 && memo.recorder != nullptr) {
                memo.recorder->note(dir, errno);  // cut short: a snapshot must not keep it
            }
            break;
        }
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

// `canon` followed by comps[from..] as they are.
std::string with_rest(std::string canon, const std::vector<std::string>& comps, size_t from) {
    for (size_t i = from; i < comps.size(); ++i) {
        canon += (canon == "/" ? "" : "/") + comps[i];
    }
    return canon;
}

// canonicalize_lenient for a path with . or .. components: realpath(3) of ever shorter prefixes.
std::string canonicalize_by_prefixes(const std::vector<std::string>& comps, const std::string& path, FsMemo& memo) {
    for (size_t n = comps.size();; --n) {
        auto real = real_path(util::join_path(comps, n), memo);
        if (real.ok()) {
            return with_rest(*real, comps, n);
        }
        if (n == 0) {
            return path;
        }
    }
}

// An absolute path without empty, "." or ".." components and no trailing '/': its proper
// prefixes are the directories its lookup walks through, in order.
bool plain_absolute(std::string_view path) {
    if (path.size() < 2 || path.front() != '/' || path.back() == '/') {
        return false;
    }
    for (size_t start = 1; start <= path.size();) {
        const size_t end = std::min(path.find('/', start), path.size());
        const std::string_view c = path.substr(start, end - start);
        if (c.empty() || c == "." || c == "..") {
            return false;
        }
        start = end + 1;
    }
    return true;
}

// The kernel's answer, by lstat(2) or stat(2).
FsMemo::Look ask(int (*call)(const char*, struct stat*), const std::string& path, Recorder* recorder) {
    if (recorder != nullptr) {
        (call == ::stat ? recorder->followed : recorder->asked).push_back(path);
    }
    FsMemo::Look look;
    if (call(path.c_str(), &look.st) != 0) {
        look = {errno, {}};
        if (recorder != nullptr) {
            recorder->note(path, look.err);
        }
    }
    return look;
}

}  // namespace

// Only root can change what lstat(2) says of `path`: its directory is root's, writable by no
// one else, and settled itself (so no symlink or other account's directory on the way; "/" is
// root's). A directory found unsettled stays so for this build: everything below it is asked again.
bool FsMemo::settled(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (!plain_absolute(path) || slash == std::string::npos) {
        return path == "/";
    }
    const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    if (unsettled_.count(dir) != 0) {
        return false;
    }
    const Look up = lstat(dir);  // kept only when settled itself
    const mode_t mode = up.st.st_mode;
    const bool root_only =
        up.err != 0 || (!S_ISLNK(mode) && (!S_ISDIR(mode) || (up.st.st_uid == 0 && (mode & 022) == 0)));
    if (!kept(dir) || !root_only) {
        unsettled_.insert(dir);
        return false;
    }
    return true;
}

FsMemo::Look FsMemo::lstat(const std::string& path) {
    if (auto it = lstats_.find(path); it != lstats_.end()) {
        return it->second;
    }
    const Look look = ask(::lstat, path, recorder);
    if (settled(path)) {
        lstats_.emplace(path, look);
    }
    return look;
}

FsMemo::Look FsMemo::probe(const std::string& path) {
    if (auto it = lstats_.find(path); it != lstats_.end()) {
        return it->second;
    }
    const Look look = ask(::lstat, path, recorder);
    if ((look.err == 0 || look.err == EACCES || look.err == EPERM) && settled(path)) {
        lstats_.emplace(path, look);
    }
    return look;
}

// A proper prefix of `path` whose lstat failed: the lookup of `path` walks through it and fails
// there, with the same errno (ENOENT, ENOTDIR, EACCES, ELOOP: decided before its last component
// could be followed).
const FsMemo::Look* FsMemo::failed_prefix(const std::string& path) const {
    if (!plain_absolute(path)) {
        return nullptr;
    }
    const std::string_view whole = path;
    for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        if (auto it = lstats_.find(whole.substr(0, slash)); it != lstats_.end() && it->second.err != 0) {
            return &it->second;
        }
    }
    return nullptr;
}

// open(2) walks to `dir` as lstat(2) does, and fails where that failed, the same way.
int FsMemo::known_unlistable(const std::string& dir) const {
    if (auto it = unlistable_.find(dir); it != unlistable_.end()) {
        return it->second;
    }
    if (auto it = lstats_.find(dir); it != lstats_.end()) {
        return it->second.err;
    }
    const Look* failed = failed_prefix(dir);
    return failed != nullptr ? failed->err : 0;
}

// A failure is known without asking only where it is kept (settled): another account can make
// its own directory unlistable, or list it again, at any time.
void FsMemo::note_unlistable(const std::string& dir, int err) {
    if (settled(dir)) {
        if (const Look self = lstat(dir); self.err != 0 || (!S_ISLNK(self.st.st_mode) && self.st.st_uid == 0)) {
            unlistable_.emplace(dir, err);
        }
    }
}

// stat(2) and lstat(2) walk a path alike and differ only where its last component is a symlink:
// a failed lstat is the same failure of stat, and the lstat of anything but a symlink is its stat.
// Only a symlink costs a stat of its own, asked each time (what it points to may be anyone's).
FsMemo::Look FsMemo::stat(const std::string& path) {
    if (!kept(path)) {
        if (const Look* failed = failed_prefix(path)) {
            return *failed;
        }
    }
    const Look look = lstat(path);
    if (look.err != 0 || !S_ISLNK(look.st.st_mode)) {
        return look;
    }
    return ask(::stat, path, recorder);
}

Result<std::string> real_path(const std::string& path, FsMemo& memo) {
    if (memo.recorder == nullptr) {
        return sys::real_path(path, ErrorCode::kPolicyInvalid);
    }
    memo.recorder->followed.push_back(path);
    std::unique_ptr<char, decltype(&std::free)> p(::realpath(path.c_str(), nullptr), &std::free);
    if (!p) {
        const int err = errno;
        memo.recorder->note(path, err);
        return sys_error(ErrorCode::kPolicyInvalid, "realpath(" + path + ")", err);
    }
    return std::string(p.get());
}

void Recorder::note(const std::string& path, int err) {
    const bool plain = err == ENOENT || err == ENOTDIR || err == EACCES || err == EPERM || err == ELOOP;
    if (!plain && odd.empty()) {
        odd = path + ": " + std::strerror(err);
    }
}

// Longest existing prefix resolved as realpath(3) resolves it, the rest appended lexically.
// Resolving each shorter prefix with realpath(3) cost a readlink(2) per component per try (most
// deny entries do not exist on a given host: ~400 calls for the shipped policy); this walks the
// path once, one lstat per component (from `memo` when an earlier entry or glob match asked it),
// and hands only a symlink to realpath(3). Same answer: realpath of a prefix is realpath of its
// parent's canonical form plus the component, and a prefix that cannot be resolved (missing,
// unsearchable, not a directory, a dangling or looping symlink) ends the resolved part.
std::string canonicalize_lenient(const std::string& path, FsMemo& memo) {
    const auto comps = util::split_path(path);
    if (std::any_of(comps.begin(), comps.end(), [](const std::string& c) { return c == "." || c == ".."; })) {
        return canonicalize_by_prefixes(comps, path, memo);
    }
    std::string canon = "/";
    std::string written;
    bool steady = true;  // every prefix so far was kept
    for (size_t i = 0; i < comps.size(); ++i) {
        written += "/" + comps[i];
        if (auto it = memo.resolved.find(written); it != memo.resolved.end()) {
            canon = it->second;
            continue;
        }
        std::string next = canon + (canon == "/" ? "" : "/") + comps[i];
        const FsMemo::Look look = memo.lstat(next);
        if (look.err != 0) {
            return with_rest(canon, comps, i);
        }
        // Kept for the next path only while every answer it rests on is (see FsMemo).
        bool keep = steady && memo.kept(next);
        if (!S_ISLNK(look.st.st_mode)) {
            canon = std::move(next);  // there, and not a symlink
        } else {
            auto real = real_path(next, memo);
            if (!real.ok()) {
                return with_rest(canon, comps, i);
            }
            canon = std::move(real).value();
            if (keep) {
                (void)memo.lstat(canon);  // kept only when only root can change it too
                keep = memo.kept(canon);
            }
        }
        steady = keep;
        if (keep) {
            memo.resolved.emplace(written, canon);
        }
    }
    return canon;
}

// A place (a pattern: literal parts escaped) this user cannot look at: itself and the same place
// under every other mount that shows it (a 0711 /home bound from /persist/home, or bound again
// elsewhere), each noted unseen for the hard-link check. The caller denies them by name.
std::vector<std::string> unseen_places(const std::string& pattern,
                                       std::vector<std::pair<std::string, dev_t>>& unexpanded,
                                       const std::vector<Mount>& mounts, FsMemo& memo) {
    std::vector<std::string> out = mountinfo::pattern_aliases(pattern, mounts);
    out.insert(out.begin(), pattern);
    for (const auto& p : out) {
        note_unseen(p, unexpanded, mounts, memo);
    }
    return out;
}

Status expand_pattern(const std::vector<std::string>& comps, size_t i, const std::string& at,
                      std::vector<std::string>& out, Unseen& unseen, size_t& scanned, const policy::DenyWritten& r) {
    DIAG_TRY(deadline::check("expanding a deny pattern"));
    if (i == comps.size()) {
        if (const int err = unseen.memo.probe(at).err; err != 0) {
            if (err == EACCES || err == EPERM) {
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
    auto listed = list_dir(unseen.listings, unseen.memo, at, kMaxGlobScan - scanned + 1);
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

}  // namespace diag::deny_list
