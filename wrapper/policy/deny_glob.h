// SPDX-License-Identifier: Apache-2.0
// What the file system holds for a deny pattern, as build_deny (deny_list.h) needs it: the
// canonical form of a path that may not exist, every existing path a glob pattern names (expanded
// by hand, as match_deny matches), and the places this user cannot look at, which are then denied
// by name and noted for the hard-link check.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/base/mountinfo.h"
#include "wrapper/policy/model.h"

namespace diag::deny_list {

inline constexpr size_t kMaxGlobMatches = 4096;
inline constexpr size_t kMaxGlobScan = 200000;  // directory entries read expanding one deny entry

// Paths whose every component exists, as written -> their realpath(3): what one build of the deny
// list resolved already (most entries share /etc, /run, /var/lib).
using Resolved = std::map<std::string, std::string>;

// Longest existing prefix resolved with realpath(3), the rest appended lexically. `memo`, when
// given, is consulted and filled; it must not outlive the build it serves.
[[nodiscard]] std::string canonicalize_lenient(const std::string& path, Resolved* memo = nullptr);

// A place (a pattern: literal parts escaped) this user cannot look at: itself and the same place
// under every other mount that shows it (a 0711 /home bound from /persist/home, or bound again
// elsewhere), each noted unseen in `unexpanded` for the hard-link check. The caller denies them
// by name.
[[nodiscard]] std::vector<std::string> unseen_places(const std::string& pattern,
                                                     std::vector<std::pair<std::string, dev_t>>& unexpanded,
                                                     const std::vector<mountinfo::Mount>& mounts);

// What the expansion could not see: the pattern's remainder from there, on the canonical form
// of the part it reached (a component may be a symlink into the hidden directory). It is denied
// by name, so a mount point or an argument that resolves there is refused, and its device is
// unverified for the hard-link check.
struct Unseen {
    std::vector<std::string> patterns;
    std::vector<std::pair<std::string, dev_t>>& unexpanded;
    const std::vector<mountinfo::Mount>& mounts;
    std::map<std::string, policy::Listing>& listings;  // what was read, kept for the Landlock walk
};

// Every existing path that `comps` (a canonical deny pattern, split) names from component `i`
// on, below `at`, appended to `out`, matching each glob component with fnmatch(3) without
// FNM_PERIOD, as match_deny does. A directory it cannot read is noted in `unseen`. Bounded:
// more than kMaxGlobMatches matches or kMaxGlobScan entries read (counted in `scanned`) is a
// policy error naming the entry `r`. Errors: kPolicyInvalid, decision-timeout.
[[nodiscard]] Status expand_pattern(const std::vector<std::string>& comps, size_t i, const std::string& at,
                                    std::vector<std::string>& out, Unseen& unseen, size_t& scanned,
                                    const policy::DenyWritten& r);

}  // namespace diag::deny_list
