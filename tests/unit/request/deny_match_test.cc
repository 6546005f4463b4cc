// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/deny_match.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wrapper/base/paths.h"

namespace diag::path_resolve {
namespace {

policy::Deny index_of(const std::vector<std::string>& patterns) {
    policy::Deny deny;
    for (const auto& p : patterns) {
        add_deny_entry(deny, p, "test");
    }
    return deny;
}

// Literals (escaped glob characters included), globs with * ? [..] [!..] and escapes, dot names,
// a literal and a glob spelled alike, entries at several depths and one below another.
const std::vector<std::string> kPatterns = {
    "/etc/shadow",  "/etc/ssh/ssh_host_*_key",
    "/home/*/.ssh", "/lit/\\*",
    "/lit/[*]/key", "/lit/*/key",
    "/q/?b/c",      "/r/[xy]*/[!a]z",
    "/.h*",         "/deep/a/b/c/d/e",
    "/deep/a",      "/g/\\?x*",
    "/s/*",         "/s/t/u",
    "/m/*/*/*/k",
};

// Names the walk can meet: ones the patterns match, ones they nearly match, glob characters
// as plain names, dot names.
const std::vector<std::string> kNames = {"etc",  "shadow", "ssh",     "ssh_host_rsa_key",
                                         "home", "alice",  ".hidden", ".ssh",
                                         "lit",  "*",      "key",     "q",
                                         "ab",   "bb",     "c",       "r",
                                         "xa",   "yq",     "az",      "bz",
                                         ".h",   ".hx",    "deep",    "a",
                                         "b",    "d",      "e",       "g",
                                         "?xy",  "\\?x",   "s",       "t",
                                         "u",    "m",      "k",       "[x]"};

// A deterministic pseudo-random walk: push a name (mostly), ".." (pop), or an absolute symlink
// target (reset and push a few), checking the cursor against match_deny after every step.
void walk_and_compare(const policy::Deny& deny, uint32_t seed, int steps) {
    DenyCursor cursor(deny);
    std::vector<std::string> comps;  // the same path, kept the plain way
    uint32_t x = seed;
    auto next = [&x]() {
        x = x * 1103515245u + 12345u;
        return (x >> 16) & 0x7fff;
    };
    for (int i = 0; i < steps; ++i) {
        const uint32_t op = next() % 20;
        if (op < 13) {
            const std::string& name = kNames[next() % kNames.size()];
            cursor.push(name);
            comps.push_back(name);
        } else if (op < 18) {
            cursor.pop();  // ".."
            if (!comps.empty()) {
                comps.pop_back();
            }
        } else {
            cursor.reset();  // an absolute symlink target
            comps.clear();
        }
        const std::string path = util::join_path(comps);
        ASSERT_EQ(cursor.path(), path) << "seed " << seed << " step " << i;
        ASSERT_EQ(cursor.depth(), comps.size());
        const policy::DenyEntry* want = match_deny(deny, path);
        const policy::DenyEntry* got = cursor.match();
        ASSERT_EQ(got, want) << "seed " << seed << " step " << i << " path " << path << ": cursor "
                             << (got ? got->pattern : "none") << ", match_deny " << (want ? want->pattern : "none");
    }
}

TEST(DenyCursor, AgreesWithMatchDenyOnEveryStepOfManyWalks) {
    const auto deny = index_of(kPatterns);
    for (uint32_t seed = 1; seed <= 400; ++seed) {
        walk_and_compare(deny, seed, 60);
    }
}

TEST(DenyCursor, AgreesWhenTheRootItselfIsDenied) {
    auto patterns = kPatterns;
    patterns.push_back("/");
    const auto deny = index_of(patterns);
    for (uint32_t seed = 1; seed <= 50; ++seed) {
        walk_and_compare(deny, seed, 40);
    }
}

TEST(DenyCursor, AgreesWithOnlyGlobsOrOnlyLiterals) {
    const auto globs = index_of({"/*/x", "/a*/b?/[xy]", "/s/*", "/[!e]*/*/*/k"});
    const auto literals = index_of({"/a", "/b/c", "/lit/\\*", "/lit/[?]"});
    for (uint32_t seed = 1; seed <= 100; ++seed) {
        walk_and_compare(globs, seed, 40);
        walk_and_compare(literals, seed, 40);
    }
}

TEST(DenyCursor, TableOfPathsAndTheEntryThatCoversThem) {
    const auto deny = index_of(kPatterns);
    struct Case {
        std::vector<std::string> ops;  // ".." pops, "/" resets
        const char* want;              // pattern, or "" for none
    } cases[] = {
        {{"etc", "shadow"}, "/etc/shadow"},
        {{"etc", "shadow", "x"}, "/etc/shadow"},
        {{"etc", "ssh", "ssh_host_rsa_key"}, "/etc/ssh/ssh_host_*_key"},
        {{"etc", "ssh", "ssh_host_rsa_key", ".."}, ""},
        {{"home", ".hidden", ".ssh"}, "/home/*/.ssh"},  // no FNM_PERIOD: * matches dot names
        {{"lit", "*"}, "/lit/\\*"},                     // the literal named "*"
        {{"lit", "x"}, ""},
        {{"lit", "x", "key"}, "/lit/*/key"},
        {{"q", "ab", "c"}, "/q/?b/c"},
        {{"r", "xa", "bz"}, "/r/[xy]*/[!a]z"},
        {{"r", "xa", "az"}, ""},
        {{".hx"}, "/.h*"},
        {{"g", "?xy"}, "/g/\\?x*"},
        {{"g", "\\?x"}, ""},
        {{"deep", "a", "b", "c", "d", "e"}, "/deep/a"},  // the shortest literal wins
        {{"s", "t", "u"}, "/s/t/u"},                     // a literal beats a glob, even a shorter one
        {{"etc", "shadow", "/", "etc"}, ""},             // reset by an absolute symlink
        {{"etc", "x", "..", "shadow"}, "/etc/shadow"},
        {{"m", "a", "b", "c", "k"}, "/m/*/*/*/k"},
        {{"m", "a", "b", "..", "c", "d", "k"}, "/m/*/*/*/k"},
    };
    for (const auto& c : cases) {
        DenyCursor cursor(deny);
        for (const auto& op : c.ops) {
            if (op == "..") {
                cursor.pop();
            } else if (op == "/") {
                cursor.reset();
            } else {
                cursor.push(op);
            }
        }
        const policy::DenyEntry* got = cursor.match();
        EXPECT_EQ(got ? got->pattern : "", c.want) << cursor.path();
        EXPECT_EQ(got, match_deny(deny, cursor.path())) << cursor.path();
    }
}

TEST(DenyCursor, PopAtTheRootStaysAtTheRoot) {
    const auto deny = index_of({"/"});
    DenyCursor cursor(deny);
    cursor.pop();
    EXPECT_EQ(cursor.path(), "/");
    EXPECT_EQ(cursor.depth(), 0u);
    ASSERT_NE(cursor.match(), nullptr);
    EXPECT_EQ(cursor.match()->pattern, "/");
}

}  // namespace
}  // namespace diag::path_resolve
