// SPDX-License-Identifier: Apache-2.0
// The bounded record: every audit line fits every sink, whatever the client sent. A field longer
// than its cap keeps its first bytes (an array its first elements), and diag.truncated keeps its
// full length (or element count) and SHA-256, so nothing that matters is lost: a copy of the
// request proves against the hash. The fields auditors filter on come first in the line and are
// never cut below kProtectedBytes (audit_schema.h).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wrapper/base/error.h"

namespace diag::audit_bound {

// Caps, in serialized bytes (JSON text with ensure_ascii; a non-ASCII character costs 6 or 12).
// The first step keeps what any honest request needs whole; each further step is used only when
// the record still does not fit the sink's budget.
inline constexpr size_t kRequestBytes = 4096;   // the request (command line) as sent
inline constexpr size_t kFieldBytes = 1024;     // any other string: an argv element, a path, the message
inline constexpr size_t kArrayItems = 64;       // argv, executed argv, paths, rules
inline constexpr size_t kProtectedBytes = 128;  // a filter field (time, decision, rule, key, source...)

// Record budgets per sink, in bytes of the line without its newline. syslog: rsyslog's default
// $MaxMessageSize is 8 KiB and relays cut there; the RFC 3164 header takes the rest of it.
inline constexpr size_t kMaxRecordBytes = 16 * 1024;
inline constexpr size_t kSyslogRecordBytes = 8 * 1024 - 64;
// No budget below this is accepted: the filter fields alone always fit in it.
inline constexpr size_t kMinRecordBytes = 4 * 1024;

// How many bytes of `s` to keep so its JSON text stays within `max_serialized` bytes; never
// splits a UTF-8 sequence.
[[nodiscard]] size_t keep_prefix(std::string_view s, size_t max_serialized);

// `rec` in schema order (audit_schema.h), ready to be serialized.
[[nodiscard]] nlohmann::ordered_json ordered(const nlohmann::json& rec);

// The one serialization of a record: ensure_ascii (no byte of the line can split it or drive a
// terminal), invalid UTF-8 replaced (the exact bytes are in *_b64 fields). No newline.
[[nodiscard]] std::string dump(const nlohmann::ordered_json& rec);

// The same line as dump(ordered(rec)), written straight from `rec` without the ordered copy; with
// `chain`, the line of `rec` whose diag.chain is `*chain` (rec's own, if any, is not used).
[[nodiscard]] std::string dump(const nlohmann::json& rec, const nlohmann::json* chain);

// `rec` reduced until its line is at most `max_bytes` long, in schema order. Errors: kAudit when
// max_bytes is below kMinRecordBytes.
[[nodiscard]] Result<nlohmann::ordered_json> fit(const nlohmann::json& rec, size_t max_bytes);

// What fit_record keeps of a record: the record itself when it fits as it is (the usual case: no
// copy), else its reduced copy; and its line, with the chain's placeholders when it has a place.
// `original` points into the caller's record, which must outlive it.
class Fitted {
  public:
    [[nodiscard]] const nlohmann::json& record() const { return original != nullptr ? *original : reduced; }
    // The line with diag.chain = `chain` in place of the placeholders given to fit_record (the
    // line itself without a chain): the bytes of dump(record(), &chain), not serialized again.
    [[nodiscard]] std::string line_with(const nlohmann::json& chain) const;
    [[nodiscard]] const std::string& line() const { return line_; }

  private:
    friend Result<Fitted> fit_record(const nlohmann::json& rec, size_t max_bytes, const nlohmann::json* chain);
    void set_line(const nlohmann::json* chain);
    const nlohmann::json* original = nullptr;
    nlohmann::json reduced;
    std::string line_;
    size_t place_begin_ = std::string::npos;  // where the chain's text is in line_
    size_t place_end_ = std::string::npos;
};

// fit() for the writer: the same reduction, for the record whose diag.chain will be `*chain`
// (placeholders as long as the longest values, counted in the length; nullptr: no chain).
// Errors: as fit().
[[nodiscard]] Result<Fitted> fit_record(const nlohmann::json& rec, size_t max_bytes, const nlohmann::json* chain);

}  // namespace diag::audit_bound
