// SPDX-License-Identifier: Apache-2.0
// What the file system holds for a deny pattern, as build_deny (deny_list.h) needs it: the
// canonical form of a path that may not exist, every existing path a glob pattern names (expanded
// by hand, as match_deny matches), and the places this user cannot look at, which are then denied
// by name and noted for the hard-link check.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/base/mountinfo.h"
#include "wrapper/policy/model.h"

namespace diag::deny_list {

inline constexpr size_t kMaxGlobMatches = 4096;
inline constexpr size_t kMaxGlobScan = 200000;  // directory entries read expanding one deny entry

// What one build asked the file system, for a snapshot of the list (deny_snapshot.h): the paths
// whose lstat(2) it asked (their directories matter), the paths it followed (stat(2),
// realpath(3), opendir(3): every hop matters), and the mount table as it read it. Filled only
// when --compile takes a snapshot; a request never records.
struct Recorder {
    std::vector<std::string> asked;
    std::vector<std::string> followed;
    std::string mounts;
    // The first answer that was neither a result nor a plain "not there / not for you" (EIO,
    // ESTALE, EMFILE, ENOMEM...): the build treats it as absent, which a snapshot would keep.
    std::string odd;
    void note(const std::string& path, int err);
};

// What one build of the deny list asked the file system, each question asked once: most entries
// share /etc, /run, /var/lib, and every glob match is looked at in turn by the expansion, the
// symlink check and the canonicalization. Lives for one build only (a local of build_deny, never
// kept across requests or written anywhere). An answer is kept only where no account but root can
// change it (every directory on the way root's and writable by no one else, no symlink on the
// way): below /home/eve or /tmp the kernel is asked each time, as before the memo. Else eve could
// show the glob expansion one object and the symlink check and canonicalization (asked later,
// from what they kept) another: `~/.ssh` a directory while the trust check looks, a symlink to
// another account's secrets while the match is read, which pins that object under eve's name.
class FsMemo {
  public:
    // One answer of lstat(2) or stat(2): err 0 and st, or the errno.
    struct Look {
        int err = 0;
        struct stat st {};
    };
    // lstat(2) of `path`.
    [[nodiscard]] Look lstat(const std::string& path);
    // lstat(2) of a name a glob component matched: kept only when something is there or it cannot
    // be seen (the symlink check and the canonicalization ask again). A name that is not there is
    // not asked about again, and another account may list a million of them in its directory.
    [[nodiscard]] Look probe(const std::string& path);
    // stat(2) of `path`, answered by an lstat where that is the same answer (see deny_glob.cc).
    [[nodiscard]] Look stat(const std::string& path);
    // Whether the answer for `path` is kept (only root can change it; see above).
    [[nodiscard]] bool kept(const std::string& path) const { return lstats_.count(path) != 0; }
    // Written paths whose every component exists -> their canonical form (realpath(3)); only
    // where every answer it rests on is kept.
    std::unordered_map<std::string, std::string> resolved;
    // The errno opendir(3) of `dir` fails with, when this build knows it without asking (it failed
    // before, or an lstat of it or of a directory on the way failed); else 0.
    [[nodiscard]] int known_unlistable(const std::string& dir) const;
    void note_unlistable(const std::string& dir, int err);
    // Where this build's questions are noted for a snapshot; null for a request.
    Recorder* recorder = nullptr;

  private:
    [[nodiscard]] const Look* failed_prefix(const std::string& path) const;
    [[nodiscard]] bool settled(const std::string& path);
    // Paths share long prefixes (/var/lib/...): hashed, not ordered; found by a string_view too.
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, Look, Hash, std::equal_to<>> lstats_;
    std::unordered_set<std::string> unsettled_;  // directories another account may change below
    std::unordered_map<std::string, int> unlistable_;
};

// Longest existing prefix resolved with realpath(3), the rest appended lexically. `memo` is
// consulted and filled.
[[nodiscard]] std::string canonicalize_lenient(const std::string& path, FsMemo& memo);

// A place (a pattern: literal parts escaped) this user cannot look at: itself and the same place
// under every other mount that shows it (a 0711 /home bound from /persist/home, or bound again
// elsewhere), each noted unseen in `unexpanded` for the hard-link check. The caller denies them
// by name.
[[nodiscard]] std::vector<std::string> unseen_places(const std::string& pattern,
                                                     std::vector<std::pair<std::string, dev_t>>& unexpanded,
                                                     const std::vector<mountinfo::Mount>& mounts, FsMemo& memo);

// What the expansion could not see: the pattern's remainder from there, on the canonical form
// of the part it reached (a component may be a symlink into the hidden directory). It is denied
// by name, so a mount point or an argument that resolves there is refused, and its device is
// unverified for the hard-link check.
struct Unseen {
    std::vector<std::string> patterns;
    std::vector<std::pair<std::string, dev_t>>& unexpanded;
    const std::vector<mountinfo::Mount>& mounts;
    std::map<std::string, policy::Listing>& listings;  // what was read, kept for the Landlock walk
    FsMemo& memo;
};

// realpath(3) of `path`, noted in `memo`'s recorder. Errors: those of sys::real_path.
[[nodiscard]] Result<std::string> real_path(const std::string& path, FsMemo& memo);

// Every existing path that `comps` (a canonical deny pattern, split) names from component `i`
// on, below `at`, appended to `out`, matching each glob component with fnmatch(3) without
// FNM_PERIOD, as match_deny does. A directory it cannot read is noted in `unseen`. Bounded:
// more than kMaxGlobMatches matches or kMaxGlobScan entries read (counted in `scanned`) is a
// policy error naming the entry `r`. Errors: kPolicyInvalid, decision-timeout.
[[nodiscard]] Status expand_pattern(const std::vector<std::string>& comps, size_t i, const std::string& at,
                                    std::vector<std::string>& out, Unseen& unseen, size_t& scanned,
                                    const policy::DenyWritten& r);

}  // namespace diag::deny_list
