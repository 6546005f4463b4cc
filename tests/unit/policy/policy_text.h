// SPDX-License-Identifier: Apache-2.0
// Shared by the policy unit tests: a minimal valid head of a policy, options any user can load
// with, and the check for a table of policies the loader must refuse at a given position.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "wrapper/policy/loader.h"

namespace diag::policy_loader::test {

// version, [settings] and [audit]: 6 lines, so a table appended to it starts on line 7.
inline const char* const kHead = R"(version = 1
[settings]
search_path = ["/usr/bin", "/bin"]
[audit]
sinks = ["file"]
file = "/tmp/audit.jsonl"
)";

inline Options test_opts() {
    Options o;
    o.trusted_owner = ::getuid();
    return o;
}

inline Result<policy::Policy> load_text(const std::string& text) {
    return load_from_string(text, "t.toml", test_opts());
}

struct BadPolicy {
    std::string text;
    const char* message;  // substring of the error
    unsigned line;        // 0: no position expected
    unsigned column;      // 0: any column
};

// Every case fails with kPolicyInvalid, its message, and its position where one is given.
inline void expect_rejected(const std::vector<BadPolicy>& cases) {
    for (const auto& c : cases) {
        auto p = load_text(c.text);
        ASSERT_FALSE(p.ok()) << c.text;
        EXPECT_EQ(p.error().code, ErrorCode::kPolicyInvalid) << c.text;
        EXPECT_NE(p.error().msg.find(c.message), std::string::npos) << c.text << "\n=> " << p.error().describe();
        if (c.line != 0) {
            ASSERT_TRUE(p.error().pos.has_value()) << c.text;
            EXPECT_EQ(p.error().pos->line, c.line) << c.text << "\n=> " << p.error().describe();
            if (c.column != 0) {
                EXPECT_EQ(p.error().pos->column, c.column) << c.text << "\n=> " << p.error().describe();
            }
        }
    }
}

}  // namespace diag::policy_loader::test
