// SPDX-License-Identifier: Apache-2.0
// The network destinations one request names (adr/0018): the values of its url, endpoint,
// target-host and target-port arguments, paired (nc HOST PORT) and checked against the rule's
// connect list. What the argument check admits here is the host; the kernel (Landlock) enforces
// the port: the child may connect over TCP to the ports of these targets and nowhere else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/destination.h"
#include "wrapper/policy/model.h"

namespace diag::targets {

// The destination a value of target type `t` names (destination::parse_url & co). Errors:
// bad-value naming the value and what is wrong with it; internal for a type that is no target.
[[nodiscard]] Result<destination::Target> parse(policy::ValueType t, const std::string& value);

// Appends to `out` the target of `value` when `spec` is of a target type (the form was checked).
void note(const policy::ValueSpec& spec, const std::string& value, std::vector<destination::Target>& out);

// The request's targets as rule `c` admits them: a lone target-port joined to the rule's one
// target-host, then every target admitted by an entry of c.connect. Errors: destination (the
// target and the rule's list), positional-count when a port has no host or hosts are repeated.
[[nodiscard]] Result<std::vector<destination::Target>> check(const policy::Command& c,
                                                             std::vector<destination::Target> found);

// The TCP ports the child may connect to: those of the targets, each once, sorted.
[[nodiscard]] std::vector<uint16_t> tcp_ports(const std::vector<destination::Target>& targets);

}  // namespace diag::targets
