// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace diag::command {
namespace {

using Argv = std::vector<std::string>;

TEST(Command, SplitsOnSpaces) {
    auto r = tokenize("  journalctl  -u nginx -n 50 ");
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(*r, (Argv{"journalctl", "-u", "nginx", "-n", "50"}));
}

TEST(Command, EmptyAndBlankRequestsYieldNoWords) {
    EXPECT_TRUE(tokenize("")->empty());
    EXPECT_TRUE(tokenize("    ")->empty());
}

TEST(Command, QuotesAndEscapesAreRemovedAndNothingExpands) {
    struct Case {
        const char* in;
        Argv want;
    } cases[] = {
        {"grep 'a b' x", {"grep", "a b", "x"}},
        {"grep \"a b\" x", {"grep", "a b", "x"}},
        {"grep 'a;b|c&d>e<f' x", {"grep", "a;b|c&d>e<f", "x"}},
        {"grep '$(id)' x", {"grep", "$(id)", "x"}},
        {"grep '`id`' x", {"grep", "`id`", "x"}},
        {"grep \"a\\\"b\" x", {"grep", "a\"b", "x"}},
        {"grep \"a\\$b\" x", {"grep", "a$b", "x"}},
        {"grep \"a\\nb\" x", {"grep", "a\\nb", "x"}},
        {"grep a\\ b x", {"grep", "a b", "x"}},
        {"grep a\\;b x", {"grep", "a;b", "x"}},
        {"s\"u\"do id", {"sudo", "id"}},  // docs/bypass-catalogue.md A.11: dequoted before lookup
        {"echo'/1.sh'", {"echo/1.sh"}},   // docs/bypass-catalogue.md A.6: concatenation is one word
        {"cat ''", {"cat", ""}},
        {"find / -name '*.gz'", {"find", "/", "-name", "*.gz"}},
        {"caf\xc3\xa9 x", {"caf\xc3\xa9", "x"}},
    };
    for (const auto& c : cases) {
        auto r = tokenize(c.in);
        ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().msg;
        EXPECT_EQ(*r, c.want) << c.in;
    }
}

TEST(Command, RefusesWithSpecificReason) {
    struct Case {
        std::string in;
        const char* reason;
    } cases[] = {
        {"cat a; id", "parse-metachar"},
        {"cat a && id", "parse-metachar"},
        {"cat a || id", "parse-metachar"},
        {"cat a | id", "parse-metachar"},
        {"cat a > b", "parse-metachar"},
        {"cat < a", "parse-metachar"},
        {"cat $(id)", "parse-metachar"},
        {"cat `id`", "parse-metachar"},
        {"cat ${HOME}", "parse-metachar"},
        {"cat $HOME", "parse-metachar"},
        {"cat \"$HOME\"", "parse-metachar"},
        {"cat \"`id`\"", "parse-metachar"},
        {"cat \"$(id)\"", "parse-metachar"},
        {"cat /etc/*", "parse-metachar"},
        {"cat /etc/host?ame", "parse-metachar"},
        {"cat /etc/[h]ostname", "parse-metachar"},
        {"cat ~root/x", "parse-metachar"},
        {"cat x # comment", "parse-metachar"},
        {"cat !!", "parse-metachar"},
        {"(id)", "parse-metachar"},
        {"{ id; }", "parse-metachar"},
        {"() { :;}; /bin/id", "parse-metachar"},  // docs/bypass-catalogue.md G.57: the shellshock shape
        {"cat a\nid", "parse-control"},
        {"cat a\rid", "parse-control"},
        {"cat\ta", "parse-control"},
        {std::string("cat a\0id", 8), "parse-control"},
        {"cat \x1b[2J", "parse-control"},
        {"cat \x7f", "parse-control"},
        {"cat \xc2\x9b"
         "31m",
         "parse-control"},  // C1 CSI
        {"cat \xff", "parse-utf8"},
        {"cat \xc0\xaf", "parse-utf8"},      // overlong '/'
        {"cat \xed\xa0\x80", "parse-utf8"},  // surrogate
        {"cat 'abc", "parse-quote"},
        {"cat \"abc", "parse-quote"},
        {"echo \"hi; sudo id", "parse-quote"},  // docs/bypass-catalogue.md A.11
        {"cat abc\\", "parse-quote"},
        {std::string(kMaxRequestBytes + 1, 'a'), "parse-limit"},
    };
    for (const auto& c : cases) {
        auto r = tokenize(c.in);
        ASSERT_FALSE(r.ok()) << c.in;
        EXPECT_EQ(r.error().code, ErrorCode::kDenied) << c.in;
        EXPECT_EQ(r.error().reason, c.reason) << c.in << ": " << r.error().msg;
    }
}

TEST(Command, EnforcesArgumentCaps) {
    std::string many = "cat";
    for (size_t i = 0; i < kMaxArgs; ++i) {
        many += " a";
    }
    auto r = tokenize(many);  // kMaxArgs + 1 words
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "parse-limit");
    std::string exactly = "cat";
    for (size_t i = 0; i + 1 < kMaxArgs; ++i) {
        exactly += " a";
    }
    EXPECT_TRUE(tokenize(exactly).ok());
    auto longarg = tokenize("cat " + std::string(kMaxArgBytes + 1, 'x'));
    ASSERT_FALSE(longarg.ok());
    EXPECT_EQ(longarg.error().reason, "parse-limit");
}

}  // namespace
}  // namespace diag::command
