// SPDX-License-Identifier: Apache-2.0
// The schema of a command's arguments: one [[command.ID.option]] or [[command.ID.positional]]
// table -> an OptionSpec or PositionalSpec, with the value keys (type, min/max, values, pattern,
// roots, sensitive) both share.
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/policy/toml_read.h"

namespace diag::policy_loader {

// Reads one option table; its spellings must suit `style` (-x/--long for getopt, -word for words).
// `what` names it in errors ("command.ID.option[N]"). Errors: kPolicyInvalid at the offending key.
[[nodiscard]] Result<policy::OptionSpec> read_option(const FileCtx& ctx, const toml::node& n, policy::Style style,
                                                     const std::string& what);

// Reads one positional table (min/max are counts here, not value bounds). Errors as read_option.
[[nodiscard]] Result<policy::PositionalSpec> read_positional(const FileCtx& ctx, const toml::node& n,
                                                             const std::string& what);

}  // namespace diag::policy_loader
