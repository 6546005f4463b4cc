// SPDX-License-Identifier: Apache-2.0
// diag-audit search and show, run in-process on the fixture: output, warnings and exit codes.
#include "wrapper/audit/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

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

}  // namespace
}  // namespace diag::audit_reader
