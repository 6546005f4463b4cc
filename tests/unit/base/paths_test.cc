// SPDX-License-Identifier: Apache-2.0
// Paths compared component-wise, and glob escaping that matches exactly the literal.
#include "wrapper/base/paths.h"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <string>

namespace diag::util {
namespace {

TEST(Util, PathWithinIsComponentWise) {
    EXPECT_TRUE(path_within("/tmp", "/tmp"));
    EXPECT_TRUE(path_within("/tmp/x", "/tmp"));
    EXPECT_FALSE(path_within("/tmpfiles", "/tmp"));  // docs/bypass-catalogue.md B.20
    EXPECT_TRUE(path_within("/anything", "/"));
}

TEST(Util, GlobEscapeMatchesExactlyTheLiteral) {
    const std::string names[] = {"plain", "v[1]", "a*b", "q?", "back\\slash", "[!x]", "*"};
    for (const auto& n : names) {
        const std::string pat = glob_escape(n);
        EXPECT_EQ(::fnmatch(pat.c_str(), n.c_str(), 0), 0) << n;
        EXPECT_FALSE(has_glob(pat)) << n;  // nothing in it is a wildcard any more
        EXPECT_EQ(glob_unescape(pat), n);
    }
    EXPECT_NE(::fnmatch(glob_escape("v[1]").c_str(), "v1", 0), 0);
    EXPECT_NE(::fnmatch(glob_escape("a*b").c_str(), "axxb", 0), 0);
    EXPECT_EQ(glob_escape("/srv/app"), "/srv/app");
    EXPECT_TRUE(has_glob("a\\\\*"));  // an escaped backslash, then a real wildcard
    EXPECT_FALSE(has_glob("a\\*"));
}

}  // namespace
}  // namespace diag::util
