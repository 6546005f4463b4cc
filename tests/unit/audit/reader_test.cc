// SPDX-License-Identifier: Apache-2.0
// diag-audit reading files: plain and gzip (corrupt, truncated, concatenated), hostile and malformed
// lines counted and skipped, lines split across reads, rotations found oldest first.
#include "wrapper/audit/reader.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

TEST(AuditReader, FixtureLoadsAndCountsWhatItSkips) {
    const Loaded& l = fixture();
    EXPECT_EQ(l.requests.size(), 21u);  // R0..R19 and the record without a request id
    EXPECT_EQ(l.stats.skipped, 3u);     // not JSON, a JSON array, the truncated last line
    ASSERT_EQ(l.stats.skipped_at.size(), 3u);
    EXPECT_EQ(l.stats.skipped_at[0], kFixture + ":32");
    EXPECT_EQ(l.stats.skipped_at[1], kFixture + ":33");
    EXPECT_EQ(l.stats.skipped_at[2], kFixture + ":35");  // line 34 is empty: ignored
    EXPECT_EQ(l.stats.unknown, 1u);                      // event.action "reload"
    EXPECT_EQ(l.stats.duplicates, 0u);
    EXPECT_EQ(l.stats.conflicts, 0u);
}

TEST(AuditReader, GzipReadsLikePlainAndOverlapsAreDeduplicated) {
    const Loaded gz = load({kFixtureGz});
    ASSERT_EQ(gz.requests.size(), fixture().requests.size());
    for (size_t i = 0; i < gz.requests.size(); ++i) {
        EXPECT_EQ(gz.requests[i].id, fixture().requests[i].id);
        EXPECT_EQ(gz.requests[i].decision, fixture().requests[i].decision);
        EXPECT_EQ(gz.requests[i].end, fixture().requests[i].end);
    }
    EXPECT_EQ(gz.stats.skipped, 3u);
    const Loaded both = load({kFixture, kFixtureGz});
    // Records with a request id are joined once; the one without an id cannot be matched.
    EXPECT_EQ(both.requests.size(), fixture().requests.size() + 1);
    EXPECT_EQ(both.stats.duplicates, fixture().stats.records - fixture().stats.unknown - 1);
    EXPECT_EQ(both.stats.conflicts, 0u);
}

TEST_F(AuditReaderFiles, CorruptOrTruncatedGzipIsAnError) {
    const std::string gz = slurp(kFixtureGz);
    Collected c;
    auto st = read_file(write("cut.gz", gz.substr(0, gz.size() / 2)), c);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kAudit);
    EXPECT_NE(st.error().msg.find("truncated gzip"), std::string::npos) << st.error().msg;
    std::string bad = gz;
    bad[gz.size() / 2] = static_cast<char>(bad[gz.size() / 2] ^ 0x55);
    st = read_file(write("bad.gz", bad), c);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().msg.find("gzip"), std::string::npos) << st.error().msg;
}

TEST_F(AuditReaderFiles, ConcatenatedGzipMembersAreRead) {
    const std::string gz = slurp(kFixtureGz);
    // fixture.jsonl ends without a newline, so its truncated last line swallows the first line of
    // the second copy: one record fewer than twice, and no error.
    Collected c;
    ASSERT_TRUE(read_file(write("two.gz", gz + gz), c).ok());
    EXPECT_EQ(c.records.size(), 2 * fixture().stats.records - 1);
}

TEST_F(AuditReaderFiles, MissingFileIsAnError) {
    Collected c;
    auto st = read_file(dir_ + "/nope.jsonl", c);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kAudit);
    EXPECT_NE(st.error().msg.find("open(" + dir_ + "/nope.jsonl)"), std::string::npos);
}

TEST_F(AuditReaderFiles, OverlongAndDeeplyNestedLinesAreSkipped) {
    std::string deep = "{\"diag\":";
    for (int i = 0; i < 100; ++i) {
        deep += "[";
    }
    deep += std::string(100, ']') + "}";
    const std::string huge = "{\"x\":\"" + std::string(kMaxLineBytes, 'a') + "\"}";
    Collected c;
    ASSERT_TRUE(read_file(write("odd.jsonl", deep + "\n" + huge + "\n{\"diag\":{\"request_id\":\"x\"}}\n"), c).ok());
    EXPECT_EQ(c.stats.skipped, 2u);
    EXPECT_EQ(c.records.size(), 1u);
}

TEST_F(AuditReaderFiles, DefaultFilesFindRotationsOldestFirst) {
    for (const char* n : {"audit.jsonl", "audit.jsonl.1", "audit.jsonl.2.gz", "audit.jsonl.10.gz",
                          "audit.jsonl.20261122.gz", "audit.jsonl.bak", "other.jsonl", "audit.jsonlx"}) {
        write(n, "");
    }
    auto files = default_files(dir_ + "/audit.jsonl");
    ASSERT_TRUE(files.ok()) << files.error().describe();
    EXPECT_EQ(*files,
              (std::vector<std::string>{dir_ + "/audit.jsonl.20261122.gz", dir_ + "/audit.jsonl.10.gz",
                                        dir_ + "/audit.jsonl.2.gz", dir_ + "/audit.jsonl.1", dir_ + "/audit.jsonl"}));
    auto none = default_files(dir_ + "/missing.jsonl");
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().msg.find("no audit file at " + dir_ + "/missing.jsonl"), std::string::npos);
}

TEST(AuditReader, LineSplitterKeepsPartialLines) {
    LineSplitter s;
    std::vector<std::string> lines;
    auto on = [&](std::string_view l) { lines.emplace_back(l); };
    s.feed("ab", on);
    s.feed("c\nde", on);
    s.feed("f\n\ng", on);
    EXPECT_EQ(lines, (std::vector<std::string>{"abc", "def", ""}));
    EXPECT_EQ(s.finish(), std::optional<std::string>("g"));
    EXPECT_EQ(s.finish(), std::nullopt);
}

}  // namespace
}  // namespace diag::audit_reader
