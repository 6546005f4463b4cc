// SPDX-License-Identifier: Apache-2.0
// diag-audit filters over the fixture: each flag, OR within a flag, AND across flags, time windows.
#include "wrapper/audit/filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

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

}  // namespace
}  // namespace diag::audit_reader
