// SPDX-License-Identifier: Apache-2.0
// The policy's stages of the pipeline (pipeline.cc lists them all): loading it for a request (from
// its compiled image or its files), widening a request decided with some rules to every rule, the
// deny list's canonicalization, and the modes that stop after the policy: --check, --explain,
// --compile.
#pragma once

#include <string_view>

#include "wrapper/base/error.h"
#include "wrapper/pipeline.h"
#include "wrapper/policy/compiled.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/hints.h"

namespace diag::pipeline {

// 0. The policy for `inv`: for a request, from its compiled image when one may be used (compiled.h:
//    root-owned, keyed by the digest of the files as they are now), with only the rules the
//    request's words name; otherwise from its files: root-owned, exact types, unknown keys
//    rejected.
[[nodiscard]] Result<compiled::Loaded> load_policy(const Invocation& inv);

// Every rule, for a request decided with only the rules its words name that was refused or asked
// for the listing. Error kPolicyInvalid when neither the image nor the files give the key the
// request was loaded with.
[[nodiscard]] Status widen(const Invocation& inv, policy::Policy& policy);

// 0b. The deny entries canonicalized (deny_list.h).
// `snapshot`: the compiled image's snapshot of the list (deny_snapshot.h), taken instead of a
// build when it is current. Returns whether it was.
[[nodiscard]] Result<bool> build_deny(policy::Policy& policy, std::string_view snapshot = {});

// An error of the policy's own (a deny entry that cannot be read as one) says so.
[[nodiscard]] Error named_policy_error(Error e);

// Every command pinned to its executable on this host (or marked unavailable).
void pin_all(policy::Policy& policy);

// The commands a refusal may suggest: those this host can run (hints.h).
[[nodiscard]] hints::Available suggestable(const policy::Policy& policy);

// --check and --explain: the policy, or the decision for one request, printed; nothing is
// recorded and nothing runs. Returns the exit status.
[[nodiscard]] int dry_run(const Invocation& inv, policy::Policy& policy);

// --compile: the policy loaded from its files with every check of a request's load, written as
// its compiled image. Returns the exit status.
[[nodiscard]] int compile_image(const Invocation& inv);

}  // namespace diag::pipeline
