// SPDX-License-Identifier: Apache-2.0
// Parsing of numbers, durations, sizes and fields from configuration and /proc text.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace diag::util {

// Whitespace-separated fields (space, tab, newline).
[[nodiscard]] std::vector<std::string_view> fields(std::string_view s);

// Parses "500ms", "30s", "5min", "1h30min", "2d", "1w" into milliseconds.
[[nodiscard]] std::optional<uint64_t> parse_duration_ms(std::string_view s);

// Parses "1048576", "64K", "16MiB", "1G" into bytes.
[[nodiscard]] std::optional<uint64_t> parse_size(std::string_view s);

// Parses a signed decimal integer with optional leading '+' / '-', no overflow.
[[nodiscard]] std::optional<int64_t> parse_int(std::string_view s);

[[nodiscard]] bool starts_with(std::string_view s, std::string_view prefix);

}  // namespace diag::util
