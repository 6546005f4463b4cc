// SPDX-License-Identifier: Apache-2.0
// Opening a file to check and grant: the real path reported is that of the object opened, whether
// the path was walked without a symlink (openat2) or through one (/proc/self/fd).
#include "wrapper/confine/real_open.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace diag::real_open {
namespace {

TEST(RealOpen, NormalizedPathsHaveNoEmptyDotOrDotDotComponent) {
    const struct {
        const char* path;
        bool normal;
    } cases[] = {
        {"/", true},           {"/etc/ld.so.cache", true}, {"/usr/lib/x", true}, {"", false},
        {"etc/passwd", false}, {"/etc/", false},           {"//etc", false},     {"/etc//x", false},
        {"/etc/./x", false},   {"/etc/../x", false},       {"/..", false},       {"/x/.", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(normalized(c.path), c.normal) << c.path;
    }
}

class RealOpenDir : public ::testing::Test {
  protected:
    void SetUp() override {
        char dir[] = "/tmp/diag-real-open.XXXXXX";
        ASSERT_NE(::mkdtemp(dir), nullptr);
        dir_ = dir;
        ASSERT_EQ(::mkdir((dir_ + "/d").c_str(), 0755), 0);
        std::ofstream(dir_ + "/d/f") << "x";
        ASSERT_EQ(::symlink("d", (dir_ + "/link").c_str()), 0);
        ASSERT_EQ(::symlink("f", (dir_ + "/d/flink").c_str()), 0);
    }
    void TearDown() override {
        ::unlink((dir_ + "/d/flink").c_str());
        ::unlink((dir_ + "/d/f").c_str());
        ::unlink((dir_ + "/link").c_str());
        ::rmdir((dir_ + "/d").c_str());
        ::rmdir(dir_.c_str());
    }
    std::string dir_;
};

TEST_F(RealOpenDir, APathWithoutSymlinksIsItsOwnRealPath) {
    auto o = open(dir_ + "/d/f", O_RDONLY);
    ASSERT_TRUE(o.ok()) << o.error().msg;
    ASSERT_TRUE(o->fd.valid());
    EXPECT_EQ(o->real, dir_ + "/d/f");
}

// A symlink anywhere on the way, as a directory or as the file: the real path is the object's,
// never the name as given.
TEST_F(RealOpenDir, ASymlinkOnTheWayIsResolvedToTheObjectOpened) {
    for (const std::string via : {"/link/f", "/d/flink", "/link/flink", "/d/../d/f"}) {
        auto o = open(dir_ + via, O_PATH);
        ASSERT_TRUE(o.ok()) << o.error().msg;
        ASSERT_TRUE(o->fd.valid()) << via;
        EXPECT_EQ(o->real, dir_ + "/d/f") << via;
    }
}

TEST_F(RealOpenDir, AMissingFileIsAnErrnoNotAnError) {
    for (const std::string via : {"/d/none", "/link/none", "/none/f"}) {
        auto o = open(dir_ + via, O_RDONLY);
        ASSERT_TRUE(o.ok()) << o.error().msg;
        EXPECT_FALSE(o->fd.valid());
        EXPECT_EQ(o->err, ENOENT) << via;
    }
    auto o = open(dir_ + "/d/f/x", O_RDONLY);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->err, ENOTDIR);
}

}  // namespace
}  // namespace diag::real_open
