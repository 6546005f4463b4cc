// SPDX-License-Identifier: Apache-2.0
// The record itself (issue #12): no sensitive value in any field derived from the request.
#include <string>

#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

constexpr const char* kPinRule = R"toml(
[command.pin]
match = ["pin"]
program = "echo"
description = "Takes a sensitive number (test only)"
[[command.pin.positional]]
type = "int"
sensitive = true
)toml";

class AuditRecord : public WrapperFixture {};

TEST_F(AuditRecord, SensitiveValuesNeverReachTheMessage) {
    const auto p = write_policy(policy(kPinRule));
    const std::string secret = "hunter2-" + std::to_string(::getpid());
    auto r = run_soc(p, "pin " + secret);  // not an int: refused, and the message names the argument
    EXPECT_DENIED(r, "bad-value");
    std::ifstream in(audit_);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(secret), std::string::npos) << all;
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_NE(recs[0]["diag"]["message"].get<std::string>().find("[redacted]"), std::string::npos);
}

}  // namespace
}  // namespace diag::testing
