// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/link_check.h"

#include <gtest/gtest.h>
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

}  // namespace
}  // namespace diag::path_resolve
