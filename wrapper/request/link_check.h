// SPDX-License-Identifier: Apache-2.0
// Hard links of denied files: Landlock rules bind to the granted tree, so another name of a
// denied file in a readable directory is readable by any tool that opens it there, and the deny
// patterns cannot see it. These are the expensive checks of the decision (they read directory
// trees), so the pipeline runs them after every argument passed resolve()'s cheap ones.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"

namespace diag::path_resolve {

struct Resolved;
enum class Use;

inline constexpr size_t kMaxHardlinkScan = 10000;         // entries scanned under denied dirs per request
inline constexpr size_t kMaxHardlinkScanPerRoot = 2000;   // ... and under any one denied directory
inline constexpr size_t kMaxTreeScan = 200000;            // entries scanned in one tree whose content is read
inline constexpr size_t kMaxTreeScanPerRequest = 400000;  // ... and in all of a request's trees together

// What the scans of one request may still read, shared by all of its arguments.
struct ScanBudget {
    size_t tree_entries = kMaxTreeScanPerRequest;
};

// Refuses (kExecFailed) when any multiply-linked file below the denied paths has a name outside
// them. Returns the denied directories that could not be scanned whole (unreadable, too deep or
// too large: recorded; arguments that are multiply-linked files on their devices are then
// refused). Called before every run. Errors also: decision-timeout.
[[nodiscard]] Result<std::vector<std::string>> check_links_contained(const policy::Deny& deny);

// The link checks of one argument that passed resolve(): a tree whose content is read (kTree on
// a directory) must hold no other name of a denied file and must be readable whole within the
// budgets (path-tree-denied); a file to read with more than one link must not be another name of
// a denied file (path-denied). Errors also: decision-timeout.
[[nodiscard]] Status check_links(const policy::Deny& deny, const Resolved& r, Use use, ScanBudget& budget);

}  // namespace diag::path_resolve
