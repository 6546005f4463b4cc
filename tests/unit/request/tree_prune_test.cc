// SPDX-License-Identifier: Apache-2.0
// Trees with denied paths below them (adr/0016): what decide() hands find, grep -r and du once
// tree_prune has rewritten their arguments, and what it still refuses. The programs themselves
// run in tests/integration/tree_prune_test.cc and the sshd end-to-end test.
#include "wrapper/request/tree_prune.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/unit/policy/policy_text.h"
#include "wrapper/base/paths.h"
#include "wrapper/request/decide.h"

namespace diag::tree_prune {
namespace {

using Words = std::vector<std::string>;

const char* const kRules = R"(
[command.find]
match = ["find"]
description = "d"
style = "words"
layout = "positionals-first"
prune = "find"
option = [
    { names = ["-name"], type = "string" },
    { names = ["-o"], type = "flag" },
    { names = ["-not"], type = "flag" },
    { names = ["-maxdepth"], type = "int", min = 0, max = 99 },
    { names = ["-mindepth"], type = "int", min = 0, max = 99 },
    { names = ["-xdev"], type = "flag" },
    { names = ["-print0"], type = "flag" },
    { names = ["-newer"], type = "meta-path" },
]
positional = [{ type = "meta-path", tree = true, min = 1, max = 4 }]

[command.grep]
match = ["grep"]
description = "d"
prune = "grep"
option = [
    { names = ["-r"], type = "flag", recursive = true },
    { names = ["-h"], type = "flag" },
    { names = ["--include"], type = "string" },
    { names = ["--exclude-dir"], type = "string" },
]
positional = [{ type = "string" }, { type = "path", min = 1, max = 4 }]

[command.du]
match = ["du"]
description = "d"
prune = "du"
option = [{ names = ["-s"], type = "flag" }]
positional = [{ type = "meta-path", tree = true, min = 1, max = 4 }]

[command.ls]
match = ["ls"]
description = "d"
option = [{ names = ["-R"], type = "flag", recursive = true }]
positional = [{ type = "meta-path", min = 1, max = 4 }]
)";

class TreePrune : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            // A tree in a directory another account (this one) could swap is refused before any
            // pruning (path-replaceable): the fixture needs directories only root can change.
            GTEST_SKIP() << "needs root: the fixture's trees must be directories only root can change";
        }
        char tmpl[] = "/tmp/diagprune.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        // A name with a backslash (literal in a deny entry as written, an escape to find and du):
        // every path the rewrites hand over must be escaped.
        d_ = std::filesystem::canonical(tmpl).string() + "/f\\x";
        for (const char* dir : {"", "/keys", "/ok/deep", "/nested/sec", "/nested/other", "/glob-x"}) {
            std::filesystem::create_directories(d_ + dir);
        }
        for (const char* file : {"/keys/NAMECANARY", "/ok/a.txt", "/ok/deep/b.txt", "/nested/plain", "/secretfile",
                                 "/glob-x/NAMECANARY"}) {
            std::ofstream(d_ + file) << "x\n";
        }
        std::filesystem::create_symlink("keys", d_ + "/link");
        text_ = std::string(policy_loader::test::kHead) + "[deny]\npaths = ['" + d_ + "/keys', '" + d_ +
                "/nested/se*', '" + d_ + "/secretfile', '" + d_ + "/glob-*']\n" + kRules;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(std::filesystem::path(d_).parent_path(), ec);
    }

    Result<decision::Decision> decide(const std::string& request) {
        auto p = policy_loader::test::load_text(text_);
        if (!p.ok()) {
            return std::move(p).error();
        }
        policy_ = std::move(*p);
        return decide::decide(policy_, request, [](const policy::Command&) { return true; });
    }
    // The exec args of an allowed single-command request.
    Words args(const std::string& request) {
        auto d = decide(request);
        EXPECT_TRUE(d.ok()) << request << "\n=> " << d.error().describe();
        return d.ok() ? d->stages.at(0).match.exec_args : Words{};
    }
    static size_t pos(const Words& w, const std::string& s) {
        return static_cast<size_t>(std::find(w.begin(), w.end(), s) - w.begin());
    }
    std::string q(const std::string& s) const { return "'" + s + "'"; }

    std::string d_;
    std::string text_;
    policy::Policy policy_;
};

TEST_F(TreePrune, FindSkipsEveryDeniedPathAndKeepsTheRequestsExpression) {
    const Words a = args("find " + q(d_) + " -name a.txt -o -name b.txt");
    ASSERT_GE(a.size(), 8u);
    EXPECT_EQ(a[0], d_);
    // ( PRUNE ) -prune -o ( REQUEST ) -print
    const size_t prune = pos(a, "-prune");
    ASSERT_LT(prune, a.size());
    EXPECT_EQ(a[prune - 1], ")");
    const Words rest(a.begin() + static_cast<long>(prune), a.end());
    EXPECT_EQ(rest, (Words{"-prune", "-o", "(", "-name", "a.txt", "-o", "-name", "b.txt", ")", "-print"}));
    const std::string esc = util::glob_escape(d_);
    for (const std::string denied : {"/keys", "/secretfile"}) {
        EXPECT_LT(pos(a, esc + denied), prune) << denied;  // each literal denied path, escaped
    }
    // A glob goes as itself (what appears while find runs is pruned too), with the guard that keeps
    // its '*' inside one component (find's -path lets it match '/'); a path found that it matches
    // alike in every locale (ASCII) needs no test of its own.
    const size_t g = pos(a, esc + "/glob-*");
    ASSERT_LT(g + 3, prune);
    const std::string guard = [&] {
        std::string g2;
        for (size_t i = 0; i <= util::split_path(d_).size() + 1; ++i) {
            g2 += "/*";
        }
        return g2;
    }();
    EXPECT_EQ((Words{a[g - 1], a[g + 1], a[g + 2], a[g + 3]}), (Words{"-path", "-not", "-path", guard}));
    EXPECT_LT(pos(a, esc + "/nested/se*"), prune);
    EXPECT_EQ(pos(a, esc + "/glob-x"), a.size());
    auto d = decide("find " + q(d_) + " -name x");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->stages[0].skipped.size(), 4u);
}

TEST_F(TreePrune, FindGlobalOptionsMoveInFrontAndLeaveTrue) {
    const Words a = args("find " + q(d_) + " -name a -maxdepth 2 -xdev");
    ASSERT_GE(a.size(), 4u);
    EXPECT_EQ((Words{a[1], a[2], a[3]}), (Words{"-maxdepth", "2", "-xdev"}));
    const size_t prune = pos(a, "-prune");
    const Words rest(a.begin() + static_cast<long>(prune), a.end());
    EXPECT_EQ(rest, (Words{"-prune", "-o", "(", "-name", "a", "-true", "-true", ")", "-print"}));
}

TEST_F(TreePrune, FindAddsNoPrintWhenTheRequestPrints) {
    const Words a = args("find " + q(d_) + " -print0");
    EXPECT_EQ(a.back(), ")");
    EXPECT_EQ(a[a.size() - 2], "-print0");
    const Words bare = args("find " + q(d_));
    EXPECT_EQ(Words(bare.end() - 3, bare.end()), (Words{"-prune", "-o", "-print"}));
}

TEST_F(TreePrune, FindMindepthAboveADeniedPathIsRefused) {
    auto d = decide("find " + q(d_) + " -mindepth 2 -name x");
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().reason, "path-tree-denied");
    EXPECT_NE(d.error().msg.find("use -mindepth 1 or less"), std::string::npos) << d.error().msg;
    EXPECT_TRUE(decide("find " + q(d_) + " -mindepth 1 -name x").ok());
    // Below the denied paths' depth there is nothing to enter.
    EXPECT_TRUE(decide("find " + q(d_ + "/ok") + " -mindepth 3").ok());
}

TEST_F(TreePrune, FindOptionValuePathsKeepTheirPlace) {
    auto d = decide("find " + q(d_) + " -newer " + q(d_ + "/ok/a.txt") + " -name x");
    ASSERT_TRUE(d.ok()) << d.error().describe();
    const auto& s = d->stages[0];
    for (size_t i = 0; i < s.match.paths.size(); ++i) {
        EXPECT_EQ(s.match.exec_args.at(s.match.paths[i].index), s.resolved[i].given) << i;
    }
}

TEST_F(TreePrune, GrepSearchesTheAllowedPartsOfTheTree) {
    const Words a = args("grep -r x " + q(d_));
    EXPECT_EQ(a.front(), "-H");
    const size_t dd = pos(a, "--");
    ASSERT_LT(dd + 1, a.size());
    EXPECT_EQ(a[dd + 1], "x");
    const Words parts(a.begin() + static_cast<long>(dd) + 2, a.end());
    EXPECT_EQ(parts, (Words{d_ + "/nested/other", d_ + "/nested/plain", d_ + "/ok"}));
    // The symlink into the denied directory is no part: grep -r passes over it while recursing,
    // and would follow it as an operand.
}

TEST_F(TreePrune, GrepFiltersApplyAsWhileRecursing) {
    const Words a = args("grep -r --exclude-dir=nested x " + q(d_));
    EXPECT_EQ(Words(a.end() - 1, a.end()), (Words{d_ + "/ok"}));
    EXPECT_TRUE(decide("grep -r --include=*.txt x " + q(d_)).ok());
    for (const std::string bad : {"a*", "*.t?t", "ok/deep", "[ab]", "x\\\\y"}) {
        auto d = decide("grep -r --include=" + q(bad) + " x " + q(d_));
        ASSERT_FALSE(d.ok()) << bad;
        EXPECT_EQ(d.error().reason, "path-tree-denied") << bad;
    }
    auto self = decide("grep -r --exclude-dir=nested x " + q(d_ + "/nested"));
    ASSERT_FALSE(self.ok());
    EXPECT_NE(self.error().msg.find("excluded by --exclude-dir itself"), std::string::npos) << self.error().msg;
}

TEST_F(TreePrune, GrepPartsAnotherAccountCouldSwapAreRefused) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root (to give a directory on the way to another account)";
    }
    ASSERT_EQ(::chown((d_ + "/nested").c_str(), 65534, 65534), 0);
    auto d = decide("grep -r x " + q(d_));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().reason, "path-replaceable");
    EXPECT_NE(d.error().msg.find("symlink that grep would follow"), std::string::npos) << d.error().msg;
    // find and du follow no operand below the top: they still run.
    EXPECT_TRUE(decide("find " + q(d_)).ok());
    EXPECT_TRUE(decide("du -s " + q(d_)).ok());
}

TEST_F(TreePrune, DuExcludesEachDeniedPathEscaped) {
    const Words a = args("du -s " + q(d_));
    const std::string esc = util::glob_escape(d_);
    for (const std::string denied : {"/keys", "/nested/sec", "/secretfile", "/glob-x"}) {
        EXPECT_LT(pos(a, "--exclude=" + esc + denied), a.size()) << denied;
    }
    EXPECT_EQ(a.back(), d_);
}

TEST_F(TreePrune, DuAlsoExcludesThePatternsForWhatAppearsWhileItRuns) {
    const Words a = args("du -s " + q(d_));
    EXPECT_LT(pos(a, "--exclude=" + util::glob_escape(d_) + "/glob-*"), a.size());
    EXPECT_LT(pos(a, "--exclude=" + util::glob_escape(d_) + "/nested/se*"), a.size());
}

TEST_F(TreePrune, XdevKeepsThePatternsOfAStartPointsOwnFileSystem) {
    // A tree on its own mount, with a deny glob written from above it: find -xdev stays on that
    // file system, where the glob can still match, so the glob must stay.
    ASSERT_EQ(::mount("tmpfs", (d_ + "/ok").c_str(), "tmpfs", 0, nullptr), 0) << std::strerror(errno);
    std::filesystem::create_directories(d_ + "/ok/data");
    text_ = std::regex_replace(
        text_, std::regex(R"(\[deny\]\npaths = \[)"),
        "[deny]\npaths = ['" + std::filesystem::path(d_).parent_path().string() + "/f*/ok/data/sec-*', ");
    const Words a = args("find " + q(d_ + "/ok") + " -xdev -name x");
    ::umount2((d_ + "/ok").c_str(), MNT_DETACH);
    const size_t prune = pos(a, "-prune");
    ASSERT_LT(prune, a.size());
    EXPECT_NE(std::find_if(a.begin(), a.begin() + static_cast<long>(prune),
                           [](const std::string& w) { return w.find("/ok/data/sec-*") != std::string::npos; }),
              a.begin() + static_cast<long>(prune));
}

TEST_F(TreePrune, ATreeWithoutDeniedPathsIsLeftAlone) {
    EXPECT_EQ(args("find " + q(d_ + "/ok") + " -name x"), (Words{d_ + "/ok", "-name", "x"}));
    EXPECT_EQ(args("du -s " + q(d_ + "/ok")), (Words{"-s", "--", d_ + "/ok"}));
}

TEST_F(TreePrune, ACommandThatCannotPruneIsRefusedNamingThoseThatCan) {
    auto d = decide("ls -R " + q(d_));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().reason, "path-tree-denied");
    EXPECT_NE(d.error().msg.find("; ls cannot skip denied paths, these can: du, find, grep"), std::string::npos)
        << d.error().msg;
    // The tree itself denied, or inside a denied path: refused whatever the command.
    auto in = decide("find " + q(d_ + "/keys"));
    ASSERT_FALSE(in.ok());
    EXPECT_EQ(in.error().reason, "path-denied");
    auto via = decide("find " + q(d_ + "/link"));
    ASSERT_FALSE(via.ok());
    EXPECT_EQ(via.error().reason, "path-denied");
}

TEST_F(TreePrune, SimplePatternsAreTheOnesGrepAppliesAlike) {
    for (const std::string p : {"a.txt", "*.conf", "*", ".git", "node_modules"}) {
        EXPECT_TRUE(simple_pattern(p)) << p;
    }
    for (const std::string p : {"", "a*", "*a*", "a?", "[ab]", "x/y", "*/y", "a\\b"}) {
        EXPECT_FALSE(simple_pattern(p)) << p;
    }
    DirFilter f{{"*.d", "ok"}};
    EXPECT_TRUE(excludes(f, "conf.d"));
    EXPECT_TRUE(excludes(f, "ok"));
    EXPECT_FALSE(excludes(f, "okay"));
}

}  // namespace
}  // namespace diag::tree_prune
