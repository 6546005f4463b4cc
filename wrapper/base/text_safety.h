// SPDX-License-Identifier: Apache-2.0
// The one place that decides what text from an untrusted source (a request, a record, a path) may
// reach a terminal, a log line or a spreadsheet as it is. Used by diag-audit's renderers and, via
// printable(), by the wrapper's messages to the client.
//
// Shown escaped, never raw:
//   - "\" as "\\" (so an escape sequence in the output is always ours);
//   - C0 controls and DEL as \xNN; bytes that are not well-formed UTF-8 as \xNN;
//   - every code point of kEscapedRanges (text_safety_table.inc, generated from the Unicode
//     Character Database by scripts/gen_text_safety.py) as \u{XXXX}: C1 controls, all
//     Default_Ignorable_Code_Point (soft hyphen, fillers, variation selectors, tag characters, ...),
//     all format characters (Cf: bidi controls, zero-width characters, U+FFF9..), U+2028/U+2029,
//     and characters that look like ` ' or " (U+02CB, U+FF40, U+2019, ...).
// Everything else, including letters of every script, is kept byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace diag::text_safety {

struct CodePointRange {
    uint32_t first;
    uint32_t last;
};

// Length of the well-formed UTF-8 sequence at s[i] (1..4) and its code point; 0 when the bytes
// there are not one (overlong, surrogate, above U+10FFFF, truncated, stray continuation byte).
[[nodiscard]] size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp);

// True if `cp` is never shown raw (see above; C0 and DEL included).
[[nodiscard]] bool must_escape(uint32_t cp);

inline constexpr size_t kNoLimit = static_cast<size_t>(-1);

// `s` made safe to print on one line, as described above. With `max_len`, output stops before the
// first unit (a character or an escape) that starts at or after max_len bytes, and "..." marks
// the cut; a unit is never split.
[[nodiscard]] std::string escape(std::string_view s, size_t max_len = kNoLimit);

// A CSV field (RFC 4180) that spreadsheet programs show as text and never evaluate: the escaped
// value; when it starts with = + - @ (or the raw value with a tab or CR) or contains ; (a list
// separator in many locales), a ' is put in front of it (the OWASP "CSV injection" advice) and the
// field is quoted; a field holding , " or an outer space is quoted, with " doubled.
[[nodiscard]] std::string csv_field(std::string_view raw);

// True if s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
[[nodiscard]] bool valid_utf8(std::string_view s);

// Byte offset of the first C0 control, DEL or C1 control (U+0080..U+009F), if any. Assumes valid UTF-8.
[[nodiscard]] std::optional<size_t> find_control(std::string_view s);

// The wrapper's one-line messages to the client: escape() cut after about max_len bytes.
[[nodiscard]] std::string printable(std::string_view s, size_t max_len = 200);

// The Unicode version kEscapedRanges was generated from ("15.0.0").
[[nodiscard]] std::string_view unicode_version();

}  // namespace diag::text_safety
