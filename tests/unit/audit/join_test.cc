// SPDX-License-Identifier: Apache-2.0
// diag-audit records into requests: a decision joined with its end record, the order by time,
// the typed view of the fields (wrong types read as absent), which kind a record is.
#include "wrapper/audit/join.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

TEST(AuditReader, SortsByTimeWithUntimedRecordsLast) {
    std::vector<int> order;
    for (const auto& r : fixture().requests) {
        order.push_back(number_of(r));
    }
    EXPECT_EQ(order, (std::vector<int>{1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, kNoId}));
}

TEST(AuditReader, JoinsDecisionAndEndByRequestId) {
    const Request& r2 = req(2);
    ASSERT_TRUE(r2.has_decision());
    ASSERT_TRUE(r2.has_end());
    EXPECT_EQ(r2.verdict, "allow");
    EXPECT_EQ(r2.rule, "uname");
    EXPECT_EQ(r2.exit_code, 0);
    EXPECT_EQ(r2.stdout_bytes, 87);
    EXPECT_EQ(r2.duration_ms, 3);
    EXPECT_EQ(r2.decision_origin, kFixture + ":4");
    EXPECT_EQ(r2.end_origin, kFixture + ":5");
    // R4's end record comes after R5's decision in the file.
    EXPECT_TRUE(req(4).has_end());
    EXPECT_EQ(req(4).stdout_bytes, 412);
    const Request& r10 = req(10);
    EXPECT_TRUE(r10.timed_out);
    EXPECT_TRUE(r10.output_capped);
    EXPECT_EQ(r10.signal, 9);
    EXPECT_EQ(r10.exit_status, 137);
    EXPECT_FALSE(r10.exit_code.has_value());
}

TEST(AuditReader, APipelineNamesEveryStagesRule) {
    const nlohmann::json decision = {
        {"diag",
         {{"request_id", "r-pipe"},
          {"decision", "allow"},
          {"rule", "ps-bsd"},
          {"pipeline", {{{"rule", "ps-bsd"}}, {{"rule", "grep-filter"}}, {{"rule", "head-filter"}}}}}}};
    const Request r = make_request(decision, nullptr);
    EXPECT_EQ(r.rule, "ps-bsd");  // what --rule and the report count by
    EXPECT_EQ(r.pipeline_rules, "ps-bsd | grep-filter | head-filter");
    // A stage without a rule is not the shape the wrapper writes: no pipeline is shown.
    nlohmann::json odd = decision;
    odd["diag"]["pipeline"][1] = {{"rule", 7}};
    EXPECT_EQ(make_request(odd, nullptr).pipeline_rules, "");
    EXPECT_EQ(req(2).pipeline_rules, "");
}

TEST(AuditReader, IncompleteIsAnAllowedDecisionWithoutEnd) {
    std::vector<int> incomplete;
    for (const auto& r : fixture().requests) {
        if (r.incomplete()) {
            incomplete.push_back(number_of(r));
        }
    }
    EXPECT_EQ(incomplete, std::vector<int>{9});  // not help (R11), not denials, not the orphan end
    EXPECT_FALSE(req(11).has_end());
    EXPECT_FALSE(req(0).has_decision());
    EXPECT_TRUE(req(0).has_end());
    EXPECT_EQ(req(0).verdict, "allow");  // from the end record
}

TEST(AuditReader, KeyAndCertificateFields) {
    const Request& r4 = req(4);
    EXPECT_EQ(r4.principal, "oncall-alice");
    EXPECT_EQ(r4.key_type, "ssh-ed25519-cert-v01@openssh.com");
    EXPECT_EQ(r4.cert_key_id, "alice@corp.example");
    EXPECT_EQ(r4.cert_serial, "42");
    EXPECT_EQ(r4.ca_fingerprint, kCa);
    EXPECT_EQ(r4.source_ip, "2001:db8::17");
    EXPECT_EQ(r4.source_port, "40222");
    EXPECT_EQ(r4.host_id, "3d1219c7c4c5404aaa1f6d2a48adfda4");
    EXPECT_EQ(r4.boot_id, "76d6acec49af4a3f92a4ada5a80f4c0d");
    EXPECT_EQ(req(16).cert_serial, "18446744073709551615");  // a string in the record
    EXPECT_EQ(req(12).principal, "");
    EXPECT_EQ(req(12).key_fingerprint, kK3);
}

TEST(AuditReader, CommandBytesComeFromBase64WhenNotUtf8) {
    EXPECT_EQ(req(15).command, "uname \x1b[2J\xff");
    EXPECT_TRUE(req(15).command_lossy);
    EXPECT_EQ(req(12).command, "cat /etc/hostname\n2026-11-23 14:20:01Z ci-agent-7 from 192.0.2.7 ran `uptime`");
    EXPECT_FALSE(req(12).command_lossy);
}

TEST(AuditReader, WrongTypesReadAsAbsent) {
    const Request& r17 = req(17);  // its end record: exit_code "0", duration -5, stdout "many", ...
    EXPECT_TRUE(r17.has_end());
    EXPECT_FALSE(r17.exit_code.has_value());
    EXPECT_FALSE(r17.duration_ms.has_value());
    EXPECT_FALSE(r17.stdout_bytes.has_value());
    EXPECT_FALSE(r17.signal.has_value());
    EXPECT_FALSE(r17.timed_out);
    EXPECT_EQ(r17.rule, "uptime");          // the end's rule is an array; the decision's is used
    EXPECT_EQ(r17.source_ip, "192.0.2.7");  // the end's is a number; the decision's is used
    const Request& odd = fixture().requests.back();
    EXPECT_EQ(number_of(odd), kNoId);
    EXPECT_FALSE(odd.time_us.has_value());
    EXPECT_EQ(odd.verdict, "");
    EXPECT_EQ(odd.command, "");
}

TEST(AuditReader, RecordKind) {
    using nlohmann::json;
    EXPECT_EQ(record_kind(json::parse(R"({"event":{"action":"end"}})")), "end");
    EXPECT_EQ(record_kind(json::parse(R"({"event":{"action":"decision"}})")), "decision");
    EXPECT_EQ(record_kind(json::parse(R"({"event":{"action":"reload"}})")), "");
    EXPECT_EQ(record_kind(json::parse(R"({"event":{"action":7}})")), "");
    EXPECT_EQ(record_kind(json::parse(R"({"diag":{"result":{}}})")), "end");
    EXPECT_EQ(record_kind(json::parse(R"({"diag":{"request_id":"x"}})")), "decision");
    EXPECT_EQ(record_kind(json::parse(R"({})")), "");
    EXPECT_EQ(record_kind(json::parse(R"({"diag":"oops"})")), "");
}

}  // namespace
}  // namespace diag::audit_reader
