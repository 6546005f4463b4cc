// SPDX-License-Identifier: Apache-2.0
// Trees with denied paths below them, run for real through the shipped policy (adr/0016): find,
// grep -r and du walk a tree holding a denied directory, a denied file, glob-denied entries (one
// whose name is not UTF-8, one a '?' pattern matches by bytes but not by characters), a bind
// mount of a denied directory and a symlink into one; the names inside the denied places are
// canaries that must never be printed, on stdout or stderr.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/default_policy.h"

namespace diag::testing {
namespace {

class TreesWithDeniedPaths : public DefaultPolicy {
  protected:
    void SetUp() override {
        DefaultPolicy::SetUp();
        if (IsSkipped()) {
            return;
        }
        f_ = dir_ + "/forest";
        for (const std::string& d : std::vector<std::string>{"", "/denied-dir", "/denied-dir/inner-" + name_, "/glob-x",
                                                             "/glob-\xff", "/q\xc3\xa9", "/ok/deep", "/mnt"}) {
            std::filesystem::create_directories(f_ + d);
        }
        write(f_ + "/denied-dir/" + name_ + "-a", "PORT=1 " + canary_ + "\n", 0644);
        write(f_ + "/denied-dir/inner-" + name_ + "/" + name_ + "-b", "PORT=2\n", 0644);
        write(f_ + "/denied-file", "PORT=3 " + canary_ + "\n", 0644);
        write(f_ + "/glob-x/" + name_ + "-c", "PORT=4\n", 0644);
        write(f_ + "/glob-\xff/" + name_ + "-d", "PORT=5\n", 0644);
        write(f_ + "/q\xc3\xa9/" + name_ + "-e", "PORT=6\n", 0644);
        write(f_ + "/ok/a.txt", "PORT=8080 allowed\n", 0644);
        write(f_ + "/ok/deep/b.txt", "PORT=9090 deeper\n", 0644);
        std::filesystem::create_symlink("denied-dir", f_ + "/link-in");
        mounted_ = bind_mount(f_ + "/denied-dir", f_ + "/mnt");
        // The forest's entries join the deny list: '?' twice matches the two bytes of "é" where
        // the wrapper matches (by bytes); the found path prunes it however the child's locale
        // counts it.
        std::ifstream in(policy_);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = std::regex_replace(ss.str(), std::regex(R"(\npaths = \[)"),
                                                    "\npaths = [\n    \"" + f_ + "/denied-dir\", \"" + f_ +
                                                        "/denied-file\", \"" + f_ + "/glob-*\", \"" + f_ + "/q??\",");
        policy_ = write_policy(text, "forest.toml");
    }

    // Runs `request`: not refused, and neither a canary name nor the canary token printed.
    RunResult clean(const std::string& request) {
        auto r = run_soc(policy_, request);
        EXPECT_NE(r.exit_code, 126) << request << "\n" << r.err;
        EXPECT_NE(r.exit_code, 125) << request << "\n" << r.err;
        for (const std::string& secret : std::vector<std::string>{name_, canary_}) {
            EXPECT_EQ(r.out.find(secret), std::string::npos) << request << "\n" << r.out;
            EXPECT_EQ(r.err.find(secret), std::string::npos) << request << "\n" << r.err;
        }
        return r;
    }

    std::string f_;
    std::string name_ = "NAMECANARY" + std::to_string(::getpid());
    bool mounted_ = false;
};

TEST_F(TreesWithDeniedPaths, FindRunsAndPrintsNoNameInsideADeniedPlace) {
    auto big = clean("find " + f_ + " -size +1M");
    EXPECT_EQ(big.exit_code, 0) << big.err;
    auto all = clean("find " + f_);
    EXPECT_NE(all.out.find(f_ + "/ok/deep/b.txt"), std::string::npos) << all.out;
    EXPECT_NE(all.out.find(f_ + "/link-in"), std::string::npos) << all.out;  // the symlink itself
    EXPECT_EQ(all.out.find(f_ + "/mnt"), std::string::npos) << all.out;      // a denied alias
    auto o = clean("find " + f_ + " -name a.txt -o -name b.txt");
    EXPECT_NE(o.out.find(f_ + "/ok/a.txt\n"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find(f_ + "/ok/deep/b.txt\n"), std::string::npos) << o.out;
    auto printf = clean("find " + f_ + " -not -name nothing -printf '%p %y\\n'");
    EXPECT_NE(printf.out.find(f_ + "/ok/a.txt f\n"), std::string::npos) << printf.out;
    // -quit and -prune of the request keep their meaning inside the composed expression.
    auto quit = clean("find " + f_ + " -name a.txt -print -quit");
    EXPECT_EQ(quit.out, f_ + "/ok/a.txt\n");
    auto own_prune = clean("find " + f_ + " -name ok -prune -o -name '*.txt' -print");
    EXPECT_EQ(own_prune.out, "");
}

TEST_F(TreesWithDeniedPaths, GrepSearchesTheAllowedPartsOnly) {
    auto r = clean("grep -rn PORT " + f_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(f_ + "/ok/a.txt:1:PORT=8080 allowed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(f_ + "/ok/deep/b.txt:1:PORT=9090"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("PORT=1"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("diag-wrapper: note: skipped"), std::string::npos) << r.err;
    auto c = clean("grep -rc --include='*.txt' PORT " + f_);
    EXPECT_NE(c.out.find(f_ + "/ok/a.txt:1"), std::string::npos) << c.out;
    auto h = clean("grep -rh PORT " + f_);
    EXPECT_EQ(h.out.find(f_), std::string::npos) << h.out;  // the request's -h wins over the added -H
}

TEST_F(TreesWithDeniedPaths, DuSizesTheTreeWithoutTheDeniedPaths) {
    auto s = clean("du -s " + f_);
    EXPECT_EQ(s.exit_code, 0) << s.err;
    auto a = clean("du -a " + f_);
    EXPECT_NE(a.out.find(f_ + "/ok/a.txt"), std::string::npos) << a.out;
    EXPECT_EQ(a.out.find(f_ + "/mnt\n"), std::string::npos) << a.out;
}

TEST_F(TreesWithDeniedPaths, TheRecordListsTheSkippedPaths) {
    clean("du -s " + f_);
    nlohmann::json skipped;
    for (const auto& rec : audit_records()) {
        if (rec["diag"].contains("skipped")) {
            skipped = rec["diag"]["skipped"]["paths"];
        }
    }
    ASSERT_TRUE(skipped.is_array());
    std::vector<std::string> paths;
    for (const auto& p : skipped) {
        paths.push_back(p.get<std::string>());
    }
    for (const std::string& want : std::vector<std::string>{f_ + "/denied-dir", f_ + "/denied-file", f_ + "/glob-x"}) {
        EXPECT_NE(std::find(paths.begin(), paths.end(), want), paths.end()) << want;
    }
    if (mounted_) {
        EXPECT_NE(std::find(paths.begin(), paths.end(), f_ + "/mnt"), paths.end());
    }
}

TEST_F(TreesWithDeniedPaths, LsRecursiveIsRefusedNamingWhatWorks) {
    auto r = run_soc(policy_, "ls -R " + f_);
    EXPECT_EQ(r.exit_code, 126);
    EXPECT_NE(r.err.find("path-tree-denied"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("these can: du, find, grep"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(name_), std::string::npos) << r.err;
}

}  // namespace
}  // namespace diag::testing
