// SPDX-License-Identifier: Apache-2.0
// Lenient reading of audit record fields: every field is optional, and a value of the wrong type
// reads as absent, so no record (forged, truncated, or from another version) can make diag-audit
// fail. Field names are those of wrapper/record/schema.h.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace diag::audit_reader {

// A field's path from the record's top, e.g. {audit_schema::kDiag, audit_schema::kRequestId}.
using FieldPath = std::initializer_list<std::string_view>;

// The value at `path` if every step exists and has the right type.
[[nodiscard]] const nlohmann::json* find(const nlohmann::json& j, FieldPath path);
[[nodiscard]] std::string get_string(const nlohmann::json& j, FieldPath path);
// A string, or an integer written as decimal (ports and serials appear as either).
[[nodiscard]] std::string get_scalar(const nlohmann::json& j, FieldPath path);
[[nodiscard]] std::optional<int64_t> get_int(const nlohmann::json& j, FieldPath path);
[[nodiscard]] bool get_bool(const nlohmann::json& j, FieldPath path);

// Parses an RFC 3339 / ISO 8601 UTC time: "2026-11-23T14:10:29.512345Z", "...+02:00", also with
// a space for the T, without seconds' fraction, or without a zone (then UTC). Returns microseconds
// since the Unix epoch.
[[nodiscard]] std::optional<int64_t> parse_timestamp(std::string_view s);

}  // namespace diag::audit_reader
