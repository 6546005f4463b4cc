// SPDX-License-Identifier: Apache-2.0
// The child's environment, rebuilt from scratch: nothing from the client reaches the child
// (no LD_*, BASH_FUNC_*, LESS*, NIX_*, PAGER from outside). docs/bypass-catalogue.md A.7, D.42, F.54-F.56.
#pragma once

#include <string>
#include <vector>

namespace diag::env {

inline constexpr const char* kHome = "/var/empty";

// "KEY=value" strings for execve. PATH is the policy's search path.
[[nodiscard]] std::vector<std::string> build(const std::vector<std::string>& search_path);

}  // namespace diag::env
