// SPDX-License-Identifier: Apache-2.0
// Inside the Landlock stage only: the access rights, creating a ruleset that handles every right
// the running ABI knows, adding one path rule, and the TCP connect rules. landlock.cc builds the
// complement of the denylist with them, landlock_scoped.cc the rulesets that grant only named
// files (a filter's, a rule that reads only its operands).
#pragma once

#include <cstdint>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/confine/landlock.h"

namespace diag::landlock::rules {

// include/uapi/linux/landlock.h; the build host's header may predate ABI 3-7.
inline constexpr uint64_t kFsExecute = 1ULL << 0;
inline constexpr uint64_t kFsWriteFile = 1ULL << 1;
inline constexpr uint64_t kFsReadFile = 1ULL << 2;
inline constexpr uint64_t kFsReadDir = 1ULL << 3;

// A ruleset handling every file-system right, TCP bind and connect and the scopes of the running
// ABI, so nothing is implicitly allowed: what no rule grants is refused. Errors: kExecFailed.
[[nodiscard]] Result<Ruleset> create();

// landlock_add_rule(PATH_BENEATH) of `access` on the object open as `parent_fd`; 0 or an errno.
[[nodiscard]] int add_path(int ruleset_fd, int parent_fd, uint64_t access);

// TCP connect, never bind, to each of `ports`: the only TCP the ruleset allows. A kernel below
// kNetAbi cannot confine them: a non-empty list there is an error.
[[nodiscard]] Status grant_connect(Ruleset& rs, const std::vector<uint16_t>& ports);

}  // namespace diag::landlock::rules
