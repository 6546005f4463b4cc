// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/verify.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "wrapper/audit/reader.h"
#include "wrapper/base/sha256.h"
#include "wrapper/record/schema.h"

namespace diag::audit_verify {
namespace {

using nlohmann::json;

const std::string kChain = "01a249be-7008-7a42-aecb-69ad8d3da2eb";

// A well-formed chain of `n` records; a checkpoint sealing the previous record at each seq in
// `checkpoints`.
Source chain(size_t n, const std::vector<uint64_t>& checkpoints = {}, const std::string& id = kChain) {
    Source s{"audit.jsonl", {}};
    std::string prev(audit_schema::kGenesisPrev);
    for (uint64_t seq = 1; seq <= n; ++seq) {
        json rec;
        rec["event"]["action"] = "decision";
        if (std::find(checkpoints.begin(), checkpoints.end(), seq) != checkpoints.end()) {
            rec["event"]["action"] = "checkpoint";
            rec["diag"]["checkpoint"] = {{"seq", seq - 1}, {"head", prev}};
        }
        rec["diag"]["chain"] = {{"id", id}, {"seq", seq}, {"prev", prev}};
        rec["n"] = seq;
        const std::string line = rec.dump();
        s.lines.push_back({line, "audit.jsonl:" + std::to_string(seq)});
        prev = sha256_hex(line);
    }
    return s;
}

std::vector<std::string> kinds(const Report& r) {
    std::vector<std::string> out;
    for (const auto& d : r.defects) {
        out.push_back(d.kind + ": " + d.text);
    }
    return out;
}

bool has(const Report& r, const std::string& kind, const std::string& text) {
    for (const auto& d : r.defects) {
        if (d.kind == kind && d.text.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

TEST(AuditVerify, WholeChainHasNoDefects) {
    const Report r = verify({chain(10, {5})}, {});
    EXPECT_TRUE(r.defects.empty()) << ::testing::PrintToString(kinds(r));
    EXPECT_EQ(r.records, 10u);
}

TEST(AuditVerify, DeletedRecordIsAGap) {
    Source s = chain(10);
    s.lines.erase(s.lines.begin() + 3, s.lines.begin() + 5);  // seq 4 and 5
    const Report r = verify({s}, {});
    ASSERT_EQ(r.defects.size(), 1u) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "gap", "seq 4..5 missing"));
}

TEST(AuditVerify, EditedRecordBreaksItsSuccessorsLink) {
    Source s = chain(10);
    auto rec = json::parse(s.lines[6].text);  // seq 7
    rec["n"] = 700;
    s.lines[6].text = rec.dump();
    const Report r = verify({s}, {});
    ASSERT_EQ(r.defects.size(), 1u) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "edit", "seq 7 (audit.jsonl:7) does not hash to what seq 8"));
}

TEST(AuditVerify, EditedRecordSealedByACheckpoint) {
    Source s = chain(10, {10});
    auto rec = json::parse(s.lines[8].text);  // seq 9: its successor is the checkpoint
    rec["n"] = 900;
    s.lines[8].text = rec.dump();
    const Report r = verify({s}, {});
    EXPECT_TRUE(has(r, "edit", "seq 9 (audit.jsonl:9) is not the record the checkpoint at seq 10 sealed"))
        << ::testing::PrintToString(kinds(r));
}

TEST(AuditVerify, SwappedRecordsAreOutOfOrder) {
    Source s = chain(10);
    std::swap(s.lines[2], s.lines[3]);
    const Report r = verify({s}, {});
    ASSERT_EQ(r.defects.size(), 1u) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "order", "seq 3 comes after seq 4"));
}

TEST(AuditVerify, TwoRecordsForOnePlaceAreAFork) {
    Source s = chain(5);
    auto forged = json::parse(s.lines[2].text);
    forged["n"] = "forged";
    s.lines.push_back({forged.dump(), "audit.jsonl:6"});
    const Report r = verify({s}, {});
    EXPECT_TRUE(has(r, "fork", "seq 3 has 2 different records: audit.jsonl:3, audit.jsonl:6"))
        << ::testing::PrintToString(kinds(r));
}

TEST(AuditVerify, AnchorBeyondTheEndIsTruncation) {
    Source s = chain(10, {8});
    const std::string anchor_hash = sha256_hex(s.lines[7].text);
    s.lines.resize(6);
    auto a = parse_anchor("8:" + anchor_hash);
    ASSERT_TRUE(a.ok());
    const Report r = verify({s}, {*a});
    EXPECT_TRUE(has(r, "truncated", "the trail ends at seq 6 but --anchor 8:")) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "truncated", "seq 7..8 missing at the end"));
    // The same anchor on the whole trail: whole.
    EXPECT_TRUE(verify({chain(10, {8})}, {*a}).defects.empty());
    // An anchor naming another record at that place: a fork.
    auto other = parse_anchor("8:" + std::string(64, 'b'));
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(has(verify({chain(10, {8})}, {*other}), "fork", "seq 8 (audit.jsonl:8) is not the record"));
}

TEST(AuditVerify, InputEndingBeforeAnotherIsTruncated) {
    Source file = chain(10);
    Source journal = chain(12);
    journal.name = "the journal";
    file.lines.resize(7);
    const Report r = verify({file, journal}, {});
    ASSERT_EQ(r.defects.size(), 1u) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "truncated", "audit.jsonl ends at seq 7; other inputs go on to seq 12"));
}

TEST(AuditVerify, LinesWithoutAPlaceAreReported) {
    Source s = chain(3);
    s.lines.push_back({"{\"diag\":{\"decision\":\"allow\"}}", "audit.jsonl:4"});
    s.lines.push_back({"{\"diag\":{\"chain\":", "audit.jsonl:5"});
    const Report r = verify({s}, {});
    ASSERT_EQ(r.defects.size(), 2u) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "unchained", "audit.jsonl:4: a record without a chain place"));
    EXPECT_TRUE(has(r, "unchained", "audit.jsonl:5: not a JSON object"));
}

TEST(AuditVerify, PartialChainPlacesAreUnchained) {
    // A chain object missing seq or prev, or with the wrong types, was once read by looking up
    // absent keys of a const JSON object (an assertion, undefined behaviour under NDEBUG).
    Source s = chain(1);
    s.lines.push_back({R"({"diag":{"chain":{"id":"x"}}})", "audit.jsonl:2"});
    s.lines.push_back({R"({"diag":{"chain":{"id":"x","seq":2}}})", "audit.jsonl:3"});
    s.lines.push_back({R"({"diag":{"chain":{"id":"x","seq":"2","prev":"p"}}})", "audit.jsonl:4"});
    s.lines.push_back({R"({"diag":{"chain":[]}})", "audit.jsonl:5"});
    const Report r = verify({s}, {});
    ASSERT_EQ(r.defects.size(), 4u) << ::testing::PrintToString(kinds(r));
    for (const char* where : {"audit.jsonl:2", "audit.jsonl:3", "audit.jsonl:4", "audit.jsonl:5"}) {
        EXPECT_TRUE(has(r, "unchained", std::string(where) + ": a record without a chain place")) << where;
    }
    EXPECT_EQ(r.records, 1u);
}

TEST(AuditVerify, SecondChainIsARestart) {
    Source s = chain(3);
    Source again = chain(2, {}, "01a249be-7008-7a42-aecb-000000000000");
    for (auto& l : again.lines) {
        s.lines.push_back(l);
    }
    const Report r = verify({s}, {});
    ASSERT_EQ(r.defects.size(), 1u) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "restart", "the chain state was reset"));
}

TEST(AuditVerify, AnchorsMustBeSeqColonSha256) {
    EXPECT_TRUE(parse_anchor("1:" + std::string(64, 'a')).ok());
    for (const std::string& bad : std::vector<std::string>{"", "1", "1:", "0:" + std::string(64, 'a'),
                                                           "-1:" + std::string(64, 'a'), "x:" + std::string(64, 'a'),
                                                           "1:" + std::string(63, 'a'), "1:" + std::string(64, 'A')}) {
        auto a = parse_anchor(bad);
        ASSERT_FALSE(a.ok()) << bad;
        EXPECT_EQ(a.error().code, ErrorCode::kUsage);
    }
}

// Review finding: an anchor older than the first record of the inputs was never checked, and said
// nothing: the records between it and the inputs could be gone.
TEST(AuditVerify, AnchorBeforeTheFirstRecordIsReported) {
    Source s = chain(10);
    const std::string anchor_hash = sha256_hex(s.lines[2].text);
    s.lines.erase(s.lines.begin(), s.lines.begin() + 5);  // seq 6..10 remain
    auto a = parse_anchor("3:" + anchor_hash);
    ASSERT_TRUE(a.ok());
    const Report r = verify({s}, {*a});
    EXPECT_TRUE(has(r, "truncated", "the trail starts at seq 6 but --anchor 3:")) << ::testing::PrintToString(kinds(r));
    EXPECT_TRUE(has(r, "truncated", "seq 3..5 not in these inputs"));
}

// Review finding: with the anchored record itself removed, the record after it was not held to
// name the anchored hash: a trail rewritten from the anchor on passed.
TEST(AuditVerify, RecordAfterAnAnchorMustNameIt) {
    Source s = chain(10);
    const std::string anchor_hash = sha256_hex(s.lines[4].text);
    auto a = parse_anchor("5:" + anchor_hash);
    ASSERT_TRUE(a.ok());
    // seq 6..10 rewritten as a chain of their own that starts where the anchored record was.
    Source forged{"audit.jsonl", {}};
    std::string prev(64, 'f');
    for (uint64_t seq = 6; seq <= 10; ++seq) {
        json rec;
        rec["diag"]["chain"] = {{"id", kChain}, {"seq", seq}, {"prev", prev}};
        forged.lines.push_back({rec.dump(), "audit.jsonl:" + std::to_string(seq)});
        prev = sha256_hex(forged.lines.back().text);
    }
    const Report r = verify({forged}, {*a});
    EXPECT_TRUE(has(r, "fork", "seq 6 (audit.jsonl:6) names another predecessor than the record --anchor 5:"))
        << ::testing::PrintToString(kinds(r));
    // The real successor names it: nothing to report about the anchor.
    Source real = chain(10);
    real.lines.erase(real.lines.begin(), real.lines.begin() + 5);
    EXPECT_FALSE(has(verify({real}, {*a}), "fork", "names another predecessor"));
}

// Review finding: a record at seq 0 (no such place) in front of the chain passed unremarked.
TEST(AuditVerify, SeqZeroIsNoPlace) {
    Source s = chain(3);
    json rec;
    rec["diag"]["chain"] = {{"id", kChain}, {"seq", 0}, {"prev", std::string(audit_schema::kGenesisPrev)}};
    s.lines.insert(s.lines.begin(), {rec.dump(), "audit.jsonl:0"});
    const Report r = verify({s}, {});
    EXPECT_TRUE(has(r, "unchained", "audit.jsonl:0: seq 0")) << ::testing::PrintToString(kinds(r));
}

// Review finding: a line without a newline was kept whole however long it was (a gzip file a few
// KiB long can hold gigabytes), and scanned again from its start for every block read.
TEST(AuditVerify, LineLongerThanAnyRecordIsReportedNotKept) {
    char tmpl[] = "/tmp/verify-test.XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    const Source whole = chain(3);
    {
        std::ofstream out(tmpl, std::ios::binary);
        out << whole.lines[0].text << "\n";
        out << std::string(audit_reader::kMaxLineBytes + 10, 'x') << "\n";
        out << whole.lines[1].text << "\n" << whole.lines[2].text << "\n";
        out << std::string(audit_reader::kMaxLineBytes + 1, 'y');  // torn, and too long
    }
    audit_cli::Options o;
    o.files = {tmpl};
    std::string out;
    std::string err;
    audit_cli::Io io{[&](std::string_view t) { out += t; }, [&](std::string_view t) { err += t; }};
    EXPECT_EQ(audit_verify::run(o, io), kExitDefects) << err;
    ::unlink(tmpl);
    const std::string file(tmpl);
    EXPECT_NE(out.find(file + ":2: longer than"), std::string::npos) << out;
    EXPECT_NE(out.find(file + ":5: longer than"), std::string::npos) << out;
    EXPECT_EQ(out.find("xxxx"), std::string::npos);
    EXPECT_EQ(out.find("gap"), std::string::npos) << out;  // the records around it are read
}

// A rotated file is read as search reads it: bytes after its gzip data make it unreadable, never
// a whole trail that hides what was appended (gzread alone skips them).
TEST(AuditVerify, BytesAfterTheGzipDataMakeTheFileUnreadable) {
    char tmpl[] = "/tmp/verify-gz.XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    const Source whole = chain(3);
    std::string text;
    for (const auto& l : whole.lines) {
        text += l.text + "\n";
    }
    gzFile gz = ::gzopen(tmpl, "wb");
    ASSERT_NE(gz, nullptr);
    ASSERT_EQ(::gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
    ASSERT_EQ(::gzclose(gz), Z_OK);
    audit_cli::Options o;
    o.files = {tmpl};
    auto run_verify = [&o](std::string& out, std::string& err) {
        audit_cli::Io io{[&](std::string_view t) { out += t; }, [&](std::string_view t) { err += t; }};
        return audit_verify::run(o, io);
    };
    std::string out;
    std::string err;
    EXPECT_EQ(run_verify(out, err), kExitWhole) << out << err;
    {
        std::ofstream app(tmpl, std::ios::binary | std::ios::app);
        app << whole.lines[2].text << "\n";  // a record appended after the compressed data
    }
    out.clear();
    err.clear();
    EXPECT_EQ(run_verify(out, err), kExitUnreadable) << out << err;
    EXPECT_NE(err.find("trailing data after the gzip stream"), std::string::npos) << err;
    EXPECT_EQ(out.find("the trail is whole"), std::string::npos) << out;
    ::unlink(tmpl);
}

}  // namespace
}  // namespace diag::audit_verify
