// SPDX-License-Identifier: Apache-2.0
// What may I run? The listing for an empty request or `help`, as text or JSON for agents.
#pragma once

#include <string>

#include "wrapper/policy/model.h"

namespace diag::help {

// One line per command: "ID<TAB>USAGE<TAB>DESCRIPTION" (unavailable commands are marked).
[[nodiscard]] std::string text(const policy::Policy& p);
// A JSON array of {id, usage, description, available, timeout_ms, output_cap}.
[[nodiscard]] std::string json(const policy::Policy& p);

}  // namespace diag::help
