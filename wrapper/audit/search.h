// SPDX-License-Identifier: Apache-2.0
// diag-audit search and show: the requests a filter selects, as a listing; one request, found by
// its id or a unique prefix of it, in full.
#pragma once

#include <vector>

#include "wrapper/audit/cli.h"
#include "wrapper/audit/join.h"

namespace diag::audit_search {

// The search command over `all` (every request read): the rows o.filter selects in o.format.
// Returns audit_cli::kExitOk, kExitNotFound (nothing selected) or kExitError.
[[nodiscard]] int search(const audit_cli::Options& o, audit_cli::Io& io, const std::vector<audit_reader::Request>& all);

// The show command: the request whose id is o.request_id, or the only one it is a prefix of.
// Returns audit_cli::kExitOk, kExitNotFound, or kExitError (an ambiguous prefix).
[[nodiscard]] int show(const audit_cli::Options& o, audit_cli::Io& io, const std::vector<audit_reader::Request>& all);

}  // namespace diag::audit_search
