// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/render.h"

#include <algorithm>
#include <cstdio>

namespace diag::audit_render {

namespace {

using audit_reader::Request;

constexpr int64_t kUsPerDay = 86400LL * 1000000;
constexpr const char* kEllipsis = "\xe2\x80\xa6";  // U+2026
// Table column caps: TIME ID DECISION RESULT RULE WHO SOURCE COMMAND (ID and TIME are exact).
constexpr Widths kCaps = {20, 0, 8, 22, 24, 24, 39, 100};
constexpr Widths kFollow = {20, 0, 8, 16, 16, 20, 15, 100};
constexpr const char* kHeaders[kColumns] = {"TIME", "ID", "DECISION", "RESULT", "RULE", "WHO", "SOURCE", "COMMAND"};

// Display width in code points (escaped text is valid UTF-8).
size_t width_of(std::string_view s) {
    return static_cast<size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// `s` cut to `w` code points, the last one an ellipsis when something was cut.
std::string fit(const std::string& s, size_t w) {
    if (w == 0 || width_of(s) <= w) {
        return s;
    }
    size_t kept = 0;
    size_t i = 0;
    while (i < s.size() && kept < w - 1) {
        ++i;
        while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) {
            ++i;
        }
        ++kept;
    }
    return s.substr(0, i) + kEllipsis;
}

std::string pad(const std::string& s, size_t w) {
    const size_t n = width_of(s);
    return n >= w ? s : s + std::string(w - n, ' ');
}

std::string num(int64_t v) { return std::to_string(v); }

std::string or_dash(const std::string& escaped) { return escaped.empty() ? "-" : escaped; }

std::string time_cell(const Request& r, bool fraction) {
    if (r.time_us) {
        return format_time(*r.time_us, fraction);
    }
    return or_dash(escape(r.timestamp));
}

std::string short_id(const Request& r, const Context& c) {
    return r.id.empty() ? "-" : escape(r.id.substr(0, std::min(c.id_len, r.id.size())));
}

std::string who_cell(const Request& r) {
    if (!r.principal.empty()) {
        return escape(r.principal);
    }
    if (!r.key_fingerprint.empty()) {
        return short_fingerprint(r.key_fingerprint);
    }
    return or_dash(escape(r.user));
}

std::array<std::string, kColumns> cells(const Request& r, const Context& c) {
    return {time_cell(r, false),     short_id(r, c), or_dash(escape(r.verdict)),   result_summary(r, c.live),
            or_dash(escape(r.rule)), who_cell(r),    or_dash(escape(r.source_ip)), or_dash(escape(r.command))};
}

// "exit 0, 87 bytes, 3 ms" for an end record.
std::string outcome_text(const Request& r) {
    std::string s;
    if (!r.end_error.empty()) {
        return "not started: " + escape(r.end_error);
    }
    if (r.timed_out) {
        s = "timed out";
        if (r.signal) {
            s += " (signal " + num(*r.signal) + ")";
        }
    } else if (r.signal) {
        s = "killed by signal " + num(*r.signal);
    } else if (r.exit_code) {
        s = "exit " + num(*r.exit_code);
    } else if (r.exit_status) {
        s = "status " + num(*r.exit_status);
    } else {
        s = "ended (no exit status recorded)";
    }
    if (r.stdout_bytes || r.stderr_bytes) {
        s += ", " + num(r.stdout_bytes.value_or(0) + r.stderr_bytes.value_or(0)) + " bytes";
    }
    if (r.duration_ms) {
        s += ", " + num(*r.duration_ms) + " ms";
    }
    if (r.output_capped) {
        s += ", output capped";
    }
    if (r.client_gone) {
        s += ", client gone";
    }
    return s;
}

std::string who_text(const Request& r) {
    std::string s = !r.principal.empty() ? escape(r.principal) : (!r.user.empty() ? escape(r.user) : "unknown");
    if (!r.key_fingerprint.empty()) {
        s += " (" + short_fingerprint(r.key_fingerprint) + ")";
    }
    return s;
}

std::string rule_suffix(const Request& r) {
    if (!r.pipeline_rules.empty()) {
        return " (rules " + escape(r.pipeline_rules) + ")";
    }
    return r.rule.empty() ? "" : " (rule " + escape(r.rule) + ")";
}

std::string csv_num(const std::optional<int64_t>& v) { return v ? num(*v) : ""; }

std::string pretty(const nlohmann::json& j) { return j.dump(2, ' ', true, nlohmann::json::error_handler_t::replace); }

}  // namespace

Result<Format> parse_format(std::string_view s) {
    if (s == "table") {
        return Format::kTable;
    }
    if (s == "text") {
        return Format::kText;
    }
    if (s == "json") {
        return Format::kJson;
    }
    if (s == "csv") {
        return Format::kCsv;
    }
    return make_error(ErrorCode::kUsage, "--format: '" + std::string(s) + "' is not table, text, json or csv");
}

std::string format_time(int64_t us, bool fraction) {
    int64_t days = us / kUsPerDay;
    int64_t rem = us % kUsPerDay;
    if (rem < 0) {
        rem += kUsPerDay;
        --days;
    }
    // H. Hinnant's civil_from_days.
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    const int64_t secs = rem / 1000000;
    char buf[64];
    if (fraction) {
        std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(y),
                      static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                      static_cast<long long>(rem % 1000000));
    } else {
        std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld:%02lldZ", static_cast<long long>(y),
                      static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    }
    return buf;
}

std::string quote_command(std::string_view raw) {
    std::string out = "`";
    for (const char c : escape(raw)) {
        out += c == '`' ? std::string("\\x60") : std::string(1, c);
    }
    return out + "`";
}

std::string format_iso(int64_t us) {
    std::string s = format_time(us, true);
    s[10] = 'T';
    return s;
}

size_t short_id_length(const std::vector<Request>& requests) {
    std::vector<const std::string*> ids;
    for (const auto& r : requests) {
        if (!r.id.empty()) {
            ids.push_back(&r.id);
        }
    }
    std::sort(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    size_t len = 8;
    for (size_t i = 1; i < ids.size(); ++i) {
        const std::string& a = *ids[i - 1];
        const std::string& b = *ids[i];
        size_t common = 0;
        while (common < a.size() && common < b.size() && a[common] == b[common]) {
            ++common;
        }
        len = std::max(len, common + 1);
    }
    return len;
}

std::string short_fingerprint(const std::string& fp) {
    constexpr size_t kShown = 8;
    const std::string e = escape(fp);
    const size_t keep = (e.rfind("SHA256:", 0) == 0 ? 7 : 0) + kShown;
    return e.size() <= keep + 1 ? e : fit(e, keep + 1);
}

std::string result_summary(const Request& r, bool live) {
    if (r.verdict == "deny" || r.verdict == "error") {
        return or_dash(escape(r.reason.empty() ? r.verdict : r.reason));
    }
    if (!r.has_end()) {
        if (r.reason == "help") {
            return "help";
        }
        if (r.verdict != "allow") {
            return or_dash(escape(r.reason));
        }
        return live ? "started" : "no end";
    }
    std::string s;
    if (!r.end_error.empty()) {
        s = "not started";
    } else if (r.timed_out) {
        s = "timeout";
    } else if (r.signal) {
        s = "signal " + num(*r.signal);
    } else if (r.exit_code) {
        s = "exit " + num(*r.exit_code);
    } else if (r.exit_status) {
        s = "status " + num(*r.exit_status);
    } else {
        s = "ended";
    }
    if (r.output_capped) {
        s += ", capped";
    }
    return s;
}

Widths fit_widths(const std::vector<const Request*>& rows, const Context& c) {
    Widths w{};
    for (size_t k = 0; k < kColumns; ++k) {
        w[k] = width_of(kHeaders[k]);
    }
    for (const Request* r : rows) {
        const auto cs = cells(*r, c);
        for (size_t k = 0; k < kColumns; ++k) {
            w[k] = std::max(w[k], width_of(cs[k]));
        }
    }
    for (size_t k = 0; k < kColumns; ++k) {
        if (kCaps[k] != 0) {
            w[k] = std::min(w[k], std::max(kCaps[k], width_of(kHeaders[k])));
        }
    }
    return w;
}

Widths follow_widths(const Context& c) {
    Widths w = kFollow;
    w[1] = std::max(c.id_len, width_of(kHeaders[1]));
    return w;
}

std::string table_header(const Widths& w) {
    std::string line;
    for (size_t k = 0; k < kColumns; ++k) {
        line += k + 1 == kColumns ? std::string(kHeaders[k]) : pad(kHeaders[k], w[k]) + "  ";
    }
    return line + "\n";
}

std::string table_row(const Request& r, const Context& c, const Widths& w) {
    const auto cs = cells(r, c);
    std::string line;
    for (size_t k = 0; k < kColumns; ++k) {
        const std::string cell = fit(cs[k], w[k]);
        line += k + 1 == kColumns ? cell : pad(cell, w[k]) + "  ";
    }
    return line + "\n";
}

std::string text_line(const Request& r, const Context& c) {
    std::string s = time_cell(r, false) + " " + who_text(r);
    if (!r.source_ip.empty()) {
        s += " from " + escape(r.source_ip);
    }
    if (!r.host.empty()) {
        s += " on " + escape(r.host);
    }
    const std::string cmd = quote_command(r.command);
    if (r.verdict == "deny") {
        s += " was denied " + cmd + ": " + or_dash(escape(r.reason)) + rule_suffix(r);
    } else if (r.verdict == "error") {
        s += " hit an error on " + cmd + ": " + or_dash(escape(r.reason)) + rule_suffix(r);
    } else if (r.has_end()) {
        s += " ran " + cmd + rule_suffix(r) + ": " + outcome_text(r);
        if (!r.has_decision()) {
            s += " (decision record not found)";
        }
    } else if (r.reason == "help") {
        s += " asked for " + cmd + " (help listing)";
    } else if (r.verdict == "allow") {
        s += c.live ? " started " + cmd + rule_suffix(r)
                    : " ran " + cmd + rule_suffix(r) + ": no end record (the wrapper died or is still running)";
    } else {
        s += " sent " + cmd + ": decision " + or_dash(escape(r.verdict));
    }
    return s + "; request " + short_id(r, c) + "\n";
}

std::string json_line(const Request& r) {
    const nlohmann::json out = {{"request_id", r.id.empty() ? nlohmann::json() : nlohmann::json(r.id)},
                                {"decision", r.decision},
                                {"end", r.end},
                                {"incomplete", r.incomplete()}};
    return out.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string csv_header() {
    return "time,request_id,decision,reason,rule,principal,key_fingerprint,user,source_ip,source_port,host,"
           "command,exit_code,signal,timed_out,duration_ms,stdout_bytes,stderr_bytes,incomplete\r\n";
}

std::string csv_row(const Request& r) {
    const std::string fields[] = {
        r.time_us ? format_iso(*r.time_us) : text_safety::csv_field(r.timestamp),
        text_safety::csv_field(r.id),
        text_safety::csv_field(r.verdict),
        text_safety::csv_field(r.reason),
        text_safety::csv_field(r.rule),
        text_safety::csv_field(r.principal),
        text_safety::csv_field(r.key_fingerprint),
        text_safety::csv_field(r.user),
        text_safety::csv_field(r.source_ip),
        text_safety::csv_field(r.source_port),
        text_safety::csv_field(r.host),
        text_safety::csv_field(r.command),
        csv_num(r.exit_code),
        csv_num(r.signal),
        r.has_end() ? (r.timed_out ? "true" : "false") : "",
        csv_num(r.duration_ms),
        csv_num(r.stdout_bytes),
        csv_num(r.stderr_bytes),
        r.incomplete() ? "true" : "false",
    };
    std::string line;
    for (size_t i = 0; i < std::size(fields); ++i) {
        line += (i == 0 ? "" : ",") + fields[i];
    }
    return line + "\r\n";
}

std::string render_list(const std::vector<const Request*>& rows, Format f, const Context& c) {
    std::string out;
    switch (f) {
        case Format::kTable: {
            const Widths w = fit_widths(rows, c);
            out = table_header(w);
            for (const Request* r : rows) {
                out += table_row(*r, c, w);
            }
            break;
        }
        case Format::kText:
            for (const Request* r : rows) {
                out += text_line(*r, c);
            }
            break;
        case Format::kJson:
            for (const Request* r : rows) {
                out += json_line(*r);
            }
            break;
        case Format::kCsv:
            out = csv_header();
            for (const Request* r : rows) {
                out += csv_row(*r);
            }
            break;
    }
    return out;
}

std::string render_show(const Request& r) {
    std::string s = "request   " + or_dash(escape(r.id)) + "\n";
    s += "time      " + time_cell(r, true) + "\n";
    std::string who = !r.principal.empty() ? "principal " + escape(r.principal) : "no principal recorded";
    if (!r.key_fingerprint.empty()) {
        who += ", key " + escape(r.key_fingerprint);
        if (!r.key_type.empty()) {
            who += " (" + escape(r.key_type) + ")";
        }
    }
    if (!r.key_error.empty()) {
        who += ", key not read: " + escape(r.key_error);
    }
    s += "who       " + who + "\n";
    if (!r.cert_key_id.empty() || !r.ca_fingerprint.empty() || !r.cert_serial.empty()) {
        s += "cert      key id " + or_dash(escape(r.cert_key_id)) + ", serial " + or_dash(escape(r.cert_serial)) +
             ", CA " + or_dash(escape(r.ca_fingerprint)) + "\n";
    }
    if (!r.user.empty()) {
        s += "user      " + escape(r.user) + "\n";
    }
    if (!r.source_ip.empty()) {
        s +=
            "from      " + escape(r.source_ip) + (r.source_port.empty() ? "" : " port " + escape(r.source_port)) + "\n";
    }
    if (!r.host.empty() || !r.host_id.empty()) {
        s += "host      " + or_dash(escape(r.host));
        if (!r.host_id.empty() || !r.boot_id.empty()) {
            s += " (machine " + or_dash(escape(r.host_id)) + ", boot " + or_dash(escape(r.boot_id)) + ")";
        }
        s += "\n";
    }
    if (!r.pid.empty() || !r.sshd_pid.empty()) {
        s += "process   wrapper pid " + or_dash(escape(r.pid)) + ", parent " + or_dash(escape(r.parent_pid)) +
             ", sshd " + or_dash(escape(r.sshd_pid)) + "\n";
    }
    s += "command   " + quote_command(r.command) +
         (r.command_lossy ? " (not valid UTF-8: exact bytes from process.command_line_b64)" : "") +
         (r.command_redacted ? " (sensitive arguments redacted by the policy)" : "") + "\n";
    s += "decision  " + or_dash(escape(r.verdict));
    if (!r.reason.empty()) {
        s += " (" + escape(r.reason) + ")";
    }
    s += rule_suffix(r) + "\n";
    if (!r.message.empty()) {
        s += "message   " + escape(r.message) + "\n";
    }

    s += "\ntimeline\n";
    const std::string t0 = r.has_decision() ? time_cell(r, true) : "-";
    if (r.has_decision()) {
        s += "  " + t0 + "  decision: " + or_dash(escape(r.verdict)) +
             (r.reason.empty() ? "" : " (" + escape(r.reason) + ")") + rule_suffix(r) + "\n";
    } else {
        s += "  (no decision record in the input: it may be in an older rotation)\n";
    }
    if (r.has_end()) {
        std::string te = r.end_time_us ? format_time(*r.end_time_us, true) : "-";
        std::string rel;
        if (r.end_time_us && r.time_us && r.has_decision()) {
            rel = " (+" + num((*r.end_time_us - *r.time_us) / 1000) + " ms)";
        }
        s += "  " + te + "  end" + rel + ": " + outcome_text(r) + "\n";
    } else if (r.incomplete()) {
        s += "  no end record: the wrapper was killed, the host went down, or the command is still running\n";
    } else if (r.verdict == "deny" || r.verdict == "error") {
        s += "  refused: nothing ran\n";
    }
    s += "outcome   ";
    if (r.verdict == "deny" || r.verdict == "error") {
        s += or_dash(escape(r.verdict)) + ": " + or_dash(escape(r.reason)) + "\n";
    } else if (r.has_end()) {
        s += outcome_text(r) + "\n";
    } else {
        s += result_summary(r, false) + "\n";
    }

    if (r.has_decision()) {
        s += "\ndecision record (" + escape(r.decision_origin) + ")\n" + pretty(r.decision) + "\n";
    }
    if (r.has_end()) {
        s += "\nend record (" + escape(r.end_origin) + ")\n" + pretty(r.end) + "\n";
    }
    return s;
}

}  // namespace diag::audit_render
