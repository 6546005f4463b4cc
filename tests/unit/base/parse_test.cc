// SPDX-License-Identifier: Apache-2.0
// Numbers, durations, sizes and whitespace-separated fields.
#include "wrapper/base/parse.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace diag::util {
namespace {

TEST(Util, DurationsParseToMilliseconds) {
    EXPECT_EQ(parse_duration_ms("500ms"), 500u);
    EXPECT_EQ(parse_duration_ms("30s"), 30000u);
    EXPECT_EQ(parse_duration_ms("5min"), 300000u);
    EXPECT_EQ(parse_duration_ms("1h30min"), 5400000u);
    EXPECT_EQ(parse_duration_ms("2d"), 172800000u);
    for (const char* bad : {"", "s", "5", "5 s", "-5s", "5sec", "99999999999999999999s", "5x"}) {
        EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
    }
}

TEST(Util, SizesParseToBytes) {
    EXPECT_EQ(parse_size("65536"), 65536u);
    EXPECT_EQ(parse_size("64KiB"), 65536u);
    EXPECT_EQ(parse_size("16M"), 16u * 1024 * 1024);
    EXPECT_EQ(parse_size("1GiB"), 1024u * 1024 * 1024);
    for (const char* bad : {"", "K", "1T", "1 K", "-1", "99999999999999999999"}) {
        EXPECT_FALSE(parse_size(bad).has_value()) << bad;
    }
}

TEST(Util, FieldsSplitOnRunsOfWhitespace) {
    using V = std::vector<std::string_view>;
    EXPECT_EQ(fields(""), V{});
    EXPECT_EQ(fields(" \t\n"), V{});
    EXPECT_EQ(fields("192.0.2.7 50000 127.0.0.1 22"), (V{"192.0.2.7", "50000", "127.0.0.1", "22"}));
    EXPECT_EQ(fields("  a\tb\n\nc  "), (V{"a", "b", "c"}));
    // /proc/PID/stat after "(comm)": state, then ppid.
    EXPECT_EQ(fields(" S 527 527 19223"), (V{"S", "527", "527", "19223"}));
}

TEST(Util, IntsParseWithSignAndWithoutOverflow) {
    EXPECT_EQ(parse_int("-5"), -5);
    EXPECT_EQ(parse_int("+7"), 7);
    EXPECT_FALSE(parse_int("1e3").has_value());
    EXPECT_FALSE(parse_int("9999999999999999999999").has_value());
    EXPECT_FALSE(parse_int("-").has_value());
}

}  // namespace
}  // namespace diag::util
