// SPDX-License-Identifier: Apache-2.0
// [settings] and [audit] of the main policy file.
#include "wrapper/policy/settings.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/policy/policy_text.h"

namespace diag::policy_loader {
namespace {

using test::kHead;
using test::load_text;

TEST(Settings, RejectsBadSettingsWithPositions) {
    test::expect_rejected({
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\ntiemout = \"3s\"\n",
         "unknown key 'tiemout' in settings", 4, 1},
        {"version = 1\n[settings]\nsearch_path = \"/usr/bin\"\n", "expected an array of strings", 3, 15},
        {"version = 1\n[settings]\nsearch_path = [\"usr/bin\"]\n", "is not absolute", 3, 15},
        {"version = 1\n[settings]\nsearch_path = [1]\n", "expected a string", 3, 16},
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\n[audit]\nsinks = [\"email\"]\n",
         "unknown sink 'email'", 5, 9},
        {"version = 1\n[audit]\nsinks = [\"file\"]\nfile = \"/tmp/a\"\n", "search_path is required", 0, 0},
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\ndecision_timeout = \"50ms\"\n",
         "settings.decision_timeout: between 100ms and 60s", 4, 20},
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\ndecision_timeout = \"2min\"\n",
         "settings.decision_timeout: between", 4, 20},
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\ndecision_timeout = 5\n",
         "decision_timeout: expected a string", 4, 20},
    });
}

TEST(PolicyLoader, DecisionTimeoutDefaultsAndReads) {
    auto p = load_text(kHead);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    EXPECT_EQ(p->decision_timeout_ms, policy::kDefaultDecisionTimeoutMs);
    std::string text = kHead;
    text.replace(text.find("[audit]"), 0, "decision_timeout = \"750ms\"\n");
    p = load_text(text);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    EXPECT_EQ(p->decision_timeout_ms, 750u);
}

}  // namespace
}  // namespace diag::policy_loader
