// SPDX-License-Identifier: Apache-2.0
// diag-audit output. Every string taken from a record reaches the terminal through escape(), so
// no record can move the cursor, clear the screen, reorder text (bidi) or forge a line; JSON
// output is nlohmann's with ensure_ascii, which escapes everything outside printable ASCII.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/join.h"
#include "wrapper/base/error.h"
#include "wrapper/base/text_safety.h"

namespace diag::audit_render {

enum class Format { kTable, kText, kJson, kCsv };

// "table", "text", "json", "csv". Errors: kUsage.
[[nodiscard]] Result<Format> parse_format(std::string_view s);

// The one escaping function (wrapper/base/text_safety.h), under the name the renderers use.
using text_safety::escape;

// escape(raw) between backquotes, with a backquote inside shown as \x60: the quoting cannot be
// closed early to forge the rest of a sentence ("rm x`: exit 0").
[[nodiscard]] std::string quote_command(std::string_view raw);

// "2026-11-23 14:10:29Z", or "2026-11-23 14:10:29.512345Z" with `fraction`.
[[nodiscard]] std::string format_time(int64_t us, bool fraction = false);
// "2026-11-23T14:10:29.512345Z" (RFC 3339, for CSV).
[[nodiscard]] std::string format_iso(int64_t us);

struct Context {
    size_t id_len = 13;  // characters of the request id in table and text output
    bool live = false;   // follow: an allowed request without its end yet is "started"
};

// The shortest prefix length (at least 8) that tells every id in `requests` apart, like git's
// abbreviated commit ids; `show` accepts such a prefix.
[[nodiscard]] size_t short_id_length(const std::vector<audit_reader::Request>& requests);

// "SHA256:UrunsZED…" (escaped).
[[nodiscard]] std::string short_fingerprint(const std::string& fp);

// What happened, in a few words: "exit 0", "signal 9", "timeout", "path-denied", "no end".
[[nodiscard]] std::string result_summary(const audit_reader::Request& r, bool live);

// Table: TIME ID DECISION RESULT RULE WHO SOURCE COMMAND.
inline constexpr size_t kColumns = 8;
using Widths = std::array<size_t, kColumns>;
// Column widths fitted to `rows` (each capped; longer cells end in "…").
[[nodiscard]] Widths fit_widths(const std::vector<const audit_reader::Request*>& rows, const Context& c);
// Fixed widths for follow, where the rows are not known in advance.
[[nodiscard]] Widths follow_widths(const Context& c);
[[nodiscard]] std::string table_header(const Widths& w);
[[nodiscard]] std::string table_row(const audit_reader::Request& r, const Context& c, const Widths& w);

// One sentence: "2026-11-23 14:10:29Z ci-agent-7 (SHA256:Uruns…) from 192.0.2.7 on web-17 ran
// `uname -a` (rule uname): exit 0, 87 bytes, 3 ms; request 01a208d0-5587\n".
[[nodiscard]] std::string text_line(const audit_reader::Request& r, const Context& c);

// {"request_id":…,"decision":{…}|null,"end":{…}|null,"incomplete":bool}, ASCII only.
[[nodiscard]] std::string json_line(const audit_reader::Request& r);

// RFC 4180: CRLF line ends. Text fields go through text_safety::csv_field: escaped, quoted when
// needed, and neutralised (a leading ') when a spreadsheet could read them as a formula.
[[nodiscard]] std::string csv_header();
[[nodiscard]] std::string csv_row(const audit_reader::Request& r);

// A whole listing (with header for table and csv).
[[nodiscard]] std::string render_list(const std::vector<const audit_reader::Request*>& rows, Format f,
                                      const Context& c);

// `show`: a summary, a timeline and both records pretty-printed (ASCII-only JSON).
[[nodiscard]] std::string render_show(const audit_reader::Request& r);

}  // namespace diag::audit_render
