// SPDX-License-Identifier: Apache-2.0
// Request join fuzzer: JSONL records (as the reader accepts them) joined into requests. Every
// record of ours lands in exactly one request slot or is counted (duplicate, conflict); request
// ids are unique; the order is by time, untimed last, then input order; and every rendering of
// every request is safe to print: well-formed UTF-8 with no control or invisible character but
// the line ends. No file is opened.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/filter.h"
#include "wrapper/audit/join.h"
#include "wrapper/audit/reader.h"
#include "wrapper/audit/render.h"
#include "wrapper/base/text_safety.h"

namespace {

namespace reader = diag::audit_reader;
namespace render = diag::audit_render;

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

// What a terminal shows as it is: no C0 control but '\n' (and '\r' right before one, CSV's CRLF),
// no DEL and nothing text_safety::must_escape() names.
void check_printable(std::string_view s) {
    check(diag::text_safety::valid_utf8(s));
    for (size_t i = 0; i < s.size();) {
        uint32_t cp = 0;
        const size_t n = diag::text_safety::decode_utf8(s, i, cp);
        const bool line_end = cp == '\n' || (cp == '\r' && i + 1 < s.size() && s[i + 1] == '\n');
        check(line_end || !diag::text_safety::must_escape(cp));
        i += n;
    }
}

void check_order(const std::vector<reader::Request>& requests) {
    for (size_t i = 1; i < requests.size(); ++i) {
        const reader::Request& a = requests[i - 1];
        const reader::Request& b = requests[i];
        if (a.time_us && b.time_us) {
            check(*a.time_us < *b.time_us || (*a.time_us == *b.time_us && a.order < b.order));
        } else {
            check(a.time_us.has_value() || !b.time_us.has_value());  // untimed last
            check(a.time_us.has_value() != b.time_us.has_value() || a.order < b.order);
        }
    }
}

void check_rendering(const std::vector<reader::Request>& requests) {
    render::Context ctx;
    ctx.id_len = render::short_id_length(requests);
    const render::Widths widths = render::follow_widths(ctx);
    std::vector<const reader::Request*> rows;
    for (const reader::Request& r : requests) {
        rows.push_back(&r);
        check_printable(render::text_line(r, ctx));
        check_printable(render::table_row(r, ctx, widths));
        check_printable(render::csv_row(r));
        check_printable(render::json_line(r));
        check_printable(render::render_show(r));
        const auto all = diag::audit_filter::matches(diag::audit_filter::Filter{}, r);
        check(all.ok() && *all);  // no filter selects everything
    }
    for (const auto f : {render::Format::kTable, render::Format::kText, render::Format::kJson, render::Format::kCsv}) {
        check_printable(render::render_list(rows, f, ctx));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    reader::Collected c;
    size_t start = 0;
    for (size_t line = 1; start <= in.size(); ++line) {
        const size_t nl = std::min(in.find('\n', start), in.size());
        c.add_line(in.substr(start, nl - start), "fuzz:" + std::to_string(line));
        start = nl + 1;
    }
    size_t ours = 0;  // records of a kind a request is made of
    for (const auto& rec : c.records) {
        const std::string kind = reader::record_kind(rec.json);
        check(kind.empty() || kind == "decision" || kind == "end");
        if (!kind.empty()) {
            ++ours;
        }
    }
    reader::ReadStats stats = c.stats;
    const std::vector<reader::Request> requests = reader::join(std::move(c.records), stats);

    size_t slots = 0;
    std::set<std::string> ids;
    for (const reader::Request& r : requests) {
        check(r.has_decision() || r.has_end());
        check(!r.incomplete() || (r.has_decision() && !r.has_end()));
        check(r.id.empty() || ids.insert(r.id).second);
        slots += static_cast<size_t>(r.has_decision()) + static_cast<size_t>(r.has_end());
    }
    check(slots + stats.duplicates + stats.conflicts == ours);
    check_order(requests);
    check_rendering(requests);
    return 0;
}
