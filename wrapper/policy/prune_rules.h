// SPDX-License-Identifier: Apache-2.0
// Which rules may walk a tree that holds denied paths (adr/0016). The wrapper makes find, grep -r
// and du skip the denied subtrees by rewriting their arguments (request/tree_prune.h); each
// rewrite is exact only for its own program and only next to the options it knows. So a rule
// with `prune` must run that program, and list no option outside the ones its rewrite was built
// and tested with: an option that makes -prune a no-op (find -depth), follows symlinks out of the
// tree, or changes how the program names what it reads would silently undo the pruning.
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/policy/toml_read.h"

namespace diag::policy_loader {

// Refuses the rule `c` (table `t`, named `what`) when it sets `prune` and: its program (by
// basename) is not the one the strategy is for; it is a filter; a path positional is not a tree
// (find, du: meta-path with tree = true; grep: path under a recursive option); find is not
// written style = "words", layout = "positionals-first" with no fixed words; or an option is not
// in the strategy's table of options known to keep the pruning exact.
// A rule without prune passes unchecked. Errors: kPolicyInvalid, one line, at the offending key.
[[nodiscard]] Status check_prune(const FileCtx& ctx, const toml::table& t, const std::string& what,
                                 const policy::Command& c);

// The option spellings a strategy accepts.
[[nodiscard]] bool prune_knows_option(policy::Prune how, const std::string& name);

// find's global options among them: they apply to the whole walk wherever they stand, so the
// rewrite states them before its own expression (and leaves -true where they stood).
[[nodiscard]] bool find_global_option(const std::string& name);

// find's actions among them that print: with none in an expression find prints what it matches
// (-prune and -quit do not count), so the rewrite then adds -print to the request's part.
[[nodiscard]] bool find_print_action(const std::string& name);

}  // namespace diag::policy_loader
