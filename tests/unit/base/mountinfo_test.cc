// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/mountinfo.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <string>
#include <vector>

namespace diag::mountinfo {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// A root file system (8:1) whose /persist/home is bound on /home and whose /srv/data is bound
// twice, once on /mnt/data and once over /var/lib/data; a tmpfs (0:30) on /tmp.
std::vector<Mount> table() {
    return {
        {"8:1", "/", "/", "1", "0"},
        {"8:1", "/persist/home", "/home", "2", "1"},
        {"8:1", "/srv/data", "/mnt/data", "3", "1"},
        {"8:1", "/srv/data", "/var/lib/data", "4", "1"},
        {"0:30", "/", "/tmp", "5", "1"},
    };
}

TEST(Mountinfo, ReadsTheWholeTableWithARootMount) {
    auto mounts = read_mounts();
    ASSERT_TRUE(mounts.ok()) << mounts.error().msg;
    EXPECT_TRUE(std::any_of(mounts->begin(), mounts->end(), [](const Mount& m) { return m.point == "/"; }));
}

TEST(Mountinfo, MountDeviceParsesMajorMinorOrGivesZero) {
    EXPECT_EQ(mount_device({"8:1", "/", "/", "1", "0"}), makedev(8, 1));
    EXPECT_EQ(mount_device({"259:12", "/", "/", "1", "0"}), makedev(259, 12));
    EXPECT_EQ(mount_device({"8", "/", "/", "1", "0"}), dev_t{0});
    EXPECT_EQ(mount_device({"x:1", "/", "/", "1", "0"}), dev_t{0});
}

TEST(Mountinfo, RebaseKeepsTheRelativeLocation) {
    EXPECT_EQ(rebase("/persist/home/alice", "/persist/home", "/home"), "/home/alice");
    EXPECT_EQ(rebase("/home/alice", "/", "/mnt"), "/mnt/home/alice");
    EXPECT_EQ(rebase("/mnt/x", "/mnt", "/"), "/x");
    EXPECT_EQ(rebase("/mnt", "/mnt", "/"), "/");
}

TEST(Mountinfo, MountAliasesFollowBindMountsBothWays) {
    const auto mounts = table();
    // Seen through /home, the same object is /persist/home/alice/.ssh on the root mount.
    const auto home = mount_aliases("/home/alice/.ssh", mounts);
    EXPECT_TRUE(has(home, "/persist/home/alice/.ssh"));
    // A denied directory that holds a bind mount's source: the whole mount lies inside it.
    const auto srv = mount_aliases("/srv", mounts);
    EXPECT_TRUE(has(srv, "/mnt/data"));
    EXPECT_TRUE(has(srv, "/var/lib/data"));
    // Another file system shows nothing of it.
    EXPECT_FALSE(has(mount_aliases("/tmp/x", mounts), "/x"));
}

TEST(Mountinfo, PatternAliasesCarryTheGlobsOver) {
    const auto mounts = table();
    const auto home = pattern_aliases("/home/*/.ssh", mounts);
    EXPECT_TRUE(has(home, "/persist/home/*/.ssh"));
    const auto data = pattern_aliases("/srv/data/secret*", mounts);
    EXPECT_TRUE(has(data, "/mnt/data/secret*"));
    EXPECT_TRUE(has(data, "/var/lib/data/secret*"));
}

}  // namespace
}  // namespace diag::mountinfo
