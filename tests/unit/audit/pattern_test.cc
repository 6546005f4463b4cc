// SPDX-License-Identifier: Apache-2.0
// diag-audit --command: the linear-time matcher. Semantics against hand-checked cases, errors for
// what is not supported, and pathological patterns on 40 KB commands (no crash; the run time is
// bounded by construction, so there are no timing thresholds here).
#include "wrapper/audit/pattern.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace diag::audit_pattern {
namespace {

bool hit(const std::string& pattern, const std::string& text) {
    auto p = Pattern::compile(pattern);
    EXPECT_TRUE(p.ok()) << pattern << ": " << (p.ok() ? "" : p.error().msg);
    return p.ok() && p->search(text);
}

TEST(AuditPattern, MatchesLikeRegexSearch) {
    const struct {
        const char* pattern;
        const char* text;
        bool want;
    } cases[] = {
        {"", "anything", true},
        {"cat", "cat /etc/hosts", true},
        {"hosts", "cat /etc/hosts", true},
        {"^cat ", "cat /etc/hosts", true},
        {"^cat ", "bcat /etc", false},
        {"hosts$", "cat /etc/hosts", true},
        {"etc$", "cat /etc/hosts", false},
        {"^$", "", true},
        {"^$", "x", false},
        {"c.t", "cut", true},
        {"c.t", "c\nt", false},
        {"a*b", "b", true},
        {"a+b", "b", false},
        {"a+b", "xaaab", true},
        {"colou?r", "color", true},
        {"colou?r", "colour", true},
        {"^(df|du) ", "du -sh /", true},
        {"^(df|du) ", "dd if=/dev/zero", false},
        {"^(?:ab)+$", "ababab", true},
        {"^(?:ab)+$", "ababa", false},
        {"[0-9]+", "exit 17", true},
        {"^[^ ]+$", "uname", true},
        {"^[^ ]+$", "uname -a", false},
        {"[]", "x", false},
        {"\\d\\d", "a12", true},
        {"^\\w+$", "snake_case9", true},
        {"^\\w+$", "two words", false},
        {"\\s", "a\tb", true},
        {"\\S+", "   ", false},
        {"\\.\\*", "a.*b", true},
        {"\\x1b\\[2J", "x\x1b[2Jy", true},
        {"\\u00AD",
         "sha\xc2\xad"
         "dow",
         true},
        {"\\u{E0041}", "x\xf3\xa0\x81\x81", true},
        {"[\xc3\xa9\xc3\xa8]", "caf\xc3\xa9", true},  // classes work on code points
        {"^caf.$", "caf\xc3\xa9", true},              // . is one code point
        {"^a.b$",
         "a\xff"
         "b",
         true},  // an invalid byte is one "character"
        {"^a[^x]b$",
         "a\xff"
         "b",
         true},
        {"(a|ab)(c|bcd)(d*)", "abcd", true},
        {"x*?y", "xxy", true},  // lazy: same answer for a search
        // Review finding: `Q+?` was read as `(Q+)?`, which matches every command.
        {"Q+?", "cat /etc/hosts", false},
        {"Q+?", "xQQ", true},
        {"a??b", "b", true},
        {"[-a]", "-", true},
        {"[a-]", "-", true},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(hit(c.pattern, c.text), c.want) << "/" << c.pattern << "/ on '" << c.text << "'";
    }
}

TEST(AuditPattern, RejectsWhatItDoesNotSupport) {
    const char* const bad[] = {
        "(unclosed", "unopened)", "[abc", "*x",          "a|+", "a{2}", "(?=x)", "(?!x)", "(?<n>x)", "\\1",  "\\b",
        "\\q",       "[z-a]",     "\\x1", "\\u{110000}", "x\\", "\xff", "a++",   "a*+",   "a?*",     "a+??", "a**",
    };
    for (const char* p : bad) {
        auto r = Pattern::compile(p);
        ASSERT_FALSE(r.ok()) << p;
        EXPECT_EQ(r.error().code, ErrorCode::kUsage) << p;
        EXPECT_NE(r.error().msg.find("--command: bad pattern"), std::string::npos) << r.error().msg;
    }
    EXPECT_FALSE(Pattern::compile(std::string(kMaxPatternBytes + 1, 'a')).ok());
    EXPECT_FALSE(Pattern::compile(std::string(kMaxNesting + 2, '(') + "a" + std::string(kMaxNesting + 2, ')')).ok());
    EXPECT_TRUE(Pattern::compile(std::string(kMaxNesting, '(') + "a" + std::string(kMaxNesting, ')')).ok());
}

// The shapes that make a backtracking matcher (or libstdc++'s recursive one) blow up: nested and
// overlapping repetition, alternation under a star, no match at the end. Each runs on a 40 KB
// command; with a backtracking engine several would not finish and std::regex_search crashes on
// the first with SIGSEGV (stack exhaustion).
TEST(AuditPattern, PathologicalPatternsOnLongCommands) {
    const std::string as(40 * 1024, 'a');
    const std::string spaces = "uname" + std::string(40 * 1024, ' ') + "-a";
    const std::pair<std::string, const std::string*> cases[] = {
        {"(a|b)*c", &as}, {"(a*)*b", &as},        {"(a|aa)+$", &as},    {"^(a+)+b", &as},
        {"(.*)*x", &as},  {"a*a*a*a*a*a*b", &as}, {".* +-a$", &spaces}, {"^uname( )*-b", &spaces},
    };
    for (const auto& [pattern, text] : cases) {
        auto p = Pattern::compile(pattern);
        ASSERT_TRUE(p.ok()) << pattern;
        const bool want = pattern == "(a|aa)+$" || pattern == ".* +-a$";
        EXPECT_EQ(p->search(*text), want) << pattern;
    }
    // A long text through a long alternation: still no recursion on the text.
    std::string alts;
    for (int i = 0; i < 200; ++i) {
        alts += (i == 0 ? "" : "|") + std::string("x") + std::to_string(i);
    }
    auto p = Pattern::compile("(" + alts + ")+$");
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->search(as));
    EXPECT_TRUE(p->search(as + "x199"));
}

}  // namespace
}  // namespace diag::audit_pattern
