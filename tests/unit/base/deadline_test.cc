// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/deadline.h"

#include <gtest/gtest.h>

#include <atomic>
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

// A thread's abandon flag ends only that thread's work: the caller's checks are unaffected.
TEST_F(DeadlineTest, AnAbandonedThreadFailsItsChecksAlone) {
    std::atomic<bool> abandoned{false};
    bool before = false;
    bool after = false;
    std::thread t([&] {
        abandon_when(&abandoned);
        before = check("x").ok();
        abandoned = true;
        auto st = check("listing a directory");
        after = st.ok();
        EXPECT_EQ(st.error().reason, kReason);
        abandon_when(nullptr);
    });
    t.join();
    EXPECT_TRUE(before);
    EXPECT_FALSE(after);
    EXPECT_TRUE(check("x").ok()) << "the caller has no deadline and no abandon flag";
}

}  // namespace
}  // namespace diag::deadline
