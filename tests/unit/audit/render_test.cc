// SPDX-License-Identifier: Apache-2.0
// diag-audit output: table, text, CSV, JSON and show, with every hostile string escaped.
#include "wrapper/audit/render.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

TEST(AuditReaderRender, EscapeShowsEveryControlAndInvalidByte) {
    using audit_render::escape;
    EXPECT_EQ(escape("uname -a"), "uname -a");
    EXPECT_EQ(escape("caf\xc3\xa9 \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xf0\x9f\x98\x80");  // printable UTF-8 kept
    EXPECT_EQ(escape("a\nb\tc\rd"), "a\\x0ab\\x09c\\x0dd");
    EXPECT_EQ(escape("\x1b[2J\x7f"), "\\x1b[2J\\x7f");
    EXPECT_EQ(escape(std::string("\0", 1)), "\\x00");
    EXPECT_EQ(escape("\xc2\x9b"
                     "31m"),
              "\\u{009B}31m");                   // C1 CSI
    EXPECT_EQ(escape("\xc2\x85"), "\\u{0085}");  // NEL
    EXPECT_EQ(escape("a\xe2\x80\xa8"
                     "b\xe2\x80\xa9"),
              "a\\u{2028}b\\u{2029}");                                    // line/paragraph separators
    EXPECT_EQ(escape("x\xe2\x80\xaetxt"), "x\\u{202E}txt");               // RLO
    EXPECT_EQ(escape("\xe2\x81\xa6\xe2\x81\xa9"), "\\u{2066}\\u{2069}");  // isolates
    EXPECT_EQ(escape("\xe2\x80\x8f\xd8\x9c\xef\xbb\xbf"), "\\u{200F}\\u{061C}\\u{FEFF}");
    EXPECT_EQ(escape("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(escape("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
    EXPECT_EQ(escape("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // UTF-16 surrogate
    EXPECT_EQ(escape("\xe2\x80"), "\\xe2\\x80");           // truncated sequence
    EXPECT_EQ(escape("a\\x1b"), "a\\\\x1b");               // a literal backslash cannot fake an escape
}

TEST(AuditReaderRender, EscapeOfRandomBytesIsAlwaysClean) {
    std::mt19937 rng(20261123);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> len(0, 64);
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        const int n = len(rng);
        for (int k = 0; k < n; ++k) {
            // Bias towards the interesting lead bytes (C2 for C1, E2 for U+20xx).
            const int b = byte(rng);
            s += static_cast<char>(b < 16 ? 0xC2 : b < 32 ? 0xE2 : b);
        }
        const std::string e = audit_render::escape(s);
        ASSERT_EQ(first_raw_control(e), "") << audit_render::escape(e);
        ASSERT_EQ(e.find('\n'), std::string::npos);
    }
}

TEST(AuditReaderRender, FormatsTimes) {
    EXPECT_EQ(audit_render::format_time(at("2026-11-23T14:10:29.512345Z")), "2026-11-23 14:10:29Z");
    EXPECT_EQ(audit_render::format_time(at("2026-11-23T14:10:29.512345Z"), true), "2026-11-23 14:10:29.512345Z");
    EXPECT_EQ(audit_render::format_iso(at("2024-02-29T23:59:59.000001Z")), "2024-02-29T23:59:59.000001Z");
    EXPECT_EQ(audit_render::format_time(0), "1970-01-01 00:00:00Z");
    EXPECT_EQ(audit_render::format_time(-1), "1969-12-31 23:59:59Z");
}

TEST(AuditReaderRender, ShortIdsAreUniquePrefixes) {
    EXPECT_EQ(audit_render::short_id_length(fixture().requests), 10u);  // 01a208c5-1 vs 01a208c5-5
    std::vector<Request> two(2);
    two[0].id = "aaaaaaaaaaaa-1";
    two[1].id = "bbbb";
    EXPECT_EQ(audit_render::short_id_length(two), 8u);
}

TEST(AuditReaderRender, TextSentences) {
    audit_render::Context c;
    c.id_len = 10;
    EXPECT_EQ(audit_render::text_line(req(2), c),
              "2026-11-23 14:10:29Z ci-agent-7 (SHA256:UrunsZED\xe2\x80\xa6) from 192.0.2.7 on web-17 ran "
              "`uname -a` (rule uname): exit 0, 87 bytes, 3 ms; request 01a208be-7\n");
    EXPECT_EQ(audit_render::text_line(req(3), c),
              "2026-11-23 14:11:02Z ci-agent-7 (SHA256:UrunsZED\xe2\x80\xa6) from 192.0.2.7 on web-17 was denied "
              "`cat /etc/shadow`: path-denied; request 01a208be-f\n");
    EXPECT_EQ(audit_render::text_line(req(9), c),
              "2026-11-23 14:17:45Z oncall-alice (SHA256:9yQvC0Kp\xe2\x80\xa6) from 2001:db8::17 on web-17 ran "
              "`tail -n 100 /var/log/syslog` (rule tail): no end record (the wrapper died or is still running); "
              "request 01a208c5-1\n");
    EXPECT_EQ(audit_render::text_line(req(10), c),
              "2026-11-23 14:18:00Z ci-agent-7 (SHA256:UrunsZED\xe2\x80\xa6) from 192.0.2.7 on web-17 ran "
              "`find / -name core` (rule find): timed out (signal 9), 1048576 bytes, 30002 ms, output capped; "
              "request 01a208c5-5\n");
    // The newline is shown, and the backquotes inside cannot close the quoting early.
    EXPECT_EQ(audit_render::text_line(req(12), c),
              "2026-11-23 14:20:00Z diag (SHA256:nEwKeyT9\xe2\x80\xa6) from 203.0.113.9 on web-17 was denied "
              "`cat /etc/hostname\\x0a2026-11-23 14:20:01Z ci-agent-7 from 192.0.2.7 ran \\x60uptime\\x60`: "
              "parse-control; request 01a208c7-2\n");
    c.live = true;
    EXPECT_EQ(audit_render::text_line(req(9), c),
              "2026-11-23 14:17:45Z oncall-alice (SHA256:9yQvC0Kp\xe2\x80\xa6) from 2001:db8::17 on web-17 started "
              "`tail -n 100 /var/log/syslog` (rule tail); request 01a208c5-1\n");
}

TEST(AuditReaderRender, Table) {
    audit_render::Context c;
    c.id_len = 10;
    const std::vector<const Request*> rows = {&req(2), &req(3), &req(13)};
    EXPECT_EQ(
        audit_render::render_list(rows, audit_render::Format::kTable, c),
        "TIME                  ID          DECISION  RESULT         RULE   WHO               SOURCE       COMMAND\n"
        "2026-11-23 14:10:29Z  01a208be-7  allow     exit 0         uname  ci-agent-7        192.0.2.7    uname -a\n"
        "2026-11-23 14:11:02Z  01a208be-f  deny      path-denied    -      ci-agent-7        192.0.2.7    cat "
        "/etc/shadow\n"
        "2026-11-23 14:21:00Z  01a208c8-1  deny      parse-control  -      SHA256:nEwKeyT9\xe2\x80\xa6  203.0.113.9  "
        "echo \\x1b[2J\\u{009B}31mowned\\x7f\n");
}

TEST(AuditReaderRender, TableCutsLongCellsWithAnEllipsis) {
    Request r = req(2);
    r.rule = std::string(40, 'r');
    r.command = std::string(150, 'c');
    audit_render::Context c;
    const auto w = audit_render::fit_widths({&r}, c);
    EXPECT_EQ(w[4], 24u);
    const std::string row = audit_render::table_row(r, c, w);
    EXPECT_NE(row.find(std::string(23, 'r') + "\xe2\x80\xa6  "), std::string::npos) << row;
    EXPECT_NE(row.find(std::string(99, 'c') + "\xe2\x80\xa6\n"), std::string::npos) << row;
}

TEST(AuditReaderRender, Csv) {
    EXPECT_EQ(audit_render::csv_header(),
              "time,request_id,decision,reason,rule,principal,key_fingerprint,user,source_ip,source_port,host,"
              "command,exit_code,signal,timed_out,duration_ms,stdout_bytes,stderr_bytes,incomplete\r\n");
    EXPECT_EQ(audit_render::csv_row(req(2)),
              "2026-11-23T14:10:29.512345Z,01a208be-7608-7db7-97fd-01af957221a4,allow,allowed,uname,ci-agent-7,"
              "SHA256:UrunsZEDQW+r00OArmrk4+d4pSMIa/61VFhU/9PmuUQ,diag,192.0.2.7,50011,web-17,uname -a,0,,false,3,87,"
              "0,false\r\n");
    EXPECT_EQ(audit_render::csv_row(req(9)),
              "2026-11-23T14:17:45.000000Z,01a208c5-1b28-7794-9d9d-1a3026162788,allow,allowed,tail,oncall-alice,"
              "SHA256:9yQvC0Kpm1tq0a8mE4Dq8n0Hh3pT7rW2xYzA1bC2dE4,diag,2001:db8::17,40222,web-17,"
              "tail -n 100 /var/log/syslog,,,,,,,true\r\n");
    Request r;
    r.command = "say \"hi\", x";
    r.principal = "=HYPERLINK(\"http://x\")";
    r.rule = "-2+3";
    const std::string row = audit_render::csv_row(r);
    EXPECT_NE(row.find(",\"say \"\"hi\"\", x\","), std::string::npos) << row;
    EXPECT_NE(row.find(",\"'=HYPERLINK(\"\"http://x\"\")\","), std::string::npos) << row;
    EXPECT_NE(row.find(",\"'-2+3\","), std::string::npos) << row;
}

TEST(AuditReaderRender, JsonLineCarriesBothRecords) {
    const std::string line = audit_render::json_line(req(2));
    ASSERT_EQ(line.back(), '\n');
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["request_id"], kId[2]);
    EXPECT_EQ(j["decision"], req(2).decision);
    EXPECT_EQ(j["end"], req(2).end);
    EXPECT_EQ(j["incomplete"], false);
    const auto j9 = nlohmann::json::parse(audit_render::json_line(req(9)));
    EXPECT_TRUE(j9["end"].is_null());
    EXPECT_EQ(j9["incomplete"], true);
    // ensure_ascii: the hostile records come out as pure ASCII.
    for (int n : {12, 13, 14, 15, 16}) {
        const std::string s = audit_render::json_line(req(n));
        EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char ch) { return (ch >= 0x20 && ch < 0x7F) || ch == '\n'; }))
            << n;
    }
}

TEST(AuditReaderRender, ShowHasSummaryTimelineAndRecords) {
    const std::string s = audit_render::render_show(req(2));
    EXPECT_NE(s.find("request   " + std::string(kId[2]) + "\n"), std::string::npos) << s;
    EXPECT_NE(s.find("who       principal ci-agent-7, key " + kK1 + " (ssh-ed25519)\n"), std::string::npos) << s;
    EXPECT_NE(s.find("from      192.0.2.7 port 50011\n"), std::string::npos) << s;
    EXPECT_NE(s.find("timeline\n  2026-11-23 14:10:29.512345Z  decision: allow (allowed) (rule uname)\n"
                     "  2026-11-23 14:10:29.516012Z  end (+3 ms): exit 0, 87 bytes, 3 ms\n"
                     "outcome   exit 0, 87 bytes, 3 ms\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("decision record (" + kFixture + ":4)\n{\n"), std::string::npos) << s;
    EXPECT_NE(s.find("end record (" + kFixture + ":5)\n{\n"), std::string::npos) << s;
    const std::string inc = audit_render::render_show(req(9));
    EXPECT_NE(inc.find("no end record: the wrapper was killed"), std::string::npos) << inc;
    EXPECT_EQ(inc.find("end record ("), std::string::npos) << inc;
    const std::string cert = audit_render::render_show(req(16));
    EXPECT_NE(cert.find("cert      key id deploy\\x1b]0;pwned\\x07\\u{2028}x, serial 18446744073709551615, CA " + kCa),
              std::string::npos)
        << cert;
    const std::string lossy = audit_render::render_show(req(15));
    EXPECT_NE(lossy.find("command   `uname \\x1b[2J\\xff` (not valid UTF-8"), std::string::npos) << lossy;
    EXPECT_NE(s.find("process   wrapper pid 4100, parent 4099, sshd 4098\n"), std::string::npos) << s;
    EXPECT_NE(audit_render::render_show(req(18)).find(
                  "command   `grep -e '[redacted]' /var/log/app.log` (sensitive arguments redacted by the policy)\n"),
              std::string::npos);
    EXPECT_NE(audit_render::render_show(req(19)).find(
                  "who       no principal recorded, key not read: SSH_USER_AUTH is not set (ExposeAuthInfo no?)\n"),
              std::string::npos);
    const std::string orphan = audit_render::render_show(req(0));
    EXPECT_NE(orphan.find("no decision record in the input"), std::string::npos) << orphan;
}

TEST(AuditReaderRender, NoRawControlCharacterInAnyOutput) {
    const auto rows = all_rows();
    audit_render::Context c;
    c.id_len = audit_render::short_id_length(fixture().requests);
    for (auto f : {audit_render::Format::kTable, audit_render::Format::kText, audit_render::Format::kJson,
                   audit_render::Format::kCsv}) {
        const std::string out = audit_render::render_list(rows, f, c);
        EXPECT_EQ(first_raw_control(out), "") << static_cast<int>(f) << "\n" << out;
        c.live = true;
        for (const Request* r : rows) {
            EXPECT_EQ(first_raw_control(audit_render::table_row(*r, c, audit_render::follow_widths(c))), "");
            EXPECT_EQ(first_raw_control(audit_render::text_line(*r, c)), "");
        }
        c.live = false;
    }
    for (const Request* r : rows) {
        EXPECT_EQ(first_raw_control(audit_render::render_show(*r)), "") << r->id;
    }
    const auto rep = audit_report::build(rows, fixture().requests, Filter{}, std::vector<std::string>{"a\x1b"});
    EXPECT_EQ(first_raw_control(audit_report::render_text(rep)), "");
    EXPECT_EQ(first_raw_control(audit_report::render_json(rep)), "");
    // And the fixture's hostile strings really are in there, escaped.
    const std::string table = audit_render::render_list(rows, audit_render::Format::kTable, c);
    for (const char* shown : {"\\x1b[2J\\u{009B}31mowned\\x7f", "cat /tmp/\\u{202E}txt.hs", "uname \\x1b[2J\\xff",
                              "deploy\\u{2066}bot", "cat /etc/hostname\\x0a2026-11-23"}) {
        EXPECT_NE(table.find(shown), std::string::npos) << shown;
    }
}

}  // namespace
}  // namespace diag::audit_reader
