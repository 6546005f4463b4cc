// SPDX-License-Identifier: Apache-2.0
// Audit reader fuzzer: the bytes of an audit file. LineSplitter fed in pieces (of the size the
// first input byte chooses) gives the lines of the whole, as '\n' splits them; every non-empty
// line is either a record (a JSON object) or counted as skipped, never both and never lost; a
// timestamp that parses prints back to itself. No file is opened.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/fields.h"
#include "wrapper/audit/reader.h"
#include "wrapper/audit/render.h"

namespace {

namespace reader = diag::audit_reader;

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

// A line longer than a record may be is kept only up to one byte over the limit (enough to skip it).
std::string capped(std::string_view line) { return std::string(line.substr(0, reader::kMaxLineBytes + 1)); }

std::vector<std::string> split(std::string_view in, size_t piece) {
    std::vector<std::string> lines;
    reader::LineSplitter splitter;
    const auto on_line = [&](std::string_view l) { lines.push_back(capped(l)); };
    for (size_t off = 0; off < in.size(); off += piece) {
        splitter.feed(in.substr(off, piece), on_line);
    }
    if (auto tail = splitter.finish()) {
        lines.push_back(capped(*tail));
    }
    return lines;
}

std::vector<std::string> reference_split(std::string_view in) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl = in.find('\n'); nl != std::string_view::npos; nl = in.find('\n', start)) {
        lines.push_back(capped(in.substr(start, nl - start)));
        start = nl + 1;
    }
    if (start < in.size()) {
        lines.push_back(capped(in.substr(start)));
    }
    return lines;
}

void check_timestamp(std::string_view text) {
    static const int64_t kLast = reader::parse_timestamp("9999-12-30T00:00:00Z").value();
    const auto t = reader::parse_timestamp(text);
    if (t && *t >= 0 && *t <= kLast) {
        check(reader::parse_timestamp(diag::audit_render::format_iso(*t)) == t);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const size_t piece = static_cast<size_t>(data[0]) + 1;
    const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::vector<std::string> lines = split(in, in.size() + 1);
    check(lines == reference_split(in));
    check(split(in, piece) == lines);

    reader::Collected c;
    size_t nonempty = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string origin = "fuzz:" + std::to_string(i + 1);
        std::string_view l = lines[i];
        if (!l.empty() && l.back() == '\r') {
            l.remove_suffix(1);
        }
        if (!l.empty()) {
            ++nonempty;
        }
        const size_t before = c.records.size();
        c.add_line(lines[i], origin);
        if (c.records.size() != before) {
            check(c.records.back().json.is_object() && c.records.back().origin == origin);
            (void)c.records.back().json.dump();  // the depth limit keeps the recursion short
        }
        check_timestamp(lines[i]);
    }
    check(c.stats.records == c.records.size());
    check(c.stats.records + c.stats.skipped == nonempty);
    check(c.stats.skipped_at.size() == std::min(c.stats.skipped, reader::kMaxSkippedNoted));
    return 0;
}
