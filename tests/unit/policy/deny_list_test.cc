// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/deny_list.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/request/resolve_fixture.h"
#include "wrapper/base/mountinfo.h"
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

// What build_deny makes of a small host, every field of it: matches of globs, symlinks another
// account owns (as root) or this one owns, dangling and looping symlinks, absent entries, a file
// where a directory is expected, and directories this user cannot list (unprivileged: root reads
// them). One build asks the file system each question once (deny_glob.h FsMemo); these are the
// contents the build had when it asked again for every entry and every match.
class DenyBuild : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diagdenybuild.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = fs::canonical(tmpl).string();
        ASSERT_EQ(::chmod(d_.c_str(), 0755), 0);
        for (const char* dir : {"/etc/ssh", "/home/alice/.ssh", "/home/eve", "/home/bob/dot", "/home/dan",
                                "/home/carol", "/srv", "/links", "/locked/inner", "/hidden"}) {
            fs::create_directories(d_ + dir);
        }
        for (const char* file :
             {"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/ssh/host_rsa_key", "/etc/ssh/host_ed_key",
              "/etc/ssh/host_rsa_key.pub", "/srv/data", "/locked/inner/key", "/hidden/k"}) {
            std::ofstream(d_ + file) << "secret";
        }
        fs::create_symlink(d_ + "/srv", d_ + "/home/eve/.ssh");           // another account's, to root's
        fs::create_symlink(d_ + "/home/bob/dot", d_ + "/home/bob/.ssh");  // to its own directory
        fs::create_symlink(d_ + "/gone", d_ + "/home/dan/.ssh");          // dangling
        fs::create_symlink("loop", d_ + "/links/loop");
        fs::create_symlink("hop", d_ + "/links/chain");
        fs::create_symlink("../etc/gshadow", d_ + "/links/hop");
        if (::geteuid() == 0) {
            ASSERT_EQ(::lchown((d_ + "/home/eve/.ssh").c_str(), 4242, 4242), 0);
            for (const char* p : {"/home/bob", "/home/bob/dot", "/home/bob/.ssh"}) {
                ASSERT_EQ(::lchown((d_ + p).c_str(), 4243, 4243), 0);
            }
            ASSERT_EQ(::lchown((d_ + "/home/dan/.ssh").c_str(), 4244, 4244), 0);
        }
        for (const char* dir : {"/locked", "/home/carol"}) {
            ASSERT_EQ(::chmod((d_ + dir).c_str(), 0), 0);  // neither listed nor searched
        }
        ASSERT_EQ(::chmod((d_ + "/hidden").c_str(), 0311), 0);  // searched, not listed
    }
    void TearDown() override {
        for (const char* dir : {"/locked", "/home/carol", "/hidden"}) {
            ::chmod((d_ + dir).c_str(), 0755);
        }
        std::error_code ec;
        fs::remove_all(d_, ec);
    }
    // The fixture's part of each field, with d_ written as "D".
    struct Seen {
        std::vector<std::string> entries;     // pattern | origin
        std::vector<std::string> objects;     // canonical paths, each checked against its (dev, ino)
        std::vector<std::string> listings;    // directories listed
        std::vector<std::string> unexpanded;  // with the device checked
    };
    std::string mine(const std::string& p) const {
        return p.compare(0, d_.size(), d_) == 0 ? "D" + p.substr(d_.size()) : std::string();
    }
    Seen seen(const policy::Deny& deny) const {
        Seen out;
        for (const auto& e : deny.entries) {
            if (!mine(e.pattern).empty()) {
                out.entries.push_back(mine(e.pattern) + " | " + e.origin);
            }
        }
        for (const auto& [key, path] : deny.objects) {
            struct stat st {};
            if (!mine(path).empty() && ::stat(path.c_str(), &st) == 0 && st.st_dev == key.first &&
                st.st_ino == key.second) {
                out.objects.push_back(mine(path));
            }
        }
        std::sort(out.entries.begin(), out.entries.end());  // matches come in directory order
        std::sort(out.objects.begin(), out.objects.end());  // kept by (dev, ino)
        for (const auto& [dir, listing] : deny.listings) {
            if (!mine(dir).empty()) {
                out.listings.push_back(mine(dir));
            }
        }
        for (const auto& [dir, dev] : deny.unexpanded) {
            struct stat st {};
            if (!mine(dir).empty() && ::stat(dir.c_str(), &st) == 0 && st.st_dev == dev) {
                out.unexpanded.push_back(mine(dir));
            }
        }
        return out;
    }
    std::string d_;
};

TEST_F(DenyBuild, EveryFieldOfASmallHost) {
    std::vector<RawDeny> raw;
    for (const char* e :
         {"/etc/shadow*", "/etc/gshadow", "/etc/ssh/host_*_key", "/home/*/.ssh", "/locked/*/key", "/hidden/*",
          "/hidden/k", "/nope/deeper/x", "/etc/shadow/sub", "/links/loop/x", "/links/chain"}) {
        raw.push_back({d_ + e, e});
    }
    auto built = build_deny(raw);
    ASSERT_TRUE(built.ok()) << built.error().msg;
    const Seen got = seen(*built);
    const bool root = ::geteuid() == 0;
    using V = std::vector<std::string>;
    V entries = {"D/etc/shadow* | /etc/shadow*",
                 "D/etc/shadow | /etc/shadow*",
                 "D/etc/shadow- | /etc/shadow*",
                 "D/etc/gshadow | /etc/gshadow",
                 "D/etc/ssh/host_*_key | /etc/ssh/host_*_key",
                 "D/etc/ssh/host_ed_key | /etc/ssh/host_*_key",
                 "D/etc/ssh/host_rsa_key | /etc/ssh/host_*_key",
                 "D/home/*/.ssh | /home/*/.ssh",
                 "D/home/alice/.ssh | /home/*/.ssh",
                 "D/home/bob/dot | /home/*/.ssh"};
    V objects = {"D/etc/gshadow",          "D/etc/shadow",      "D/etc/shadow-", "D/etc/ssh/host_ed_key",
                 "D/etc/ssh/host_rsa_key", "D/home/alice/.ssh", "D/home/bob/dot"};
    if (!root) {
        entries.push_back("D/srv | /home/*/.ssh");  // this account's symlink to its own directory
        objects.push_back("D/srv");
    }
    // Unseen: what the expansion could not look at is denied by name (here the written pattern
    // itself, the first of two equal patterns, except below the home it could not search).
    entries.insert(entries.end(), {"D/locked/*/key | /locked/*/key", "D/hidden/* | /hidden/*"});
    if (root) {
        entries.insert(entries.end(), {"D/locked/inner/key | /locked/*/key", "D/hidden/k | /hidden/*"});
        objects.push_back("D/locked/inner/key");
    } else {
        entries.insert(entries.end(),
                       {"D/hidden/k | /hidden/k", "D/home/carol/.ssh | /home/*/.ssh (where this user cannot look)"});
    }
    objects.push_back("D/hidden/k");
    entries.insert(entries.end(), {"D/nope/deeper/x | /nope/deeper/x", "D/etc/shadow/sub | /etc/shadow/sub",
                                   "D/links/loop/x | /links/loop/x", "D/links/chain | /links/chain"});
    std::sort(entries.begin(), entries.end());
    std::sort(objects.begin(), objects.end());
    EXPECT_EQ(got.entries, entries);
    EXPECT_EQ(got.objects, objects);
    const V listings =
        root ? V{"D/etc", "D/etc/ssh", "D/hidden", "D/home", "D/locked"} : V{"D/etc", "D/etc/ssh", "D/home"};
    EXPECT_EQ(got.listings, listings);
    const V unexpanded = root ? V{} : V{"D/home/carol", "D/locked", "D/hidden"};
    EXPECT_EQ(got.unexpanded, unexpanded);
    auto mounts = mountinfo::read_mounts();
    ASSERT_TRUE(mounts.ok());
    std::vector<std::pair<std::string, dev_t>> points;
    for (const auto& m : *mounts) {
        if (const dev_t dev = mountinfo::mount_device(m); dev != 0) {
            points.emplace_back(m.point, dev);
        }
    }
    EXPECT_EQ(built->mount_points, points);
}

// What one build learned is not kept for the next (a request's build asks the file system again).
TEST_F(DenyBuild, ASecondBuildSeesWhatChangedSinceTheFirst) {
    const std::vector<RawDeny> raw = {{d_ + "/etc/shadow*", "test"}, {d_ + "/nope/deeper/x", "test"}};
    auto first = build_deny(raw);
    ASSERT_TRUE(first.ok()) << first.error().msg;
    std::ofstream(d_ + "/etc/shadow.new") << "secret";
    fs::create_directories(d_ + "/nope/deeper");
    std::ofstream(d_ + "/nope/deeper/x") << "secret";
    auto second = build_deny(raw);
    ASSERT_TRUE(second.ok()) << second.error().msg;
    EXPECT_EQ(seen(*first).objects, (std::vector<std::string>{"D/etc/shadow", "D/etc/shadow-"}));
    EXPECT_EQ(seen(*second).objects,
              (std::vector<std::string>{"D/etc/shadow", "D/etc/shadow-", "D/etc/shadow.new", "D/nope/deeper/x"}));
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
