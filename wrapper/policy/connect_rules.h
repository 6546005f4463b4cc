// SPDX-License-Identifier: Apache-2.0
// A rule's network destinations (adr/0018): the `connect` key of a [command.ID] table and its
// consistency with the rule's arguments and settings.
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/policy/toml_read.h"

namespace diag::policy_loader {

// Reads `connect` (a list of URL prefixes and HOST:PORT endpoints, destination::parse_listed)
// into c.connect, and checks that the rule agrees with it: a rule with connect entries sets
// network = true, is no filter, and types at least one argument url, endpoint or target-host; a
// rule that types an argument so lists connect entries; a target-port goes with a target-host.
// Call after the options and positionals are read. Errors: kPolicyInvalid at the offending key.
[[nodiscard]] Status read_connect(const FileCtx& ctx, const toml::table& t, const std::string& what,
                                  policy::Command& c);

}  // namespace diag::policy_loader
