// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/deadline.h"

#include <gtest/gtest.h>

#include <thread>

namespace diag::deadline {
namespace {

struct DeadlineTest : ::testing::Test {
    void TearDown() override { clear(); }
};

TEST_F(DeadlineTest, UnsetNeverPasses) {
    clear();
    EXPECT_FALSE(passed());
    EXPECT_FALSE(remaining_ms().has_value());
    EXPECT_TRUE(check("anything").ok());
    EXPECT_EQ(budget_ms(), 0u);
}

TEST_F(DeadlineTest, PassedDeadlineRefusesWithTheStableReason) {
    start(0);
    EXPECT_TRUE(passed());
    EXPECT_EQ(remaining_ms(), 0u);
    auto st = check("walking /var/tmp");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kDenied);
    EXPECT_EQ(st.error().reason, kReason);
    EXPECT_EQ(st.error().msg, "the decision took longer than 0 ms (while walking /var/tmp)");
}

TEST_F(DeadlineTest, TightenOnlyShortensFromTheStart) {
    start(60000);
    EXPECT_FALSE(passed());
    tighten(120000);  // never later
    EXPECT_EQ(budget_ms(), 60000u);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    tighten(10);  // counted from start(): already passed
    EXPECT_EQ(budget_ms(), 10u);
    EXPECT_TRUE(passed());
    EXPECT_FALSE(check("x").ok());
}

TEST_F(DeadlineTest, ClearEndsTheDeadline) {
    start(0);
    ASSERT_TRUE(passed());
    clear();
    EXPECT_FALSE(passed());
    EXPECT_TRUE(check("x").ok());
}

}  // namespace
}  // namespace diag::deadline
