// SPDX-License-Identifier: Apache-2.0
// diag-audit command line: what parse_args() refuses, and repeated and inline (--flag=value) options.
#include "wrapper/audit/args.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

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

}  // namespace
}  // namespace diag::audit_reader
