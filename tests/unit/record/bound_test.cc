// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/bound.h"

#include <gtest/gtest.h>

#include <cstdint>
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

// A record with every kind of value the writer puts in one: nested objects in the ordered levels
// and below them, arrays of objects, keys outside the schema's lists, every number type, text
// that must be escaped and bytes that are not UTF-8.
json full_record(const std::string& request) {
    json rec = record_with(request, 3, "caf\xc3\xa9 \"q\" \x01 \xff");
    rec["destination"] = {{"ip", "127.0.0.1"}, {"port", 22}};
    rec["host"] = {{"hostname", "vm"}, {"id", "3d12"}, {"boot_id", "39da"}};
    rec["schema"] = "diag-wrapper.audit/1";
    rec["zzz_unlisted"] = {{"b", true}, {"a", nullptr}, {"f", 1.5}};
    rec["process"]["shell_c"] = "ls\n\u2028";
    rec["process"]["parent"] = {{"pid", 41}};
    rec["process"]["args"] = {"a", "b"};
    rec["diag"]["origin"] = {{"root_sshd", false}, {"sshd_uid", 4294967295u}, {"account_checked", true}};
    rec["diag"]["pipeline"] = json::array({{{"rule", "cat"}, {"argv", {"cat", "x"}}}, {{"rule", "grep"}}});
    rec["diag"]["result"] = {{"exit_code", -1}, {"duration_ms", 12}};
    rec["diag"]["aaa_unlisted"] = json::object();
    return rec;
}

json place(uint64_t seq) {
    return {{"id", "01a24eb0-6d2c-7c3e-9d1b-2f3a4b5c6d7e"}, {"seq", seq}, {"prev", std::string(64, 'a')}};
}

TEST(AuditBound, DirectDumpIsTheOrderedDump) {
    for (const json& rec : {record_with("echo hi", 2, "hi"), full_record("cat /etc/hostname"), json::object()}) {
        EXPECT_EQ(dump(rec, nullptr), dump(ordered(rec)));
        json with = rec;
        with["diag"]["chain"] = place(7);
        EXPECT_EQ(dump(rec, &with["diag"]["chain"]), dump(ordered(with)));
        // A chain the record already holds is replaced by the one given.
        EXPECT_EQ(dump(with, &with["diag"]["chain"]), dump(ordered(with)));
        json other = with;
        other["diag"]["chain"] = place(UINT64_MAX);
        EXPECT_EQ(dump(other, &with["diag"]["chain"]), dump(ordered(with)));
    }
}

TEST(AuditBound, FitRecordKeepsARecordThatFitsWithoutACopy) {
    const json rec = full_record("cat /etc/hostname");
    const json placeholder = place(UINT64_MAX);
    auto f = fit_record(rec, kMaxRecordBytes, &placeholder);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(&f->record(), &rec);
    const json real = place(3);
    EXPECT_EQ(f->line_with(real), dump(rec, &real));
}

// What the writer writes (fit_record, then the line with the chain's place) is what it wrote when
// it bounded a copy holding the placeholders and filled the place in afterwards.
TEST(AuditBound, FitRecordReducesAsFitDoes) {
    std::string wide;
    for (int i = 0; i < 2000; ++i) {
        wide += "\xe2\x80\xa8";
    }
    json many = record_with("echo", 0, "");
    for (int i = 0; i < 200; ++i) {
        many["diag"]["extra" + std::to_string(i)] = std::string(200, 'e');
    }
    const json placeholder = place(UINT64_MAX);
    const json real = place(12);
    for (const json& rec : {full_record("echo " + std::string(100000, 'x')), record_with(wide, 64, wide), many,
                            full_record("cat /etc/hostname")}) {
        for (const size_t budget : {kMaxRecordBytes, kSyslogRecordBytes, kMinRecordBytes}) {
            json with = rec;
            with["diag"]["chain"] = placeholder;
            auto before = fit(with, budget);
            ASSERT_TRUE(before.ok());
            (*before)["diag"]["chain"]["seq"] = 12;
            (*before)["diag"]["chain"]["prev"] = std::string(64, 'a');
            (*before)["diag"]["chain"]["id"] = real["id"];
            auto now = fit_record(rec, budget, &placeholder);
            ASSERT_TRUE(now.ok());
            EXPECT_EQ(dump(now->record(), &real), dump(*before)) << budget;
            EXPECT_EQ(now->line_with(real), dump(*before)) << budget;
            auto plain = fit_record(rec, budget, nullptr);
            ASSERT_TRUE(plain.ok());
            auto plain_before = fit(rec, budget);
            ASSERT_TRUE(plain_before.ok());
            EXPECT_EQ(dump(plain->record(), nullptr), dump(*plain_before)) << budget;
            EXPECT_EQ(plain->line(), dump(*plain_before)) << budget;
        }
    }
}

// Client text that reads like the chain's placeholder (or its place) stays the client's: the place
// is filled where diag.chain is, whatever the values hold, and the line keeps to the budget for
// every length of record up to it.
TEST(AuditBound, PlaceholderTextInAValueIsNotTheChainsPlace) {
    const json placeholder = place(UINT64_MAX);
    const std::string text = "\"chain\":" + placeholder.dump();
    const json real = place(12);
    for (const size_t budget : {kMaxRecordBytes, kSyslogRecordBytes, kMinRecordBytes}) {
        for (size_t pad = budget - 1400; pad < budget; pad += 7) {
            json rec = record_with("echo " + text, 2, text);
            rec["diag"]["aaa"] = text;  // unlisted: after diag.chain in the line
            // Before diag.chain in the line, within the filter fields' cap.
            rec["source"]["ip"] = text.substr(0, 60);
            rec["diag"]["key"]["type"] = text.substr(0, 60);
            for (size_t left = pad, i = 0; left > 0; left -= std::min<size_t>(left, 1000), ++i) {
                rec["zz" + std::to_string(i)] = std::string(std::min<size_t>(left, 1000), 'p');
            }
            auto f = fit_record(rec, budget, &placeholder);
            ASSERT_TRUE(f.ok());
            const std::string line = f->line_with(real);
            EXPECT_LE(line.size(), budget);
            const json back = json::parse(line);
            EXPECT_EQ(back["diag"]["chain"], real);
            EXPECT_EQ(back["diag"]["aaa"], text);
            EXPECT_EQ(back["source"]["ip"], text.substr(0, 60));
            EXPECT_EQ(back["diag"]["key"]["type"], text.substr(0, 60));
            EXPECT_EQ(back["diag"]["argv"][0], text);
            EXPECT_EQ(back["process"]["command_line"], "echo " + text);
        }
    }
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
