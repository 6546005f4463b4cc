// SPDX-License-Identifier: Apache-2.0
// The schema of one [command.ID] table -> a policy::Command: the words it matches, the program it
// runs, its argument grammar, limits, options and positionals. Nothing here touches the file
// system for the executable (pin.h does that for the command about to run).
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/policy/toml_read.h"

namespace diag::policy_loader {

// Reads the table `n` of command `id`. Command::source is "FILE:LINE" of the table; timeout_ms and
// output_cap stay 0 where the command does not set them (the loader fills in the defaults).
// Errors: kPolicyInvalid at the offending key, the first one in file order.
[[nodiscard]] Result<policy::Command> read_command(const FileCtx& ctx, const std::string& id, const toml::node& n);

}  // namespace diag::policy_loader
