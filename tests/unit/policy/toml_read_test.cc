// SPDX-License-Identifier: Apache-2.0
// The typed toml++ readers: exact types, string limits, durations, sizes, absolute paths.
#include "wrapper/policy/toml_read.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/policy/policy_text.h"

namespace diag::policy_loader {
namespace {

using test::kHead;
using test::load_text;

TEST(PolicyLoader, ValueOrNeverRescuesAWrongType) {
    // A boolean where a string is expected must not fall back to a default.
    auto p = load_text(std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = true\n");
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().msg.find("expected a string"), std::string::npos);
}

}  // namespace
}  // namespace diag::policy_loader
