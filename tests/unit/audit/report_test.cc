// SPDX-License-Identifier: Apache-2.0
// diag-audit report: counts over the selection, top denied commands, keys first seen, unused
// rules of a policy and its drop-ins.
#include "wrapper/audit/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

std::string count_of(const audit_report::Counts& counts, const std::string& value) {
    for (const auto& [v, n] : counts) {
        if (v == value) {
            return std::to_string(n);
        }
    }
    return "absent";
}

TEST(AuditReaderReport, CountsOverTheSelection) {
    const Filter f = since("2026-11-23");
    std::vector<const Request*> rows;
    for (const auto& r : fixture().requests) {
        if (*audit_filter::matches(f, r)) {
            rows.push_back(&r);
        }
    }
    std::vector<std::string> files;
    auto ids = audit_report::rule_ids_from_policy(kPolicy, files);
    ASSERT_TRUE(ids.ok()) << ids.error().describe();
    const auto rep = audit_report::build(rows, fixture().requests, f, *ids);
    EXPECT_EQ(rep.requests, 18u);
    EXPECT_EQ(rep.incomplete, 1u);
    EXPECT_EQ(rep.by_decision, (audit_report::Counts{{"allow", 10}, {"deny", 7}, {"error", 1}}));
    EXPECT_EQ(rep.by_principal,
              (audit_report::Counts{{"ci-agent-7", 8}, {"", 5}, {"oncall-alice", 4}, {"deploy\u2066bot", 1}}));
    EXPECT_EQ(count_of(rep.by_key, kK1), "8");
    EXPECT_EQ(count_of(rep.by_key, kK3), "4");
    EXPECT_EQ(count_of(rep.by_key, ""), "1");  // R19: the key could not be read
    EXPECT_EQ(rep.by_host, (audit_report::Counts{{"web-17", 15}, {"db-3", 3}}));
    EXPECT_EQ(rep.by_rule, (audit_report::Counts{{"", 8},
                                                 {"uptime", 3},
                                                 {"uname", 2},
                                                 {"df", 1},
                                                 {"find", 1},
                                                 {"grep-e", 1},
                                                 {"journalctl", 1},
                                                 {"tail", 1}}));
    EXPECT_EQ(count_of(rep.by_reason, "allowed"), "9");
    EXPECT_EQ(count_of(rep.by_reason, "parse-control"), "2");
    EXPECT_EQ(count_of(rep.by_reason, "help"), "1");
    ASSERT_EQ(rep.top_denied.size(), 7u);
    EXPECT_EQ(rep.top_denied.front().first,
              "cat /etc/hostname\n2026-11-23 14:20:01Z ci-agent-7 from 192.0.2.7 ran `uptime`");
    EXPECT_EQ(rep.unused_rules, (std::vector<std::string>{"cat", "free", "ls"}));
    EXPECT_EQ(rep.first_us, at("2026-11-23T14:10:29.512345Z"));
    EXPECT_EQ(rep.last_us, at("2026-11-23T14:27:00Z"));
}

TEST(AuditReaderReport, TopDeniedIsCountedAndCapped) {
    std::vector<Request> reqs(5);
    std::vector<const Request*> rows;
    const char* cmds[] = {"rm a", "rm b", "rm a", "rm a", "rm b"};
    for (size_t i = 0; i < reqs.size(); ++i) {
        reqs[i].verdict = "deny";
        reqs[i].command = cmds[i];
        rows.push_back(&reqs[i]);
    }
    const auto rep = audit_report::build(rows, reqs, Filter{}, std::nullopt, 1);
    EXPECT_EQ(rep.top_denied, (audit_report::Counts{{"rm a", 3}}));
    EXPECT_FALSE(rep.have_policy);
}

TEST(AuditReaderReport, KeysFirstSeenInTheRange) {
    auto new_keys = [](const Filter& f) {
        std::vector<const Request*> rows;
        for (const auto& r : fixture().requests) {
            if (*audit_filter::matches(f, r)) {
                rows.push_back(&r);
            }
        }
        std::vector<std::string> out;
        for (const auto& k : audit_report::build(rows, fixture().requests, f, std::nullopt).new_keys) {
            out.push_back(k.fingerprint + " " + audit_render::format_time(k.first_seen_us));
        }
        return out;
    };
    // ci-agent-7's key was first used the day before: not new on the 23rd.
    EXPECT_EQ(new_keys(since("2026-11-23")),
              (std::vector<std::string>{"SHA256:9yQvC0Kpm1tq0a8mE4Dq8n0Hh3pT7rW2xYzA1bC2dE4 2026-11-23 14:12:40Z",
                                        kK3 + " 2026-11-23 14:20:00Z",
                                        "SHA256:dEpLoYbOt4kQ2wE6rT8yU0iO3pA5sD7fG9hJ1kL3zX5 2026-11-23 14:24:00Z"}));
    EXPECT_EQ(new_keys(Filter{}).front(), kK1 + " 2026-11-22 09:00:00Z");
    EXPECT_EQ(new_keys(Filter{}).size(), 4u);
    Filter deny = since("2026-11-23");
    deny.decisions = {"deny"};  // K4 only ever allowed: not in this selection
    EXPECT_EQ(new_keys(deny).size(), 2u);
}

TEST(AuditReaderReport, RenderedText) {
    std::vector<const Request*> rows = {&req(3), &req(5), &req(9)};
    const auto rep = audit_report::build(rows, fixture().requests, Filter{}, std::vector<std::string>{"cat", "tail"});
    const std::string t = audit_report::render_text(rep);
    EXPECT_EQ(t.rfind("requests  3 (1 incomplete: no end record)\n", 0), 0u) << t;
    EXPECT_NE(t.find("by decision\n  2  deny\n  1  allow\n"), std::string::npos) << t;
    EXPECT_NE(t.find("top denied commands\n  1  `cat /etc/shadow`\n  1  `rm -rf /var/tmp/x`\n"), std::string::npos)
        << t;
    EXPECT_NE(t.find("rules never used\n  cat\n"), std::string::npos) << t;
    const auto j = nlohmann::json::parse(audit_report::render_json(rep));
    EXPECT_EQ(j["requests"], 3);
    EXPECT_EQ(j["unused_rules"], nlohmann::json::array({"cat"}));
    EXPECT_EQ(j["by_decision"][0]["value"], "deny");
    EXPECT_EQ(j["by_decision"][0]["count"], 2);
}

TEST_F(AuditReaderFiles, PolicyRuleIdsIncludeDropIns) {
    std::filesystem::create_directories(dir_ + "/policy.d");
    const std::string main =
        write("policy.toml", "version = 1\n[settings]\ninclude = [\"" + dir_ + "/policy.d\", \"" + dir_ +
                                 "/absent.d\"]\n[command.b]\nmatch = [\"b\"]\n"
                                 "[command.a]\nmatch = [\"a\"]\n");
    write("policy.d/10-extra.toml", "version = 1\n[command.c]\nmatch = [\"c\"]\n");
    write("policy.d/ignored.txt", "[command.z]\n");
    std::vector<std::string> files;
    auto ids = audit_report::rule_ids_from_policy(main, files);
    ASSERT_TRUE(ids.ok()) << ids.error().describe();
    EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(files, (std::vector<std::string>{main, dir_ + "/policy.d/10-extra.toml"}));
    auto bad = audit_report::rule_ids_from_policy(write("bad.toml", "version = 1\n[command.x\n"), files);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kPolicyInvalid);
    ASSERT_TRUE(bad.error().pos.has_value());
    EXPECT_EQ(bad.error().pos->line, 2u);
}

TEST(AuditReaderCli, ReportWithPolicy) {
    Ran r = cli({"--file", kFixture, "report", "--since", "2026-11-23", "--policy", kPolicy});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("rules never used (" + kPolicy + ")\n  cat\n  free\n  ls\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("by principal\n  8  ci-agent-7\n  5  (none)\n  4  oncall-alice\n  1  deploy\\u{2066}bot\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(first_raw_control(r.out), "");
}

}  // namespace
}  // namespace diag::audit_reader
