// SPDX-License-Identifier: Apache-2.0
// The typed toml++ readers: exact types, string limits, durations, sizes, absolute paths.
#include "wrapper/policy/toml_read.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

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

// Only whether a reader failed, and how, matters to the table below.
template <typename T>
Status status_of(Result<T> r) {
    if (r.ok()) {
        return ok_status();
    }
    return std::move(r).error();
}

TEST(TomlRead, ReadersRefuseWrongValuesAtTheirPosition) {
    const std::string text = "s = \"x\"\ni = 3\nzero = \"0s\"\nneg = -1\nrel = \"etc\"\nbell = \"a\\u0007\"\n";
    auto doc = toml::parse(text, std::string("r.toml"));
    ASSERT_TRUE(doc) << doc.error().description();
    const toml::table& t = doc.table();
    const FileCtx ctx{"r.toml", true};
    ASSERT_TRUE(read_string(ctx, *t.get("s"), "s").ok());
    EXPECT_EQ(*read_string(ctx, *t.get("s"), "s"), "x");
    EXPECT_EQ(*read_int(ctx, *t.get("i"), "i"), 3);
    struct Case {
        Status status;
        const char* message;
        unsigned line;
    } cases[] = {
        {status_of(read_string(ctx, *t.get("i"), "i")), "i: expected a string", 2},
        {status_of(read_int(ctx, *t.get("s"), "s")), "s: expected an integer", 1},
        {status_of(read_bool(ctx, *t.get("i"), "i")), "i: expected true or false", 2},
        {status_of(read_strings(ctx, *t.get("s"), "s")), "s: expected an array of strings", 1},
        {status_of(read_duration(ctx, *t.get("zero"), "zero")), "zero: '0s' is not a positive duration", 3},
        {status_of(read_size(ctx, *t.get("neg"), "neg")), "neg: must be positive", 4},
        {status_of(read_abs_path(ctx, *t.get("rel"), "rel")), "rel: 'etc' is not an absolute path", 5},
        {status_of(read_string(ctx, *t.get("bell"), "bell")), "bell: control characters are not allowed", 6},
        {status_of(as_table(ctx, *t.get("s"), "s")), "s: expected a table", 1},
        {status_of(check_keys(ctx, t, {"s", "i", "zero", "neg", "rel"}, "doc")), "unknown key 'bell' in doc", 6},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.message);
        ASSERT_FALSE(c.status.ok());
        EXPECT_EQ(c.status.error().code, ErrorCode::kPolicyInvalid);
        EXPECT_EQ(c.status.error().msg.rfind(c.message, 0), 0u) << c.status.error().msg;
        ASSERT_TRUE(c.status.error().pos.has_value());
        EXPECT_EQ(c.status.error().pos->file, "r.toml");
        EXPECT_EQ(c.status.error().pos->line, c.line);
    }
}

}  // namespace
}  // namespace diag::policy_loader
