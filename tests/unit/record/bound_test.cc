// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/bound.h"

#include <gtest/gtest.h>

#include <string>

#include "wrapper/base/sha256.h"

namespace diag::audit_bound {
namespace {

using nlohmann::json;

json record_with(const std::string& request, size_t args, const std::string& arg) {
    json rec;
    rec["@timestamp"] = "2026-11-23T14:10:29.512345Z";
    rec["event"] = {{"action", "decision"}, {"outcome", "failure"}};
    rec["user"] = {{"name", "diag"}, {"id", "998"}};
    rec["source"] = {{"ip", "192.0.2.7"}, {"port", 50000}};
    rec["process"] = {{"pid", 42}, {"command_line", request}};
    rec["diag"] = {{"decision", "deny"}, {"reason", "bad-value"}, {"rule", "echo"}, {"request_id", "01a2"}};
    rec["diag"]["key"] = {{"fingerprint", "SHA256:UrunsZEDQW+r00OArmrk4+d4pSMIa/61VFhU/9PmuUQ"}};
    rec["diag"]["argv"] = json::array();
    for (size_t i = 0; i < args; ++i) {
        rec["diag"]["argv"].push_back(arg);
    }
    rec["diag"]["message"] = "argument '" + arg + "': expected int";
    return rec;
}

TEST(AuditBound, FilterFieldsComeBeforeTheRequest) {
    const std::string line = dump(ordered(record_with("echo hi", 2, "hi")));
    const size_t bulk = std::min(line.find("\"argv\""), line.find("\"command_line\""));
    for (const char* k : {"\"@timestamp\"", "\"decision\"", "\"reason\"", "\"rule\"", "\"request_id\"", "\"user\"",
                          "\"key\"", "\"source\""}) {
        EXPECT_LT(line.find(k), bulk) << k << " in " << line;
    }
    EXPECT_EQ(line.rfind("{\"@timestamp\":", 0), 0u) << line;
}

TEST(AuditBound, SmallRecordIsKeptWhole) {
    const json rec = record_with("echo hi", 2, "hi");
    auto o = fit(rec, kMaxRecordBytes);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(json::parse(dump(*o)), rec);
    EXPECT_FALSE((*o)["diag"].contains("truncated"));
}

TEST(AuditBound, LongRequestKeepsPrefixLengthAndHash) {
    const std::string request = "echo " + std::string(100000, 'x');
    auto o = fit(record_with(request, 1, "x"), kMaxRecordBytes);
    ASSERT_TRUE(o.ok());
    const std::string line = dump(*o);
    EXPECT_LE(line.size(), kMaxRecordBytes);
    const std::string kept = (*o)["process"]["command_line"];
    EXPECT_EQ(kept.size(), kRequestBytes);
    EXPECT_EQ(request.compare(0, kept.size(), kept), 0);
    const auto& t = (*o)["diag"]["truncated"];
    ASSERT_EQ(t.size(), 1u) << line;
    EXPECT_EQ(t[0]["field"], "process.command_line");
    EXPECT_EQ(t[0]["length"], request.size());
    EXPECT_EQ(t[0]["sha256"], sha256_hex(request));
}

TEST(AuditBound, ManyWideArgumentsFitTheSyslogBudget) {
    std::string wide;
    for (int i = 0; i < 2000; ++i) {
        wide += "\xe2\x80\xa8";  // U+2028: 3 bytes, 6 as JSON
    }
    const json rec = record_with(wide, 64, wide);
    auto o = fit(rec, kSyslogRecordBytes);
    ASSERT_TRUE(o.ok());
    const std::string line = dump(*o);
    EXPECT_LE(line.size(), kSyslogRecordBytes);
    EXPECT_EQ((*o)["diag"]["decision"], "deny");
    EXPECT_EQ((*o)["diag"]["rule"], "echo");
    EXPECT_EQ((*o)["source"]["ip"], "192.0.2.7");
    // The array entry says how many there were and hashes all of them.
    bool argv_noted = false;
    for (const auto& t : (*o)["diag"]["truncated"]) {
        if (t["field"] == "diag.argv") {
            argv_noted = true;
            EXPECT_EQ(t["count"], 64);
        }
    }
    EXPECT_TRUE(argv_noted) << line.substr(0, 1500);
}

TEST(AuditBound, FilterFieldsAreCappedButKept) {
    json rec = record_with("echo", 0, "");
    rec["diag"]["rule"] = std::string(10000, 'r');
    for (int i = 0; i < 200; ++i) {
        rec["diag"]["extra" + std::to_string(i)] = std::string(200, 'e');
    }
    auto o = fit(rec, kMinRecordBytes);
    ASSERT_TRUE(o.ok());
    EXPECT_LE(dump(*o).size(), kMinRecordBytes);
    EXPECT_EQ((*o)["diag"]["rule"].get<std::string>().size(), kProtectedBytes);
    EXPECT_EQ((*o)["diag"]["decision"], "deny");
    EXPECT_EQ((*o)["diag"]["request_id"], "01a2");
}

TEST(AuditBound, BudgetBelowTheMinimumIsRefused) {
    auto o = fit(record_with("echo", 0, ""), kMinRecordBytes - 1);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().code, ErrorCode::kAudit);
}

TEST(AuditBound, KeepPrefixNeverSplitsACharacter) {
    const std::string s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"";  // a é € 😀 "
    EXPECT_EQ(keep_prefix(s, 0), 0u);
    EXPECT_EQ(keep_prefix(s, 1), 1u);
    EXPECT_EQ(keep_prefix(s, 6), 1u);  // é costs 6
    EXPECT_EQ(keep_prefix(s, 7), 3u);
    EXPECT_EQ(keep_prefix(s, 13), 6u);  // € costs 6
    EXPECT_EQ(keep_prefix(s, 24), 6u);  // 😀 costs 12
    EXPECT_EQ(keep_prefix(s, 25), 10u);
    EXPECT_EQ(keep_prefix(s, 27), 11u);  // " costs 2
    EXPECT_EQ(keep_prefix("\x01", 5), 0u);
    EXPECT_EQ(keep_prefix("\x01", 6), 1u);
}

}  // namespace
}  // namespace diag::audit_bound
