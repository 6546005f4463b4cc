// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/deny_list.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "tests/unit/request/resolve_fixture.h"
#include "wrapper/policy/deny_match.h"

namespace diag::deny_list {
namespace {

namespace fs = std::filesystem;
using path_resolve::PathResolve;
using path_resolve::resolve;
using path_resolve::resolve_and_check;
using path_resolve::Use;

// What build_deny makes of the entries, seen through resolve() on the symlink farm.

// Review finding: an entry whose expansion found a name that is itself "*" put the literal key
// ".../*/key" in the exact index, and a later glob with the same text was dropped as a duplicate:
// the tree below it was no longer denied.
TEST_F(PathResolve, ALiteralNamedLikeAGlobDoesNotReplaceTheGlob) {
    fs::create_directories(d_ + "/r/a/*");
    fs::create_directories(d_ + "/r/a/e");
    put(d_ + "/r/a/*/key", "C1");
    const auto deny = build({d_ + "/r/a/[*]/key", d_ + "/r/a/*/key"});
    auto r = resolve(deny, d_ + "/r/a/e", Use::kTree, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-tree-denied");
    EXPECT_NE(deny_below(deny, d_ + "/r/a/e", false), nullptr);
}

TEST_F(PathResolve, HardLinkToADeniedFileIsDenied) {
    const std::string alias = d_ + "/pub/hardlink";
    ASSERT_EQ(::link((d_ + "/secret/canary").c_str(), alias.c_str()), 0);
    deny_ = build({d_ + "/secret", d_ + "/keys/host_*_key"});  // inodes are pinned at load
    auto r = res(alias);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-denied") << r.error().msg;
}

TEST_F(PathResolve, DenyingASymlinkProtectsItsTarget) {
    fs::create_directories(d_ + "/persist/etc/ssh");
    put(d_ + "/persist/etc/ssh/ssh_host_rsa_key", "RSA");
    fs::create_directories(d_ + "/etc/ssh");
    fs::create_symlink(d_ + "/persist/etc/ssh/ssh_host_rsa_key", d_ + "/etc/ssh/ssh_host_rsa_key");
    deny_ = build({d_ + "/etc/ssh/ssh_host_*_key"});
    auto r = res(d_ + "/persist/etc/ssh/ssh_host_rsa_key");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-denied");
}

TEST_F(PathResolve, BindMountOfADeniedDirectoryIsDenied) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "bind mounts need root";
    }
    fs::create_directories(d_ + "/pub/mnt");
    if (::mount((d_ + "/secret").c_str(), (d_ + "/pub/mnt").c_str(), nullptr, MS_BIND, nullptr) != 0) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    deny_ = build({d_ + "/secret"});
    auto via_alias = res(d_ + "/pub/mnt/canary");
    auto tree = res(d_ + "/pub", Use::kTree);
    ::umount2((d_ + "/pub/mnt").c_str(), MNT_DETACH);
    ASSERT_FALSE(via_alias.ok());
    EXPECT_EQ(via_alias.error().reason, "path-denied");
    ASSERT_FALSE(tree.ok());
    EXPECT_EQ(tree.error().reason, "path-tree-denied");

    fs::create_directories(d_ + "/pub/late");
    policy::Deny early = build({d_ + "/secret"});
    ASSERT_EQ(::mount((d_ + "/secret").c_str(), (d_ + "/pub/late").c_str(), nullptr, MS_BIND, nullptr), 0);
    auto late = resolve_and_check(early, d_ + "/pub/late/canary", Use::kContent);
    ::umount2((d_ + "/pub/late").c_str(), MNT_DETACH);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().reason, "path-denied") << late.error().msg;
}

// Found in review of the glob expansion: glob(3) never lets '*' match a dot name in a directory
// component (not even with GLOB_PERIOD), while the deny check does. A deny entry like
// /home/*/.ssh then missed /home/.hidden/.ssh when looking for its bind mounts and inodes: a bind
// mount of it elsewhere was readable.
TEST_F(PathResolve, GlobExpansionSeesDotDirectoriesAsTheDenyCheckDoes) {
    fs::create_directories(d_ + "/home/.hidden/.ssh");
    fs::create_directories(d_ + "/home/alice/.ssh");
    put(d_ + "/home/.hidden/.ssh/key", "HIDDEN");
    put(d_ + "/home/alice/.ssh/key", "ALICE");
    deny_ = build({d_ + "/home/*/.ssh"});
    struct stat hidden {};
    ASSERT_EQ(::stat((d_ + "/home/.hidden/.ssh").c_str(), &hidden), 0);
    EXPECT_EQ(deny_.objects.count({hidden.st_dev, hidden.st_ino}), 1u) << "the dot directory's match was not expanded";
    if (::geteuid() != 0) {
        GTEST_SKIP() << "the bind-mount half needs root";
    }
    fs::create_directories(d_ + "/pub/mnt");
    if (::mount((d_ + "/home/.hidden/.ssh").c_str(), (d_ + "/pub/mnt").c_str(), nullptr, MS_BIND, nullptr) != 0) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    deny_ = build({d_ + "/home/*/.ssh"});
    auto via_alias = res(d_ + "/pub/mnt/key");
    auto tree = res(d_ + "/pub", Use::kTree);
    ::umount2((d_ + "/pub/mnt").c_str(), MNT_DETACH);
    ASSERT_FALSE(via_alias.ok()) << "the bind mount of /home/.hidden/.ssh was readable";
    EXPECT_EQ(via_alias.error().reason, "path-denied");
    ASSERT_FALSE(tree.ok());
    EXPECT_EQ(tree.error().reason, "path-tree-denied");
}

// build_deny marks the built-in raw-I/O devices only where the path is that driver's node (or
// absent); the same path written in a policy is an ordinary entry.
TEST(DenyList, OnlyBuiltInRawIoDeviceNodesAreKernelGuarded) {
    struct stat st {};
    const bool absent = ::stat("/dev/port", &st) != 0 && errno == ENOENT;
    const bool node = !absent && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 4;
    auto built = build_deny({});
    ASSERT_TRUE(built.ok()) << built.error().msg;
    const auto* port = match_deny(*built, "/dev/port");
    ASSERT_NE(port, nullptr);
    EXPECT_EQ(port->kernel_guarded, absent || node);
    auto written = build_deny({{"/dev/port", "policy.toml:4"}});
    ASSERT_TRUE(written.ok()) << written.error().msg;
    EXPECT_FALSE(match_deny(*written, "/dev/port")->kernel_guarded);
    const auto* proc = match_deny(*built, "/proc/kcore");
    ASSERT_NE(proc, nullptr);
    EXPECT_FALSE(proc->kernel_guarded) << "only the /dev raw-I/O nodes";
}

TEST(DenyList, SyntaxIsCheckedWithoutTheFileSystem) {
    struct Case {
        std::string path;
        const char* error;  // nullptr: accepted
    } cases[] = {
        {"/var/lib/n8n", nullptr},
        {"/persist/var/lib/mautrix-*", nullptr},
        {"/does/not/exist/here", nullptr},
        {"relative/path", "p.toml:3: deny entry 'relative/path' is not absolute"},
        {"/srv/../etc/shadow", "p.toml:3: deny entry '/srv/../etc/shadow' contains '.' or '..'"},
        {"/srv/./x", "contains '.' or '..'"},
        {"/srv/x/..", "contains '.' or '..'"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.path);
        auto st = check_deny_syntax({{c.path, "p.toml:3"}});
        if (c.error == nullptr) {
            EXPECT_TRUE(st.ok()) << st.error().msg;
        } else {
            ASSERT_FALSE(st.ok());
            EXPECT_EQ(st.error().code, ErrorCode::kPolicyInvalid);
            EXPECT_NE(st.error().msg.find(c.error), std::string::npos) << st.error().msg;
        }
    }
    std::vector<policy::DenyWritten> many(policy::kMaxDenyEntries, {"/x", "p.toml:1"});
    EXPECT_FALSE(check_deny_syntax(many).ok());
}

}  // namespace
}  // namespace diag::deny_list
