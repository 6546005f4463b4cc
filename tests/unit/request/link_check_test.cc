// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/link_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/unit/request/resolve_fixture.h"

namespace diag::path_resolve {
namespace {

TEST_F(PathResolve, HardLinkCreatedAfterLoadIsFoundByTheScan) {
    const std::string alias = d_ + "/pub/late-hardlink";
    ASSERT_EQ(::link((d_ + "/secret/sub/deep").c_str(), alias.c_str()), 0);  // deep: not pinned itself
    auto r = res(alias);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-denied");
    EXPECT_NE(r.error().msg.find("hard link"), std::string::npos) << r.error().msg;
}

// A denied directory recorded under a name that no longer shows it (the build raced another
// account: its glob match `~/.config/gh` read through a symlink into someone else's .config,
// canonicalized while `~/.config` was a directory again) is not seen by the scan of that name:
// its device is left unverified, so a hard link of a file in it is refused, not read.
TEST_F(PathResolve, ADeniedObjectWhoseNameShowsSomethingElseIsNotVouchedFor) {
    struct stat st {};
    ASSERT_EQ(::stat((d_ + "/secret").c_str(), &st), 0);
    auto it = deny_.objects.find({st.st_dev, st.st_ino});
    ASSERT_NE(it, deny_.objects.end());
    it->second = d_ + "/pub/sub";  // another account's directory, at the request
    const std::string alias = d_ + "/pub/late-hardlink";
    ASSERT_EQ(::link((d_ + "/secret/sub/deep").c_str(), alias.c_str()), 0);
    auto r = res(alias);
    ASSERT_FALSE(r.ok()) << "a hard link of a file in the denied directory was read";
    EXPECT_EQ(r.error().reason, "path-denied");
    EXPECT_NE(r.error().msg.find("hard link"), std::string::npos) << r.error().msg;
}

}  // namespace
}  // namespace diag::path_resolve
