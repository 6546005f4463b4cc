// SPDX-License-Identifier: Apache-2.0
// The policy filter as libseccomp rules (adr/0007). Build-time only: diag-seccomp-gen compiles it
// into the wrapper, and the tests check the compiled-in programs are what it produces now.
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/confine/seccomp.h"

namespace diag::seccomp {

// The policy filter for a rule without or with network = true, as BPF for the native
// architecture. Errors: kExecFailed naming the libseccomp call.
[[nodiscard]] Result<Program> compile_policy(bool network);

// "major.minor.micro" of the libseccomp that compiles it.
[[nodiscard]] std::string libseccomp_version();

}  // namespace diag::seccomp
