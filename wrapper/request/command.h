// SPDX-License-Identifier: Apache-2.0
// Stage 1: the request string (SSH_ORIGINAL_COMMAND or -c) -> argv. Never a shell: a POSIX subset
// with single quotes, double quotes and backslash escapes, and no expansion of any kind.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::command {

inline constexpr size_t kMaxRequestBytes = 8192;  // docs/bypass-catalogue.md A.14: cap before parsing
inline constexpr size_t kMaxArgs = 64;
inline constexpr size_t kMaxArgBytes = 4096;

// Characters refused outside quotes (a shell would give them meaning).
inline constexpr std::string_view kMetachars = ";&|<>()$`{}*?[]~#!";

// Tokenizes `request`. Errors are denials with reason parse-control, parse-utf8, parse-metachar,
// parse-quote or parse-limit. An empty or all-blank request yields an empty vector.
[[nodiscard]] Result<std::vector<std::string>> tokenize(std::string_view request);

}  // namespace diag::command
