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
        {"cat a || id", "pipe-syntax"},
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

// The stages of a request as their literal words.
std::vector<Argv> stage_texts(const std::vector<Stage>& stages) {
    std::vector<Argv> out;
    for (const auto& s : stages) {
        out.push_back(texts(s));
    }
    return out;
}

TEST(Pipeline, UnquotedBarSeparatesStagesAndQuotedBarIsLiteral) {
    struct Case {
        const char* in;
        std::vector<Argv> want;
    } cases[] = {
        {"ps aux | grep nginx", {{"ps", "aux"}, {"grep", "nginx"}}},
        {"ps aux|grep nginx", {{"ps", "aux"}, {"grep", "nginx"}}},
        {"journalctl -u a | grep -i err | head -n 5",
         {{"journalctl", "-u", "a"}, {"grep", "-i", "err"}, {"head", "-n", "5"}}},
        {"grep 'a|b' x", {{"grep", "a|b", "x"}}},
        {"grep \"a|b\" x", {{"grep", "a|b", "x"}}},
        {"grep a\\|b x", {{"grep", "a|b", "x"}}},
        {"a | b | c | d", {{"a"}, {"b"}, {"c"}, {"d"}}},
    };
    for (const auto& c : cases) {
        auto r = parse(c.in);
        ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().msg;
        EXPECT_EQ(stage_texts(*r), c.want) << c.in;
    }
}

TEST(Pipeline, RefusesShellOperatorsAndEmptyStages) {
    struct Case {
        const char* in;
        const char* reason;
    } cases[] = {
        {"a || b", "pipe-syntax"},
        {"a ||b", "pipe-syntax"},
        {"a |& b", "pipe-syntax"},
        {"| a", "pipe-syntax"},
        {"a |", "pipe-syntax"},
        {"a | | b", "pipe-syntax"},
        {"a || ", "pipe-syntax"},
        {"|", "pipe-syntax"},
        {"a | b | c | d | e", "pipe-limit"},
        {"a | b; c", "parse-metachar"},
        {"a | b > f", "parse-metachar"},
        {"a | b &", "parse-metachar"},
        {"a | $(b)", "parse-metachar"},
        {"a | b\nc", "parse-control"},
    };
    for (const auto& c : cases) {
        auto r = parse(c.in);
        ASSERT_FALSE(r.ok()) << c.in;
        EXPECT_EQ(r.error().code, ErrorCode::kDenied) << c.in;
        EXPECT_EQ(r.error().reason, c.reason) << c.in << ": " << r.error().msg;
    }
}

TEST(Pipeline, WordCapCountsEveryStage) {
    std::string req = "a";
    for (size_t i = 1; i < kMaxArgs; ++i) {
        req += (i % 20 == 0) ? " | b" : " x";
    }
    EXPECT_TRUE(parse(req).ok());
    auto over = parse(req + " y");
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().reason, "parse-limit");
}

TEST(Glob, UnquotedGlobCharactersMarkTheWordAndKeepAPattern) {
    struct Case {
        const char* in;
        std::string text;
        std::string pattern;
        bool glob;
    } cases[] = {
        {"/var/log/*.log", "/var/log/*.log", "/var/log/*.log", true},
        {"/etc/host?ame", "/etc/host?ame", "/etc/host?ame", true},
        {"/etc/[h]ostname", "/etc/[h]ostname", "/etc/[h]ostname", true},
        {"/etc/[!a]x", "/etc/[!a]x", "/etc/[!a]x", true},
        {"'/a/*'/*", "/a/*/*", "/a/\\*/*", true},
        {"\"/a[1]\"/b?", "/a[1]/b?", "/a\\[1\\]/b?", true},
        {"/a\\*/b*", "/a*/b*", "/a\\*/b*", true},
        {"'/a\\b'/*", "/a\\b/*", "/a\\\\b/*", true},
        {"'*.gz'", "*.gz", "*.gz", false},
        {"\\*", "*", "*", false},
        {"plain", "plain", "plain", false},
    };
    for (const auto& c : cases) {
        auto r = parse(std::string("cat ") + c.in);
        ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().msg;
        ASSERT_EQ(r->size(), 1U);
        ASSERT_EQ((*r)[0].size(), 2U) << c.in;
        const Word& w = (*r)[0][1];
        EXPECT_EQ(w.text, c.text) << c.in;
        EXPECT_EQ(w.pattern, c.pattern) << c.in;
        EXPECT_EQ(w.glob, c.glob) << c.in;
    }
}

TEST(Glob, OtherExpansionsStayRefused) {
    for (const char* in : {"cat ~/x", "cat /a/{b,c}", "cat $X/*", "cat `x`*", "cat /a/*>f", "cat !x", "cat a!",
                           "cat '['!a]", "cat \\[!a]"}) {
        auto r = parse(in);
        ASSERT_FALSE(r.ok()) << in;
        EXPECT_EQ(r.error().reason, "parse-metachar") << in << ": " << r.error().msg;
    }
}

TEST(Glob, TokenizeRefusesPipelinesAndGlobs) {
    for (const char* in : {"cat a | b", "cat /etc/*", "cat [a]"}) {
        auto r = tokenize(in);
        ASSERT_FALSE(r.ok()) << in;
        EXPECT_EQ(r.error().reason, "parse-metachar") << in;
    }
}

}  // namespace
}  // namespace diag::command
