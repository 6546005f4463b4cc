// SPDX-License-Identifier: Apache-2.0
// The confinement of one command, built in the parent before anything runs, where a failure is an
// ordinary error that reaches the decision record: the Landlock complement of the denylist and the
// seccomp filters. The child only applies it (child.h).
#pragma once

#include <nlohmann/json.hpp>

#include "wrapper/base/error.h"
#include "wrapper/confine/exec.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/confine/seccomp.h"
#include "wrapper/policy/model.h"

namespace diag::confinement {

struct Confinement {
    landlock::Ruleset landlock;  // no fd when the kernel has no Landlock (best-effort)
    seccomp::Filters seccomp;
};

// Builds Landlock and seccomp for `cmd`, run as `prep`, and notes in `rec` (diag.confinement) what
// will be applied. A filter (cmd.filter) gets landlock::build_filter instead of the complement of
// the denylist. Landlock below ABI 3 refuses to run unless the policy says landlock =
// "best-effort". `connect_ports`: the TCP ports of the request's destinations (targets.h), the
// child's only TCP; they need Landlock ABI 4 whatever settings.landlock says. Errors: kExecFailed
// (Landlock required but too old, or too old for the ports), those of
// path_resolve::check_links_contained and landlock::build. `operands`, for a rule that reads only
// its path operands (policy::Reads::kOperands) in a request with no tree operand: the objects the
// child may read (landlock::build_operands) in place of the complement; nullptr: the complement.
[[nodiscard]] Result<Confinement> build(const policy::Policy& policy, const policy::Command& cmd,
                                        const exec::Prepared& prep, nlohmann::json& rec,
                                        const std::vector<uint16_t>& connect_ports = {},
                                        const std::vector<landlock::Operand>* operands = nullptr);

}  // namespace diag::confinement
