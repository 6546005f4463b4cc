// SPDX-License-Identifier: Apache-2.0
// glob::expand(): shell semantics (hidden files, brackets, escapes, byte order, several levels),
// the deny check on every directory listed and every match, the caps, and the rewritten Match.
#include "wrapper/request/glob.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/helpers/privilege.h"
#include "tests/unit/request/resolve_fixture.h"
#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"

namespace diag::glob {
namespace {

namespace fs = std::filesystem;
using matcher::Match;
using matcher::PathRef;
using path_resolve::Use;
using Paths = std::vector<std::string>;

// The resolver's symlink farm (secret/ and keys/host_*_key denied; pub/ with links into them),
// and trees to expand in: g/ with hidden and bracketed names, m/ with several levels.
class GlobExpand : public path_resolve::PathResolve {
  protected:
    void SetUp() override {
        PathResolve::SetUp();
        // Else every directory here is one the requester could swap, never listed (path-replaceable).
        DIAG_SKIP_UNLESS_OWNED_CHAIN(d_, 0u);
        fs::create_directories(d_ + "/g/dir");
        for (const char* f : {"a.log", "b.log", "c.txt", ".hidden.log", "x*y", "xzy", "B", "Z1", "_"}) {
            put(d_ + "/g/" + f, "g");
        }
        for (const char* dir : {"one", "three", "a.b"}) {
            fs::create_directories(d_ + "/m/" + dir + "/log");
            put(d_ + "/m/" + dir + "/log/x.log", "m");
        }
        fs::create_directories(d_ + "/m/two");
        put(d_ + "/m/file", "m");
        put(d_ + "/pub/sub/file", "p");
        e_ = util::glob_escape(d_);
    }
    void TearDown() override {
        deadline::clear();
        PathResolve::TearDown();
    }

    // A Match holding one glob path argument, as match_stage leaves it.
    static Match one(const std::string& pattern, Use use = Use::kContent, size_t max_matches = 256,
                     const std::vector<std::string>& roots = {}) {
        Match m;
        PathRef ref;
        ref.index = 0;
        ref.input = util::glob_unescape(pattern);
        ref.use = use;
        ref.roots = roots;
        ref.glob = true;
        ref.pattern = pattern;
        ref.max_matches = max_matches;
        m.exec_args = {ref.input};
        m.paths = {ref};
        return m;
    }
    // The matches of `pattern`, relative to d_ when absolute under it; a refusal fails the test.
    Paths matches(const std::string& pattern, std::vector<Withheld>* withheld = nullptr) {
        Match m = one(pattern);
        Budget b;
        auto r = expand(deny_, m, b);
        if (!r.ok()) {
            ADD_FAILURE() << pattern << ": " << r.error().reason << ": " << r.error().msg;
            return {};
        }
        if (withheld != nullptr) {
            *withheld = *r;
        }
        Paths out;
        for (const auto& a : m.exec_args) {
            out.push_back(a.rfind(d_, 0) == 0 ? a.substr(d_.size()) : a);
        }
        return out;
    }
    Error refusal(const std::string& pattern, Use use = Use::kContent) {
        Match m = one(pattern, use);
        Budget b;
        auto r = expand(deny_, m, b);
        EXPECT_FALSE(r.ok()) << pattern << " -> " << ::testing::PrintToString(m.exec_args);
        return r.ok() ? Error{} : r.error();
    }
    std::string e_;  // d_ as a pattern
};

TEST_F(GlobExpand, StarAndQuestionMarkNeverMatchALeadingDot) {
    EXPECT_EQ(matches(e_ + "/g/*.log"), (Paths{"/g/a.log", "/g/b.log"}));
    EXPECT_EQ(matches(e_ + "/g/?.log"), (Paths{"/g/a.log", "/g/b.log"}));
    EXPECT_EQ(matches(e_ + "/g/.*.log"), (Paths{"/g/.hidden.log"}));
    EXPECT_EQ(matches(e_ + "/g/*"),
              (Paths{"/g/B", "/g/Z1", "/g/_", "/g/a.log", "/g/b.log", "/g/c.txt", "/g/dir", "/g/x*y", "/g/xzy"}));
}

TEST_F(GlobExpand, BracketsRangesAndNegation) {
    EXPECT_EQ(matches(e_ + "/g/[a-c].*"), (Paths{"/g/a.log", "/g/b.log", "/g/c.txt"}));
    // Negation: neither 'a' nor a leading '.'.
    EXPECT_EQ(matches(e_ + "/g/[!a].log"), (Paths{"/g/b.log"}));
    EXPECT_EQ(matches(e_ + "/g/[!a-z]*"), (Paths{"/g/B", "/g/Z1", "/g/_"}));
}

TEST_F(GlobExpand, EscapedCharactersAreLiteral) {
    EXPECT_EQ(matches(e_ + "/g/x\\*?"), (Paths{"/g/x*y"}));
    EXPECT_EQ(matches(e_ + "/g/x*y"), (Paths{"/g/x*y", "/g/xzy"}));
    // A literal component with an escape: the file it names, unescaped.
    EXPECT_EQ(matches(e_ + "/g/x\\*y"), (Paths{"/g/x*y"}));
}

TEST_F(GlobExpand, MatchesAreInByteOrderAsWholePaths) {
    EXPECT_EQ(matches(e_ + "/g/[!.abcx]*"), (Paths{"/g/B", "/g/Z1", "/g/_", "/g/dir"}));
    // "a.b/..." sorts before "a/..." ('.' < '/'), though "a" < "a.b" as names.
    fs::create_directories(d_ + "/m/a/log");
    put(d_ + "/m/a/log/y.log", "m");
    EXPECT_EQ(matches(e_ + "/m/*/log/*.log"),
              (Paths{"/m/a.b/log/x.log", "/m/a/log/y.log", "/m/one/log/x.log", "/m/three/log/x.log"}));
}

TEST_F(GlobExpand, SeveralLevelsPassOverWhatIsNoDirectory) {
    // two has no log/, file is no directory: as in a shell, neither is a match nor an error.
    EXPECT_EQ(matches(e_ + "/m/*/log/*"), (Paths{"/m/a.b/log/x.log", "/m/one/log/x.log", "/m/three/log/x.log"}));
    // A literal tail names only what exists.
    EXPECT_EQ(matches(e_ + "/m/*/log"), (Paths{"/m/a.b/log", "/m/one/log", "/m/three/log"}));
    // A trailing slash keeps directories.
    EXPECT_EQ(matches(e_ + "/m/*/"), (Paths{"/m/a.b/", "/m/one/", "/m/three/", "/m/two/"}));
    // Empty components keep their spelling.
    EXPECT_EQ(matches(e_ + "//m//o*"), (Paths{"//m//one"}));
}

TEST_F(GlobExpand, RelativePatternsAreRelativeToTheRoot) {
    const std::string rel = e_.substr(1) + "/g/*.log";
    EXPECT_EQ(matches(rel), (Paths{d_.substr(1) + "/g/a.log", d_.substr(1) + "/g/b.log"}));
}

TEST_F(GlobExpand, ListingADeniedDirectoryIsRefused) {
    for (const std::string& p :
         {e_ + "/secret/*", e_ + "/secret/sub/*", e_ + "/pub/dirlink/*", e_ + "/secret/*/deep"}) {
        EXPECT_EQ(refusal(p).reason, "path-denied") << p;
    }
    // Listing is reading, even to show metadata only.
    EXPECT_EQ(refusal(e_ + "/secret/*", Use::kMetadata).reason, "path-denied");
}

TEST_F(GlobExpand, ListingADirectoryAnotherAccountCouldSwapIsRefused) {
    DIAG_SKIP_UNLESS_CHOWN(d_ + "/m");
    // one/ sits in a directory another account owns: it could be a symlink by the time a program
    // opened it. Listing it is refused as a typed directory is.
    ASSERT_EQ(::chown((d_ + "/m").c_str(), 4242, 4242), 0);
    EXPECT_EQ(refusal(e_ + "/m/one/*").reason, "path-replaceable");
}

TEST_F(GlobExpand, DeniedMatchesAreWithheld) {
    std::vector<Withheld> withheld;
    EXPECT_EQ(matches(e_ + "/pub/*", &withheld), (Paths{"/pub/readme", "/pub/sub"}));
    Paths names;
    for (const auto& w : withheld) {
        names.push_back(w.path.substr(d_.size()) + " " + w.reason);
    }
    EXPECT_EQ(names, (Paths{"/pub/dirlink path-denied", "/pub/hop1 path-denied", "/pub/hop2 path-denied",
                            "/pub/keylink path-denied", "/pub/link path-denied", "/pub/loop path-not-found"}));
}

TEST_F(GlobExpand, EveryMatchWithheldRefusesNamingThePattern) {
    // keys/host_*_key matches only the denied key: as `cat /etc/shado?`.
    const Error e = refusal(e_ + "/keys/host_*_key");
    EXPECT_EQ(e.reason, "path-denied");
    EXPECT_NE(e.msg.find("host_*_key"), std::string::npos) << e.msg;
    // The public key next to it is kept.
    EXPECT_EQ(matches(e_ + "/keys/host_*_key.pub"), (Paths{"/keys/host_ed25519_key.pub"}));
    EXPECT_EQ(refusal(e_ + "/pub/l*").reason, "path-denied");  // link, loop
}

TEST_F(GlobExpand, MatchedDirectoryThatIsDeniedIsWithheldNotListed) {
    std::vector<Withheld> withheld;
    EXPECT_EQ(matches(e_ + "/pub/*/*", &withheld), (Paths{"/pub/sub/file"}));
    bool dirlink = false;
    for (const auto& w : withheld) {
        EXPECT_EQ(w.path.find("/pub/dirlink/"), std::string::npos) << w.path << " was listed";
        dirlink = dirlink || w.path == d_ + "/pub/dirlink";
    }
    EXPECT_TRUE(dirlink);
    // Through the symlink into the denied directory, by a literal tail.
    EXPECT_EQ(refusal(e_ + "/pub/*/canary").reason, "path-denied");
}

TEST_F(GlobExpand, MatchesAreResolvedWithTheArgumentsUseAndRoots) {
    // A tree argument whose tree holds a denied path is withheld (du -sh DIR/*); as content, not.
    Match tree = one(e_ + "/[gk]*", Use::kTree);
    Budget b;
    auto r = expand(deny_, tree, b);
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(tree.exec_args, (Paths{d_ + "/g"}));
    ASSERT_EQ(r->size(), 1U);
    EXPECT_EQ((*r)[0].path, d_ + "/keys");
    EXPECT_EQ((*r)[0].reason, "path-tree-denied");
    EXPECT_EQ(matches(e_ + "/[gk]*"), (Paths{"/g", "/keys"}));

    std::filesystem::create_symlink(d_ + "/pub/readme", d_ + "/g/out");
    Match rooted = one(e_ + "/g/[a-o]*", Use::kContent, 256, {d_ + "/g"});
    Budget b2;
    auto r2 = expand(deny_, rooted, b2);
    ASSERT_TRUE(r2.ok()) << r2.error().msg;
    EXPECT_EQ(rooted.exec_args, (Paths{d_ + "/g/a.log", d_ + "/g/b.log", d_ + "/g/c.txt", d_ + "/g/dir"}));
    ASSERT_EQ(r2->size(), 1U);
    EXPECT_EQ((*r2)[0].reason, "path-outside-roots");
}

TEST_F(GlobExpand, NoMatchIsRefused) {
    EXPECT_EQ(refusal(e_ + "/g/*.none").reason, "glob-no-match");
    EXPECT_EQ(refusal(e_ + "/g/?hidden.log").reason, "glob-no-match");
    EXPECT_EQ(refusal(e_ + "/m/*/nothing").reason, "glob-no-match");
    // The directory the request names must exist.
    EXPECT_EQ(refusal(e_ + "/missing/*").reason, "path-not-found");
    EXPECT_EQ(refusal(e_ + "/g/a.log/*").reason, "glob-no-match");
}

TEST_F(GlobExpand, CapsAreRefused) {
    fs::create_directories(d_ + "/many");
    for (size_t i = 0; i <= kMaxMatchesPerWord; ++i) {
        put(d_ + "/many/f" + std::to_string(i), "");
    }
    EXPECT_EQ(refusal(e_ + "/many/*").reason, "glob-limit");
    EXPECT_EQ(refusal(e_ + "/many/*/x").reason, "glob-limit");  // at an inner level too
    EXPECT_EQ(matches(e_ + "/many/f1?").size(), 10U);

    auto with_budget = [this](const std::string& pattern, Budget b) {
        Match m = one(pattern);
        auto r = expand(deny_, m, b);
        return r.ok() ? std::string("ok") : r.error().reason;
    };
    EXPECT_EQ(with_budget(e_ + "/g/*.log", Budget{kMaxMatchesTotal - 2, 0, 0}), "ok");
    EXPECT_EQ(with_budget(e_ + "/g/*.log", Budget{kMaxMatchesTotal - 1, 0, 0}), "glob-limit");
    EXPECT_EQ(with_budget(e_ + "/g/*.log", Budget{0, kMaxEntriesRead - 3, 0}), "glob-limit");
    EXPECT_EQ(with_budget(e_ + "/g/*.log", Budget{0, 0, kMaxMatchBytes - 10}), "glob-limit");
}

TEST_F(GlobExpand, ArgumentTakesNoMoreMatchesThanItMay) {
    Match opt = one(e_ + "/g/*.log", Use::kContent, 1);
    opt.paths[0].option_value = true;
    Budget b;
    auto r = expand(deny_, opt, b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "glob-limit");
    EXPECT_NE(r.error().msg.find("exactly one"), std::string::npos) << r.error().msg;
    Match single = one(e_ + "/g/a*.log", Use::kContent, 1);
    single.paths[0].option_value = true;
    ASSERT_TRUE(expand(deny_, single, b).ok());
    EXPECT_EQ(single.exec_args, (Paths{d_ + "/g/a.log"}));
    Match two = one(e_ + "/g/[a-c].*", Use::kContent, 2);
    EXPECT_EQ(expand(deny_, two, b).error().reason, "glob-limit");
}

TEST_F(GlobExpand, RewritesArgvAndShiftsLaterPaths) {
    Match m;
    m.exec_args = {"-n", "--file=" + d_ + "/g/a*.log", "--", d_ + "/g/*.log", d_ + "/pub/readme", d_ + "/m/o*"};
    PathRef file;
    file.index = 1;
    file.prefix = "--file=";
    file.input = d_ + "/g/a*.log";
    file.glob = true;
    file.pattern = e_ + "/g/a*.log";
    file.option_value = true;
    PathRef logs;
    logs.index = 3;
    logs.input = d_ + "/g/*.log";
    logs.glob = true;
    logs.pattern = e_ + "/g/*.log";
    logs.max_matches = 8;
    PathRef plain;
    plain.index = 4;
    plain.input = d_ + "/pub/readme";
    PathRef last = logs;
    last.index = 5;
    last.input = d_ + "/m/o*";
    last.pattern = e_ + "/m/o*";
    m.paths = {file, logs, plain, last};
    Budget b;
    auto r = expand(deny_, m, b);
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_TRUE(r->empty());
    EXPECT_EQ(m.exec_args, (Paths{"-n", "--file=" + d_ + "/g/a.log", "--", d_ + "/g/a.log", d_ + "/g/b.log",
                                  d_ + "/pub/readme", d_ + "/m/one"}));
    ASSERT_EQ(m.paths.size(), 5U);
    for (const auto& p : m.paths) {
        EXPECT_FALSE(p.glob);
        EXPECT_EQ(m.exec_args[p.index], p.prefix + p.input);
    }
    EXPECT_EQ(m.paths[0].prefix, "--file=");
    EXPECT_EQ(m.paths[2].index, 4U);
    EXPECT_EQ(m.paths[3].index, 5U);
    EXPECT_EQ(m.paths[4].index, 6U);
    EXPECT_EQ(b.matches, 4U);
}

TEST_F(GlobExpand, GlobsOfOneOperandListStayWithinTheRulesCount) {
    // Two glob words of one positional spec (max 3): each alone may grow to 2 (3 - 2 + 1), but
    // together 4 words would be more operands than the rule takes.
    policy::PositionalSpec spec;
    spec.max = 3;
    Match m = one(e_ + "/g/[ab].log", Use::kContent, 2);
    PathRef second = m.paths[0];
    second.index = 1;
    m.exec_args.push_back(second.input);
    m.paths.push_back(second);
    for (auto& ref : m.paths) {
        ref.operand = &spec;
    }
    Match fits = m;
    Budget b;
    auto r = expand(deny_, m, b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "glob-limit") << r.error().msg;
    // One of them a plain word: 2 + 1 fits.
    fits.paths[1].glob = false;
    Budget b2;
    auto ok = expand(deny_, fits, b2);
    ASSERT_TRUE(ok.ok()) << ok.error().msg;
    EXPECT_EQ(fits.exec_args.size(), 3U);
}

TEST_F(GlobExpand, ListingStopsAtTheDeadline) {
    deadline::start(0);
    EXPECT_EQ(refusal(e_ + "/g/*").reason, deadline::kReason);
}

}  // namespace
}  // namespace diag::glob
