// SPDX-License-Identifier: Apache-2.0
// diag-audit run(): an input that cannot be read is one error line and exit status 2.
#include "wrapper/audit/cli.h"

#include <gtest/gtest.h>

#include "tests/unit/audit/fixture.h"

namespace diag::audit_reader {
namespace {

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
