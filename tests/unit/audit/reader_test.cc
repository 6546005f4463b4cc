// SPDX-License-Identifier: Apache-2.0
// diag-audit's library: reading (plain, gzip, hostile and malformed lines), joining, filters,
// renderers, show, report. The fixture (tests/testdata/audit/fixture.jsonl) holds 20 requests
// R0..R19 plus malformed lines; kId below names them.
#include "wrapper/audit/reader.h"
#include "wrapper/base/encoding.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "wrapper/audit/cli.h"
#include "wrapper/audit/fields.h"
#include "wrapper/audit/filter.h"
#include "wrapper/audit/journal.h"
#include "wrapper/audit/render.h"
#include "wrapper/audit/report.h"

namespace diag::audit_reader {
namespace {

using audit_filter::Filter;

// DIAG_TESTDATA_DIR: a readable copy of tests/testdata, for the unprivileged run
// (tests/helpers/run_unprivileged.sh), where the source tree may not be readable.
const std::string kDir = (std::getenv("DIAG_TESTDATA_DIR") != nullptr ? std::string(std::getenv("DIAG_TESTDATA_DIR"))
                                                                       : std::string(DIAG_SOURCE_DIR) + "/tests/testdata") +
                         "/audit";
const std::string kFixture = kDir + "/fixture.jsonl";
const std::string kFixtureGz = kDir + "/fixture.jsonl.gz";
const std::string kPolicy = kDir + "/policy.toml";

// R0 is an end record whose decision is in an older rotation; R1 is from the day before.
const char* const kId[] = {
    "01a205b3-cf9c-7dd1-9916-96e15e2ee293",  // R0  orphan end, uptime, 2026-11-22 23:59:59
    "01a2027b-d6e4-782f-93e9-c695dc6b8d1b",  // R1  allow uname (2026-11-22 09:00)
    "01a208be-7608-7db7-97fd-01af957221a4",  // R2  allow uname, exit 0, 87 bytes, 3 ms
    "01a208be-f4f0-7e49-9d63-b2a8a78f048b",  // R3  deny path-denied (cat /etc/shadow)
    "01a208c0-74ba-7a2e-9c8a-dac7fd24b4b7",  // R4  allow df (cert key, IPv6), end after R5
    "01a208c0-d569-75eb-9242-aeb685528629",  // R5  deny unknown-command
    "01a208c1-ac40-725f-91c7-90f16f423d2f",  // R6  allow journalctl on db-3, exit 1
    "01a208c3-0dc4-7dbb-97b2-94e78f1c47d4",  // R7  deny parse-metachar on db-3
    "01a208c3-8100-799c-966b-8eedd61fc424",  // R8  error internal-error
    "01a208c5-1b28-7794-9d9d-1a3026162788",  // R9  allow tail, no end record (incomplete)
    "01a208c5-55c0-725e-933b-f8a5fb556a14",  // R10 allow find, timed out, signal 9, capped
    "01a208c5-caf0-74f2-9ea3-18c182bb84eb",  // R11 help (allowed, never has an end record)
    "01a208c7-2a80-72d7-9f51-e7cfdc27b492",  // R12 newline in the command (new key, no principal)
    "01a208c8-14e0-7fb0-9172-7c5080ba6ebc",  // R13 ESC, CSI (U+009B), DEL in the command
    "01a208c8-ff40-7a73-9757-01335e65d18b",  // R14 U+202E in the command
    "01a208c9-e9a0-7507-983c-4a613d6ebeaa",  // R15 invalid UTF-8 (command_line_b64)
    "01a208ca-d400-721e-9740-0b4e0f51d4aa",  // R16 hostile cert key id and principal, db-3
    "01a208cb-be60-7db5-922a-3881be3c489d",  // R17 end record with wrong types everywhere
    "01a208cd-1df0-7c53-9d8e-591f064af58e",  // R18 sensitive arguments redacted
    "01a208cd-9320-7426-9536-2daeef37d01e",  // R19 the key could not be read (diag.key.error)
};
constexpr int kNoId = -1;  // the record with "@timestamp": 12345 and "diag": "oops"
const std::string kK1 = "SHA256:UrunsZEDQW+r00OArmrk4+d4pSMIa/61VFhU/9PmuUQ";
const std::string kK3 = "SHA256:nEwKeyT9vB3mQ7xL2pR8sW4yH6jK0cF5gD1aZ3uE9iO";
const std::string kCa = "SHA256:CaKeyCaKeyR3Xw0Q6hM9tV2yB5nJ8kL1pS4uE7iO0aZ";

int64_t at(const char* iso) { return parse_timestamp(iso).value(); }
const int64_t kNow = at("2026-11-23T15:00:00Z");

struct Loaded {
    std::vector<Request> requests;
    ReadStats stats;
};

Loaded load(const std::vector<std::string>& files) {
    Collected c;
    for (const auto& f : files) {
        auto st = read_file(f, c);
        EXPECT_TRUE(st.ok()) << st.error().describe();
    }
    Loaded l;
    l.requests = join(std::move(c.records), c.stats);
    l.stats = c.stats;
    return l;
}

const Loaded& fixture() {
    static const Loaded l = load({kFixture});
    return l;
}

int number_of(const Request& r) {
    for (int i = 0; i < static_cast<int>(std::size(kId)); ++i) {
        if (r.id == kId[i]) {
            return i;
        }
    }
    return kNoId;
}

const Request& req(int n) {
    for (const auto& r : fixture().requests) {
        if (number_of(r) == n) {
            return r;
        }
    }
    ADD_FAILURE() << "no request R" << n;
    return fixture().requests.front();
}

// The requests `f` selects, as fixture numbers in output (time) order.
std::vector<int> selected(const Filter& f) {
    std::vector<int> out;
    for (const auto& r : fixture().requests) {
        auto hit = audit_filter::matches(f, r);
        EXPECT_TRUE(hit.ok());
        if (hit.ok() && *hit) {
            out.push_back(number_of(r));
        }
    }
    return out;
}

Filter since(const char* s) {
    Filter f;
    f.since_us = audit_filter::parse_time(s, kNow).value();
    return f;
}

// Decodes UTF-8 and reports the first code point a terminal would act on or hide; "" when clean.
// Newlines separate records; a CR is allowed only right before one (CSV's CRLF).
std::string first_raw_control(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        uint32_t cp = c;
        size_t len = 1;
        if (c >= 0x80) {
            len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            if (len == 0 || i + len > s.size()) {
                return "invalid UTF-8 at byte " + std::to_string(i);
            }
            cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
            for (size_t k = 1; k < len; ++k) {
                const auto b = static_cast<unsigned char>(s[i + k]);
                if ((b & 0xC0) != 0x80) {
                    return "invalid UTF-8 at byte " + std::to_string(i);
                }
                cp = (cp << 6) | (b & 0x3F);
            }
        }
        const bool crlf = cp == '\r' && i + 1 < s.size() && s[i + 1] == '\n';
        const bool bad = (cp < 0x20 && cp != '\n' && !crlf) || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
                         cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
                         (cp >= 0x2066 && cp <= 0x2069);
        if (bad) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "U+%04X at byte %zu", static_cast<unsigned>(cp), i);
            return buf;
        }
        i += len;
    }
    return "";
}

std::vector<const Request*> all_rows() {
    std::vector<const Request*> rows;
    for (const auto& r : fixture().requests) {
        rows.push_back(&r);
    }
    return rows;
}

// ---- reading ----

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

class AuditReaderFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diag-audit-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& bytes) const {
        const std::string p = dir_ + "/" + name;
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
    static std::string slurp(const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    std::string dir_;
};

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

TEST(AuditReader, ParsesTimestamps) {
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_timestamp("2026-11-23T14:10:29.512345Z"), 1795443029512345);
    EXPECT_EQ(parse_timestamp("2026-11-23T14:10:29.5Z"), 1795443029500000);
    EXPECT_EQ(parse_timestamp("2026-11-23 14:10:29"), 1795443029000000);
    EXPECT_EQ(parse_timestamp("2026-11-23T15:10:29+01:00"), 1795443029000000);
    EXPECT_EQ(parse_timestamp("2026-11-23T13:10:29-0100"), 1795443029000000);
    EXPECT_EQ(parse_timestamp("2026-11-23T14:10Z"), 1795443000000000);
    EXPECT_EQ(parse_timestamp("2026-11-23"), 1795392000000000);
    EXPECT_EQ(parse_timestamp("2024-02-29"), 1709164800000000);
    for (const char* bad :
         {"", "2026", "2026-11-23T", "2026-13-01", "2026-02-29", "2026-11-23T24:00:00Z", "2026-11-23T14:10:29.Z",
          "2026-11-23T14:10:29Zjunk", "2026-11-23X14:00", "26-11-23", "2026-11-23T14:10:29+25:00"}) {
        EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
    }
}

TEST(AuditReader, TrustedJournalSenders) {
    EXPECT_TRUE(trusted_journal_exe("/usr/bin/diag-wrapper"));
    EXPECT_TRUE(trusted_journal_exe("/nix/store/abc-diag-wrapper-0.1.0/bin/diag-wrapper"));
    EXPECT_TRUE(trusted_journal_exe("/usr/bin/diag-wrapper (deleted)"));
    for (const char* bad : {"", "diag-wrapper", "/usr/bin/logger", "/tmp/diag-wrapper.sh", "/usr/bin/diag-wrapperx",
                            "/usr/bin/diag-wrapper/", " (deleted)"}) {
        EXPECT_FALSE(trusted_journal_exe(bad)) << bad;
    }
}

TEST(AuditReader, Base64) {
    EXPECT_EQ(util::base64_decode("dW5hbWUgG1sySv8="), std::optional<std::string>("uname \x1b[2J\xff"));
    EXPECT_EQ(util::base64_decode(""), std::optional<std::string>(""));
    EXPECT_FALSE(util::base64_decode("dW5h*").has_value());
}

// ---- filters ----

TEST(AuditReaderFilter, Decision) {
    Filter f;
    f.decisions = {"allow"};
    EXPECT_EQ(selected(f), (std::vector<int>{1, 0, 2, 4, 6, 9, 10, 11, 16, 17, 18, 19}));
    f.decisions = {"deny"};
    EXPECT_EQ(selected(f), (std::vector<int>{3, 5, 7, 12, 13, 14, 15}));
    f.decisions = {"error"};
    EXPECT_EQ(selected(f), (std::vector<int>{8}));
    f.decisions = {"deny", "error"};  // repeated flag: OR
    EXPECT_EQ(selected(f), (std::vector<int>{3, 5, 7, 8, 12, 13, 14, 15}));
}

TEST(AuditReaderFilter, ReasonRulePrincipal) {
    Filter f;
    f.reasons = {"parse-control"};
    EXPECT_EQ(selected(f), (std::vector<int>{12, 13}));
    f.reasons.push_back("parse-utf8");
    EXPECT_EQ(selected(f), (std::vector<int>{12, 13, 15}));
    Filter r;
    r.rules = {"uname"};
    EXPECT_EQ(selected(r), (std::vector<int>{1, 2, 16}));
    r.rules = {"uptime"};  // R0's rule comes from its end record
    EXPECT_EQ(selected(r), (std::vector<int>{0, 8, 17, 19}));
    Filter p;
    p.principals = {"oncall-alice"};
    EXPECT_EQ(selected(p), (std::vector<int>{4, 5, 7, 9}));
    p.principals.push_back("ci-agent-7");
    EXPECT_EQ(selected(p), (std::vector<int>{1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17, 18}));
    p.principals = {"deploy\u2066bot"};
    EXPECT_EQ(selected(p), (std::vector<int>{16}));
}

TEST(AuditReaderFilter, KeyMatchesFingerprintOrCertificateAuthority) {
    Filter f;
    f.keys = {kK3};
    EXPECT_EQ(selected(f), (std::vector<int>{12, 13, 14, 15}));
    f.keys = {kCa};
    EXPECT_EQ(selected(f), (std::vector<int>{4, 5, 7, 9, 16}));
    f.keys = {kK3, kCa};
    EXPECT_EQ(selected(f), (std::vector<int>{4, 5, 7, 9, 12, 13, 14, 15, 16}));
    f.keys = {"SHA256:UrunsZED"};  // exact, not a prefix
    EXPECT_EQ(selected(f), (std::vector<int>{}));
}

TEST(AuditReaderFilter, SourceCidrV4AndV6) {
    auto src = [](std::initializer_list<const char*> nets) {
        Filter f;
        for (const char* n : nets) {
            auto c = audit_filter::parse_cidr(n);
            EXPECT_TRUE(c.ok()) << n;
            f.sources.push_back(*c);
        }
        return selected(f);
    };
    EXPECT_EQ(src({"192.0.2.0/24"}), (std::vector<int>{1, 0, 2, 3, 8, 10, 11, 17, 18, 19}));
    EXPECT_EQ(src({"198.51.100.20"}), (std::vector<int>{6}));
    EXPECT_EQ(src({"198.51.100.21/32"}), (std::vector<int>{}));
    EXPECT_EQ(src({"2001:db8::/32"}), (std::vector<int>{4, 5, 7, 9, 16}));
    EXPECT_EQ(src({"2001:db8:1::/48"}), (std::vector<int>{16}));
    EXPECT_EQ(src({"2001:db8::17/128"}), (std::vector<int>{4, 5, 7, 9}));
    EXPECT_EQ(src({"198.51.100.0/24", "2001:db8:1::/48"}), (std::vector<int>{6, 16}));
    EXPECT_EQ(src({"::ffff:203.0.113.0/120"}), (std::vector<int>{12, 13, 14, 15}));
    EXPECT_EQ(src({"0.0.0.0/0"}), (std::vector<int>{1, 0, 2, 3, 6, 8, 10, 11, 12, 13, 14, 15, 17, 18, 19}));
    EXPECT_EQ(src({"::/0"}), (std::vector<int>{4, 5, 7, 9, 16}));
    for (const char* bad : {"192.0.2.0/33", "2001:db8::/129", "300.1.1.1", "abc", "192.0.2.0/", "192.0.2.0/-1",
                            "192.0.2.0/+8", "fe80::1%eth0", "", "::ffff:1.2.3.4/64"}) {
        auto c = audit_filter::parse_cidr(bad);
        ASSERT_FALSE(c.ok()) << bad;
        EXPECT_EQ(c.error().code, ErrorCode::kUsage);
    }
    auto v4 = audit_filter::parse_cidr("10.0.0.0/8");
    EXPECT_TRUE(audit_filter::cidr_contains(*v4, "::ffff:10.1.2.3"));  // mapped counts as IPv4
    EXPECT_FALSE(audit_filter::cidr_contains(*v4, "11.0.0.1"));
    EXPECT_FALSE(audit_filter::cidr_contains(*v4, "not an ip"));
    auto odd = audit_filter::parse_cidr("192.0.2.128/25");
    EXPECT_TRUE(audit_filter::cidr_contains(*odd, "192.0.2.200"));
    EXPECT_FALSE(audit_filter::cidr_contains(*odd, "192.0.2.100"));
}

TEST(AuditReaderFilter, CommandRegex) {
    Filter f;
    ASSERT_TRUE(f.add_command("^cat ").ok());
    EXPECT_EQ(selected(f), (std::vector<int>{3, 7, 12, 14}));
    Filter esc;
    ASSERT_TRUE(esc.add_command("\\x1b\\[2J").ok());  // matches the exact bytes, R15's from base64
    EXPECT_EQ(selected(esc), (std::vector<int>{13, 15}));
    Filter either;
    ASSERT_TRUE(either.add_command("^df").ok());
    ASSERT_TRUE(either.add_command("^find").ok());
    EXPECT_EQ(selected(either), (std::vector<int>{4, 10}));
    Filter bad;
    auto st = bad.add_command("(unclosed");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kUsage);
}

TEST(AuditReaderFilter, ExitAndIncomplete) {
    auto ex = [](std::initializer_list<const char*> values) {
        Filter f;
        for (const char* v : values) {
            f.exits.push_back(audit_filter::parse_exit(v).value());
        }
        return selected(f);
    };
    EXPECT_EQ(ex({"0"}), (std::vector<int>{1, 0, 2, 4, 16, 18, 19}));  // R17's "0" is a string: unknown
    EXPECT_EQ(ex({"1"}), (std::vector<int>{6}));
    EXPECT_EQ(ex({"0", "1"}), (std::vector<int>{1, 0, 2, 4, 6, 16, 18, 19}));
    EXPECT_EQ(ex({"nonzero"}), (std::vector<int>{6, 10}));
    EXPECT_EQ(ex({"signal"}), (std::vector<int>{10}));
    EXPECT_FALSE(audit_filter::parse_exit("zero").ok());
    Filter f;
    f.incomplete = true;
    EXPECT_EQ(selected(f), (std::vector<int>{9}));
}

TEST(AuditReaderFilter, DifferentFlagsAreAnded) {
    Filter f;
    f.decisions = {"deny"};
    f.principals = {"oncall-alice"};
    EXPECT_EQ(selected(f), (std::vector<int>{5, 7}));
    Filter g;
    g.sources = {audit_filter::parse_cidr("192.0.2.0/24").value()};
    g.decisions = {"allow"};
    g.exits = {audit_filter::parse_exit("0").value()};
    EXPECT_EQ(selected(g), (std::vector<int>{1, 0, 2, 18, 19}));
    Filter h = since("-45min");  // 14:15:00
    h.decisions = {"deny", "error"};
    h.reasons = {"parse-metachar", "internal-error", "path-denied"};
    EXPECT_EQ(selected(h), (std::vector<int>{7, 8}));
}

TEST(AuditReaderFilter, TimeWindowAbsoluteAndRelative) {
    EXPECT_EQ(selected(since("2026-11-23")),
              (std::vector<int>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
    EXPECT_EQ(selected(since("-1h")), selected(since("2026-11-23T14:00:00Z")));
    EXPECT_EQ(selected(since("-45min")), (std::vector<int>{7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
    EXPECT_EQ(selected(since("-7d")),
              (std::vector<int>{1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
    EXPECT_EQ(selected(since("yesterday")), selected(since("-7d")));
    EXPECT_EQ(selected(since("today")), selected(since("2026-11-23")));
    Filter w = since("-45min");
    w.until_us = audit_filter::parse_time("2026-11-23T14:16:00Z", kNow).value();  // inclusive
    EXPECT_EQ(selected(w), (std::vector<int>{7, 8}));
    Filter u;
    u.until_us = audit_filter::parse_time("2026-11-22T23:59:59.950000Z", kNow).value();
    EXPECT_EQ(selected(u), (std::vector<int>{1, 0}));
}

TEST(AuditReaderFilter, ParsesTimeArguments) {
    EXPECT_EQ(audit_filter::parse_time("-2h", kNow).value(), kNow - 7200LL * 1000000);
    EXPECT_EQ(audit_filter::parse_time("-7d", kNow).value(), kNow - 7 * 86400LL * 1000000);
    EXPECT_EQ(audit_filter::parse_time("-1h30min", kNow).value(), kNow - 5400LL * 1000000);
    EXPECT_EQ(audit_filter::parse_time("now", kNow).value(), kNow);
    EXPECT_EQ(audit_filter::parse_time("today", kNow).value(), at("2026-11-23T00:00:00Z"));
    EXPECT_EQ(audit_filter::parse_time("yesterday", kNow).value(), at("2026-11-22T00:00:00Z"));
    EXPECT_EQ(audit_filter::parse_time("2026-11-23T14:00:00Z", kNow).value(), at("2026-11-23T14:00:00Z"));
    for (const char* bad : {"", "-", "-2", "-2x", "2h", "tomorrow", "2026-13-01", "-99999999999999999999d"}) {
        auto t = audit_filter::parse_time(bad, kNow);
        ASSERT_FALSE(t.ok()) << bad;
        EXPECT_EQ(t.error().code, ErrorCode::kUsage);
    }
}

// ---- rendering ----

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

// ---- report ----

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

// ---- command line ----

struct Ran {
    int status = -1;
    std::string out;
    std::string err;
};

Ran cli(std::vector<std::string> args) {
    Ran r;
    auto o = audit_cli::parse_args(args, kNow);
    if (!o.ok()) {
        r.status = audit_cli::kExitError;
        r.err = o.error().msg;
        return r;
    }
    audit_cli::Io io;
    io.out = [&](std::string_view s) { r.out += s; };
    io.err = [&](std::string_view s) { r.err += s; };
    r.status = audit_cli::run(*o, io);
    return r;
}

TEST(AuditReaderCli, SearchFiltersAndExitCodes) {
    Ran r = cli({"--file", kFixture, "search", "--decision", "error", "--format", "text"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "2026-11-23 14:16:00Z ci-agent-7 (SHA256:UrunsZED\xe2\x80\xa6) from 192.0.2.7 on web-17 hit an error on "
              "`uptime`: internal-error (rule uptime); request 01a208c3-8\n");
    EXPECT_NE(r.err.find("diag-audit: warning: 3 line(s) skipped (not JSON objects): " + kFixture + ":32"),
              std::string::npos)
        << r.err;
    r = cli({"search", "--file=" + kFixture, "--principal", "nobody"});
    EXPECT_EQ(r.status, audit_cli::kExitNotFound);
    EXPECT_EQ(r.out, "");
    r = cli({"--file", kFixture, "search", "--since", "-45min", "--until", "2026-11-23T14:16:00Z", "-o", "csv"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // header, R7, R8
}

TEST(AuditReaderCli, ShowByPrefixAndAmbiguity) {
    Ran r = cli({"--file", kFixture, "show", "01a208c5-5"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("request   " + std::string(kId[10])), std::string::npos);
    r = cli({"--file", kFixture, "show", kId[2]});
    EXPECT_EQ(r.status, 0);
    r = cli({"--file", kFixture, "show", "01a208c5"});
    EXPECT_EQ(r.status, audit_cli::kExitError);
    EXPECT_NE(r.err.find("is ambiguous: 3 requests match"), std::string::npos) << r.err;
    r = cli({"--file", kFixture, "show", "ffff"});
    EXPECT_EQ(r.status, audit_cli::kExitNotFound);
    EXPECT_NE(r.err.find("no request ffff"), std::string::npos);
    r = cli({"--file", kFixture, "show", "\x1b[2J"});
    EXPECT_EQ(r.status, audit_cli::kExitNotFound);
    EXPECT_EQ(first_raw_control(r.err), "");
    r = cli({"--file", kFixture, "show", kId[9], "--format", "json"});
    EXPECT_EQ(nlohmann::json::parse(r.out)["incomplete"], true);
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

TEST(AuditReaderCli, UsageErrors) {
    const std::vector<std::vector<std::string>> bad = {
        {},
        {"frobnicate"},
        {"search", "--decision", "maybe"},
        {"search", "--since"},
        {"search", "--since", "-2x"},
        {"search", "--since", "-1h", "--since", "-2h"},
        {"search", "--source", "10.0.0.0/40"},
        {"search", "--command", "("},
        {"search", "--exit", "zero"},
        {"search", "--format", "xml"},
        {"search", "--bogus"},
        {"search", "extra"},
        {"show"},
        {"show", "abc", "--decision", "deny"},
        {"show", "abc", "--format", "csv"},
        {"report", "--format", "csv"},
        {"search", "--policy", "p.toml"},
        {"search", "--count", "3"},
        {"follow", "--count", "0"},
        {"follow", "--incomplete"},
        {"report", "--top", "-1"},
    };
    for (const auto& args : bad) {
        auto o = audit_cli::parse_args(args, kNow);
        std::string joined;
        for (const auto& a : args) {
            joined += a + " ";
        }
        ASSERT_FALSE(o.ok()) << joined;
        EXPECT_EQ(o.error().code, ErrorCode::kUsage) << joined;
    }
    auto o = audit_cli::parse_args({"--file", "a", "--file=b", "search", "--rule", "x", "--rule=y", "--journal"}, kNow);
    ASSERT_TRUE(o.ok()) << o.error().msg;
    EXPECT_EQ(o->files, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(o->filter.rules, (std::vector<std::string>{"x", "y"}));
    EXPECT_TRUE(o->journal);
}

TEST(AuditReaderCli, InputErrorsExitTwoWithOneLine) {
    Ran r = cli({"--file", "/nonexistent/audit.jsonl", "search"});
    EXPECT_EQ(r.status, audit_cli::kExitError);
    EXPECT_EQ(r.err, "diag-audit: error: open(/nonexistent/audit.jsonl): No such file or directory\n");
    r = cli({"--file", kFixture, "report", "--policy", "/nonexistent/policy.toml"});
    EXPECT_EQ(r.status, audit_cli::kExitError);
    EXPECT_NE(r.err.find("diag-audit: error: open(/nonexistent/policy.toml)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace diag::audit_reader
