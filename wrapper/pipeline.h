// SPDX-License-Identifier: Apache-2.0
// The only place that knows the order of the stages.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::pipeline {

inline constexpr int kExitDenied = 126;  // the request was refused; nothing ran
inline constexpr int kExitError = 125;   // the wrapper could not decide or start (bad policy, audit, exec)

// kCompile: write the policy's compiled image (compiled.h), as root.
enum class Mode { kRun, kCheck, kExplain, kCompile };

struct Invocation {
    Mode mode = Mode::kRun;
    std::string policy_path = DIAG_DEFAULT_POLICY;
    std::string request;    // the client's command line (already chosen between env and -c)
    std::string ignored_c;  // a -c string that named the wrapper itself: recorded, never run
    // --check --build: validate the policy as a build step (no ownership or host checks; see
    // policy_loader::Options::syntax_only). `include` replaces settings.include (--include DIR).
    bool build_check = false;
    std::optional<std::vector<std::string>> include;
};

// ErrorCode -> exit status: kDenied -> 126, everything else -> 125.
[[nodiscard]] int exit_code(ErrorCode code);

// Runs the stages for `inv` and returns the exit status. In kRun mode an allowed request runs the
// pinned binary in a confined child while the wrapper stays the parent, supervises it and records
// how it ended (adr/0006): the status is then the command's (its exit code, or 128+signal).
[[nodiscard]] int run(const Invocation& inv);

}  // namespace diag::pipeline
