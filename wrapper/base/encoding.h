// SPDX-License-Identifier: Apache-2.0
// hex and base64.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace diag::util {

[[nodiscard]] std::string hex(const unsigned char* data, size_t n);

// RFC 4648 base64 (standard alphabet), with or without '=' padding.
[[nodiscard]] std::string base64_encode(std::string_view data, bool pad = true);

// Decodes base64 with or without padding; nullopt on any character outside the alphabet.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view data);

}  // namespace diag::util
