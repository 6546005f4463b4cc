// SPDX-License-Identifier: Apache-2.0
// The tables only the main policy file may hold: [settings] (search path, drop-in directories,
// defaults, Landlock mode, decision deadline, account) and [audit] (sinks and where they write).
#pragma once

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/policy/toml_read.h"

namespace diag::policy_loader {

// Reads root's [settings] into `p`, then requires settings.search_path in the main file.
// Errors: kPolicyInvalid at the offending key.
[[nodiscard]] Status read_settings(const FileCtx& ctx, const toml::table& root, policy::Policy& p);

// Reads root's [audit] into p.audit. Whether the sinks are complete is checked once every file is
// read. Errors: kPolicyInvalid at the offending key.
[[nodiscard]] Status read_audit(const FileCtx& ctx, const toml::table& root, policy::Policy& p);

}  // namespace diag::policy_loader
