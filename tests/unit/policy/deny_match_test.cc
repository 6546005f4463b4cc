// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/deny_match.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wrapper/base/paths.h"

namespace diag::deny_list {
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

TEST(DenyMatch, MatchIsPerComponentGlob) {
    policy::Deny d;
    add_deny_entry(d, "/home/*/.ssh", "t");
    add_deny_entry(d, "/etc/shadow*", "t");
    add_deny_entry(d, "/var/lib/secret", "t");
    EXPECT_NE(match_deny(d, "/home/alice/.ssh/id_ed25519"), nullptr);
    EXPECT_NE(match_deny(d, "/home/.hidden/.ssh"), nullptr);
    EXPECT_EQ(match_deny(d, "/home/alice/x/.ssh"), nullptr);
    EXPECT_NE(match_deny(d, "/etc/shadow-"), nullptr);
    EXPECT_EQ(match_deny(d, "/etc/shadows.d2"), match_deny(d, "/etc/shadow"));
    EXPECT_EQ(match_deny(d, "/etc/passwd"), nullptr);
    EXPECT_NE(deny_below(d, "/home"), nullptr);
    EXPECT_NE(deny_below(d, "/"), nullptr);
    EXPECT_NE(deny_below(d, "/var"), nullptr);  // /var/lib/secret lies below
    EXPECT_NE(deny_below(d, "/var/lib/secret"), nullptr);
    EXPECT_EQ(deny_below(d, "/var/lib/other"), nullptr);
    EXPECT_EQ(deny_below(d, "/usr"), nullptr);
    EXPECT_NE(match_deny(d, "/var/lib/secret/x/y"), nullptr);
    EXPECT_EQ(match_deny(d, "/var/lib/secrets"), nullptr);
    add_deny_entry(d, "/var/lib/secret", "again");  // duplicates are ignored
    EXPECT_EQ(d.entries.size(), 3u);
}

// The index add_deny_entry keeps, key by key: a literal's key has its escapes removed and every
// proper ancestor is indexed ("/" first); empty components are dropped; a glob is kept apart,
// split into its (still escaped) components; each kind is deduplicated against its own kind only.
TEST(DenyMatch, TheIndexOfEachKindOfEntry) {
    policy::Deny d;
    add_deny_entry(d, "//srv///a\\*b/", "literal with an escaped star");
    add_deny_entry(d, "/srv/a*b", "glob spelled alike");
    add_deny_entry(d, "/srv/a\\*b", "the literal again");
    add_deny_entry(d, "/srv/a*b", "the glob again");
    add_deny_entry(d, "/", "the root", true);
    ASSERT_EQ(d.entries.size(), 3u);
    EXPECT_EQ(d.entries[0].pattern, "//srv///a\\*b/") << "the pattern is kept as given";
    EXPECT_EQ(d.entries[0].origin, "literal with an escaped star");
    ASSERT_EQ(d.exact.count("/srv/a*b"), 1u);
    EXPECT_EQ(d.exact.at("/srv/a*b"), 0u);
    EXPECT_EQ(d.exact.at("/"), 2u);
    EXPECT_EQ(d.exact.size(), 2u);
    EXPECT_EQ(d.ancestors.at("/"), 0u);
    EXPECT_EQ(d.ancestors.at("/srv"), 0u);
    EXPECT_EQ(d.ancestors.size(), 2u) << "the root entry has no proper ancestor";
    EXPECT_EQ(d.unguarded_ancestors.size(), 2u) << "the kernel-guarded root adds none";
    ASSERT_EQ(d.globs.size(), 1u);
    EXPECT_EQ(d.globs[0].entry, 1u);
    EXPECT_EQ(d.globs[0].parts, (std::vector<std::string>{"srv", "a*b"}));
    EXPECT_EQ(d.entries[1].origin, "glob spelled alike");
    EXPECT_TRUE(d.entries[2].kernel_guarded);
}

// The raw-I/O devices need no Landlock walk of /dev for an unprivileged child; anything else the
// policy denies there still does.
TEST(DenyMatch, KernelGuardedEntriesDoNotMakeTheWalkDescend) {
    policy::Deny d;
    add_deny_entry(d, "/dev/mem", "built-in", true);
    add_deny_entry(d, "/dev/port", "built-in", true);
    EXPECT_NE(match_deny(d, "/dev/mem"), nullptr) << "still refused as an argument";
    EXPECT_NE(deny_below(d, "/dev"), nullptr);
    EXPECT_EQ(deny_below(d, "/dev", true), nullptr);
    EXPECT_EQ(deny_below(d, "/", true), nullptr);
    add_deny_entry(d, "/dev/disk/by-id/secret", "policy.toml:9");
    EXPECT_NE(deny_below(d, "/dev", true), nullptr);
    EXPECT_EQ(deny_below(d, "/dev", true)->pattern, "/dev/disk/by-id/secret");
    // A policy entry for the same path stays an ordinary one: the first entry wins.
    policy::Deny e;
    add_deny_entry(e, "/dev/mem", "policy.toml:3");
    add_deny_entry(e, "/dev/mem", "built-in", true);
    EXPECT_NE(deny_below(e, "/dev", true), nullptr);
}

// The Landlock walk asks DenyScope instead of match_deny/deny_below: every answer must agree, or
// the walk grants what resolve() refuses.
TEST(DenyMatch, ScopeAgreesWithMatchDenyAndDenyBelow) {
    policy::Deny d;
    for (const char* p : {"/home/*/.ssh", "/etc/shadow*", "/var/lib/secret", "/srv/*/keys/*.pem", "/opt/a/b",
                          "/proc/*/environ", "/data/[ab]*/x"}) {
        add_deny_entry(d, p, "t");
    }
    const std::vector<std::string> dirs = {"/",      "/home",       "/home/alice",   "/home/alice/.ssh",
                                           "/etc",   "/var",        "/var/lib",      "/var/lib/secret",
                                           "/srv",   "/srv/web",    "/srv/web/keys", "/opt",
                                           "/opt/a", "/opt/a/b",    "/proc",         "/proc/1",
                                           "/data",  "/data/alpha", "/data/cat",     "/dev"};
    const std::vector<std::string> names = {
        "home",    "etc",       "var",    "srv",     "opt",     "proc", "data",   ".ssh",    "alice", "dev",  "mem",
        "guarded", "guarded-x", "shadow", "shadow-", "passwd",  "lib",  "secret", "secrets", "web",   "keys", "tls.pem",
        "tls.crt", "a",         "b",      "c",       "environ", "1",    "alpha",  "cat",     "x"};
    // Kernel-guarded entries (the raw-I/O devices) count for denied(), and for below() unless
    // it is asked to skip them.
    add_deny_entry(d, "/dev/mem", "built-in", true);
    add_deny_entry(d, "/opt/a/b/guarded", "built-in", true);
    add_deny_entry(d, "/srv/*/guarded*", "built-in", true);
    size_t denied = 0;
    size_t below = 0;
    size_t skipped = 0;
    for (const auto& dir : dirs) {
        const DenyScope scope(d, dir);
        const DenyScope walk(d, dir, true);
        for (const auto& name : names) {
            const std::string path = (dir == "/" ? "" : dir) + "/" + name;
            EXPECT_EQ(scope.denied(name) != nullptr, match_deny(d, path) != nullptr) << path;
            EXPECT_EQ(scope.below(name) != nullptr, deny_below(d, path) != nullptr) << path;
            EXPECT_EQ(walk.denied(name) != nullptr, match_deny(d, path) != nullptr) << path;
            EXPECT_EQ(walk.below(name) != nullptr, deny_below(d, path, true) != nullptr) << path;
            denied += scope.denied(name) != nullptr;
            below += scope.below(name) != nullptr;
            skipped += (scope.below(name) != nullptr) != (walk.below(name) != nullptr);
        }
    }
    EXPECT_GT(skipped, 0u) << "no name differs between below() and the walk's below()";
    // The table exercises both answers, not only "nothing denied".
    EXPECT_GT(denied, 20u);
    EXPECT_GT(below, 20u);
}

}  // namespace
}  // namespace diag::deny_list
