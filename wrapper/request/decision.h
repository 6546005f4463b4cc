// SPDX-License-Identifier: Apache-2.0
// The decision as far as the request stages got (tokenize, match, resolve): everything the record,
// --explain and the exec need. pipeline.cc fills it in; a plain struct.
#pragma once

#include <string>
#include <vector>

#include "wrapper/request/matcher.h"
#include "wrapper/request/path_resolve.h"

namespace diag::decision {

struct Decision {
    std::vector<std::string> argv;
    matcher::Match match;
    std::vector<path_resolve::Resolved> resolved;  // owns the held-open files of `bound`
    std::vector<int> bound;                        // held-open files, in exec::bound_fd order
    bool help = false;                             // the listing (an empty request or `help`): no rule, nothing runs
    bool help_json = false;
    std::string help_command;  // `help CMD`: the rules CMD names; empty: every rule
};

}  // namespace diag::decision
