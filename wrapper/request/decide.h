// SPDX-License-Identifier: Apache-2.0
// Stages 1-3 of a request, pure up to the file system reads of path resolution: tokenize into
// pipeline stages, match each stage (the first any rule, later ones only filters), expand glob
// words typed as paths, resolve every path against the denylist, then the hard-link scans.
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/decision.h"
#include "wrapper/request/hints.h"

namespace diag::decide {

// The decision for `request` under `policy` (its deny list built). `available` says which commands
// a refusal may suggest. Errors are those of command::parse, matcher::match_stage, glob::expand,
// path_resolve::resolve and check_links; `help` with more words than [COMMAND] [--json] is
// unknown-option, `help` in a pipeline pipe-stage.
[[nodiscard]] Result<decision::Decision> decide(const policy::Policy& policy, const std::string& request,
                                                const hints::Available& available);

}  // namespace diag::decide
