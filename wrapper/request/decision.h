// SPDX-License-Identifier: Apache-2.0
// The decision as far as the request stages got (tokenize, match, expand, resolve): everything the
// record, --explain and the exec need. decide.cc fills it in; plain structs.
#pragma once

#include <string>
#include <vector>

#include "wrapper/request/glob.h"
#include "wrapper/request/matcher.h"
#include "wrapper/request/path_resolve.h"

namespace diag::decision {

// One command of the request: the first, or a filter of the pipeline (adr/0013).
struct Stage {
    std::vector<std::string> argv;                 // as the client typed it (literal words)
    matcher::Match match;                          // glob words already expanded (glob.h)
    std::vector<glob::Withheld> withheld;          // glob matches the deny check held back
    std::vector<path_resolve::Resolved> resolved;  // owns the held-open files of `bound`
    std::vector<int> bound;                        // held-open files, in exec::bound_fd order
    // Denied paths below its tree operands that the program is made to skip (tree_prune.h), and
    // the /proc and /sys deny patterns it skips by pattern (their objects come and go).
    std::vector<std::string> skipped;
    std::vector<std::string> skipped_patterns;
};

struct Decision {
    std::vector<Stage> stages;  // in pipeline order; the listing has one, with only argv set
    bool help = false;          // the listing (an empty request or `help`): no rule, nothing runs
    bool help_json = false;
    std::string help_command;  // `help CMD`: the rules CMD names; empty: every rule
};

}  // namespace diag::decision
