// SPDX-License-Identifier: Apache-2.0
// Stage 3c: trees that hold denied paths, for the commands that skip them (adr/0016). Landlock
// keeps the content of every denied object from the child, but its read-dir right is inherited
// down a tree, so the kernel cannot hide the *names* inside a denied directory whose parent may
// be listed. The program itself is made to skip every denied subtree, by rewriting its arguments:
//   find:    START... [GLOBAL OPTIONS] ( PRUNE ) -prune -o ( REQUEST ) [-print]
//   grep -r: each tree operand replaced by its allowed parts (-H first, so names still print)
//   du:      --exclude=PATH for every denied path below an operand
// A tree operand gets here only from a rule with `prune` (policy/prune_rules.h checked its
// options) and after resolve() let it through (Resolved::prune_below).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/decision.h"

namespace diag::tree_prune {

// Entries one request may list on the way to the denied paths below its trees, and the parts a
// grep tree may be split into (each an argument: the bound keeps argv far below ARG_MAX).
inline constexpr size_t kMaxSurveyEntries = 20000;
inline constexpr size_t kMaxParts = 4096;

// What lies below one tree: read from the directories on the way to its deny entries (those
// whose names a deny pattern could still continue), fd-relative, without following symlinks.
struct Survey {
    std::vector<std::string> skipped;  // existing denied paths below the tree (canonical)
    // The allowed entries of the directories walked, with neither a denied path nor a walked
    // directory among them: regular files and directories (what grep -r reads there), in name order.
    std::vector<std::string> parts;
    std::vector<std::string> patterns;         // deny entries that lie below the tree
    std::vector<std::string> pseudo_patterns;  // ... of them, those in /proc or /sys: not surveyed
    // Directories on the way closed to us (EACCES) whose owner is not root: not surveyed, and the
    // owner could open them while the program runs.
    std::vector<std::string> closed;
};

// Name filters of a grep request, applied by the survey to the directories it splits (grep would
// have applied them to those directories while recursing).
struct DirFilter {
    std::vector<std::string> exclude_dir;  // simple patterns only (see apply())
};

// A --include/--exclude/--exclude-dir pattern grep applies to a name the same way whether it meets
// the name while recursing (the base name, anchored) or as an operand (any suffix that starts
// after a '/'): a literal, or '*' followed by a literal, with no '/', '\\' or other wildcard. For
// such a pattern a suffix matches exactly when the base name does: the literal tail cannot reach
// past the last '/'. DirFilter holds only these.
[[nodiscard]] bool simple_pattern(const std::string& p);

// Whether a directory named `name` (a base name) is one grep skips by the filter's patterns.
[[nodiscard]] bool excludes(const DirFilter& f, const std::string& name);

// Surveys the tree `canonical` (open as `top`, any fd naming it). `budget` is what the request may
// still list. Errors: path-tree-denied (a directory on the way cannot be examined, the budget is
// spent); path-replaceable (with `need_fixed_parts`: a part's name another user could swap for a
// symlink, which grep would follow as an operand); decision-timeout.
[[nodiscard]] Result<Survey> survey(const policy::Deny& deny, int top, const std::string& canonical,
                                    const DirFilter& filter, bool need_fixed_parts, size_t& budget);

// Rewrites the stage's exec args so that its program skips the denied subtrees of each tree
// operand resolve() let through, and notes them in s.skipped / s.skipped_patterns. Nothing to do
// for a stage without such an operand. Errors are denials: path-tree-denied (find -mindepth
// deeper than a denied path; grep over /proc or /sys, a --include/--exclude/--exclude-dir pattern
// grep would apply differently to the parts, nothing left to search, too many parts), and those
// of survey().
[[nodiscard]] Status apply(const policy::Deny& deny, decision::Stage& s);

}  // namespace diag::tree_prune
