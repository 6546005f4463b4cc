// SPDX-License-Identifier: Apache-2.0
// The dry-run modes, which print a verdict and run nothing [doas -C; testsudoers]:
// `--check` summarizes a loaded policy, `--explain -- CMD` says what the policy decides for CMD and
// why. pipeline.cc loads the policy and decides the request; these only print.
#pragma once

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/decision.h"

namespace diag::check {

// --check (on the host) and --check --build (`build`: in a build sandbox, where executables and
// deny entries are not those of the host, so they are reported and not resolved): prints the
// policy's hash, files, commands (and which are unavailable) and deny entries on stdout.
void summarize(const policy::Policy& p, bool build);

// --explain: prints the decision `d` for the request on stdout, allowed (rule, executed argv,
// resolved paths, limits) or refused (reason, message, deny entry). Returns the refusal's error
// when refused (kDenied "command-unavailable" for a rule this host cannot run), so the exit status
// is that of the request.
[[nodiscard]] Status explain(const Result<decision::Decision>& d);

}  // namespace diag::check
