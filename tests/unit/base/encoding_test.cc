// SPDX-License-Identifier: Apache-2.0
// Base64 (RFC 4648), as records carry a request that is not valid UTF-8.
#include "wrapper/base/encoding.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace diag::util {
namespace {

TEST(Util, Base64MatchesRfc4648) {
    // RFC 4648 section 10 test vectors.
    const char* vectors[][2] = {{"", ""},
                                {"f", "Zg=="},
                                {"fo", "Zm8="},
                                {"foo", "Zm9v"},
                                {"foob", "Zm9vYg=="},
                                {"fooba", "Zm9vYmE="},
                                {"foobar", "Zm9vYmFy"}};
    for (const auto& v : vectors) {
        EXPECT_EQ(base64_encode(v[0]), v[1]);
        EXPECT_EQ(base64_decode(v[1]), std::string(v[0]));
    }
    EXPECT_EQ(base64_encode("fo", false), "Zm8");
    EXPECT_EQ(base64_decode("Zm8"), std::string("fo"));
    EXPECT_FALSE(base64_decode("Zm9v!").has_value());
    const std::string bytes("\x00\xff\x80\n", 4);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
}

TEST(AuditReader, Base64) {
    EXPECT_EQ(util::base64_decode("dW5hbWUgG1sySv8="), std::optional<std::string>("uname \x1b[2J\xff"));
    EXPECT_EQ(util::base64_decode(""), std::optional<std::string>(""));
    EXPECT_FALSE(util::base64_decode("dW5h*").has_value());
}

}  // namespace
}  // namespace diag::util
