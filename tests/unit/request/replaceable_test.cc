// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/replaceable.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers/privilege.h"

namespace diag::path_resolve {
namespace {

namespace fs = std::filesystem;

class Replaceable : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diagswap.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = fs::canonical(tmpl).string();
        fs::create_directories(d_ + "/root/sub");
        fs::create_directories(d_ + "/ww/sub");
        std::ofstream(d_ + "/root/sub/f") << "x";
        ::chmod((d_ + "/ww").c_str(), 0777);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(d_, ec);
    }
    std::string d_;
};

TEST_F(Replaceable, NamesTheFirstComponentAnotherUserCouldSwap) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(d_, 0u);  // "nullopt" below means: only root could swap it
    auto stable = replaceable_component(d_ + "/root/sub/f");
    ASSERT_TRUE(stable.ok());
    EXPECT_FALSE(stable->has_value()) << **stable;
    auto ww = replaceable_component(d_ + "/ww/sub");
    ASSERT_TRUE(ww.ok());
    ASSERT_TRUE(ww->has_value());
    EXPECT_EQ(**ww, d_ + "/ww/sub is in a directory others can write");
    auto gone = replaceable_component(d_ + "/root/missing/f");
    ASSERT_TRUE(gone.ok());
    ASSERT_TRUE(gone->has_value());
    EXPECT_EQ(**gone, d_ + "/root/missing changed while it was checked");
}

TEST_F(Replaceable, AnotherOwnersDirectoryIsReplaceable) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(d_, 0u);
    DIAG_SKIP_UNLESS_CHOWN(d_ + "/root");
    ASSERT_EQ(::chown((d_ + "/root").c_str(), 4242, 4242), 0);
    auto r = replaceable_component(d_ + "/root/sub/f");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ(**r, d_ + "/root/sub is in a directory owned by uid 4242, who can rename it");
}

TEST(ReplaceableProc, KernelNamesAreNotReplaceable) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN("/proc", 0u);
    auto r = replaceable_component("/proc/self/status");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << **r;
}

}  // namespace
}  // namespace diag::path_resolve
