// SPDX-License-Identifier: Apache-2.0
// decide(): a path argument's `pattern`, matched against the path as resolved (what the program
// is handed), so no spelling or symlink of the argument slips past it. The shipped use: nix
// why-depends builds a derivation named as its first operand (Nix before 2.13), so its operands
// may not be `.drv` files (tests/unit/policy/network_rules_test.cc checks the shipped pattern).
#include "wrapper/request/decide.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/policy/policy_text.h"

namespace diag::decide {
namespace {

class PathPattern : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            // Operands in a directory another account (this one) could swap reach the program as
            // /proc/self/fd/N; the fixture needs a directory only root can change.
            GTEST_SKIP() << "needs root: the fixture's directory must be one only root can change";
        }
        char tmpl[] = "/tmp/diagpattern.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = std::filesystem::canonical(tmpl).string();
        std::ofstream(d_ + "/abc-hello") << "x\n";
        std::ofstream(d_ + "/abc-hello.drv") << "x\n";
        std::filesystem::create_symlink("abc-hello.drv", d_ + "/link");
        text_ = std::string(policy_loader::test::kHead) + "[command.why]\nmatch = [\"why\"]\ndescription = \"d\"\n" +
                "positional = [{ type = \"meta-path\", roots = [\"" + d_ + "\"], pattern = '" + d_ +
                "/[^/]*([^/v]|[^/r]v|[^/d]rv|[^/.]drv)', min = 1, max = 2 }]\n";
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(d_, ec);
    }

    Result<decision::Decision> decide(const std::string& request) {
        auto p = policy_loader::test::load_text(text_);
        if (!p.ok()) {
            return std::move(p).error();
        }
        policy_ = std::move(*p);
        return decide::decide(policy_, request, [](const policy::Command&) { return true; });
    }

    std::string d_;
    std::string text_;
    policy::Policy policy_;
};

TEST_F(PathPattern, IsMatchedAgainstTheResolvedPath) {
    auto ok = decide("why " + d_ + "/abc-hello");
    ASSERT_TRUE(ok.ok()) << ok.error().describe();
    EXPECT_EQ(ok->stages.at(0).match.exec_args.back(), d_ + "/abc-hello");
    for (const std::string& refused :
         std::vector<std::string>{d_ + "/abc-hello.drv", d_ + "/link", d_ + "/./abc-hello.drv",
                                  d_ + "/abc-hello " + d_ + "/abc-hello.drv"}) {
        SCOPED_TRACE(refused);
        auto d = decide("why " + refused);
        ASSERT_FALSE(d.ok()) << "allowed: " << refused;
        EXPECT_EQ(d.error().reason, "bad-value") << d.error().describe();
    }
}

TEST_F(PathPattern, HoldsForEveryMatchOfAGlob) {
    auto d = decide("why " + d_ + "/abc-hello*");
    ASSERT_FALSE(d.ok()) << "a glob's .drv match was handed over";
    EXPECT_EQ(d.error().reason, "bad-value") << d.error().describe();
}

TEST(PathPatternKey, IsAValidRegexAndOnlyForValuesItCanHold) {
    using policy_loader::test::kHead;
    const std::string rule = "[command.c]\nmatch = [\"c\"]\ndescription = \"d\"\n";
    policy_loader::test::expect_rejected({
        {std::string(kHead) + rule + "positional = [{ type = \"meta-path\", pattern = \"(\" }]\n", "bad regex", 0, 0},
        {std::string(kHead) + rule + "positional = [{ type = \"int\", pattern = \"1\" }]\n", "not valid for type", 0,
         0},
    });
    EXPECT_TRUE(policy_loader::test::load_text(std::string(kHead) + rule +
                                               "positional = [{ type = \"path\", pattern = \"/etc/.*\" }]\n")
                    .ok());
}

}  // namespace
}  // namespace diag::decide
