// SPDX-License-Identifier: Apache-2.0
// The tree walk of the hard-link scans (tree_walk.cc, link_check.cc) and the bounds on the
// decision: what another local account can build in a world-writable directory must not make
// the wrapper miss a hard link of a secret, nor run long or large before it decides.
#include "wrapper/request/tree_walk.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "wrapper/base/deadline.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/request/path_resolve.h"

namespace diag::path_resolve {
namespace {

namespace fs = std::filesystem;
using deny_list::build_deny;

constexpr uid_t kOther = 4243;    // a second local account (no passwd entry needed)
constexpr uid_t kNobody = 65534;  // the wrapper's account in these tests: unprivileged

// The deadline is process-wide: never leave one set for the next test.
struct DeadlineGuard {
    ~DeadlineGuard() { deadline::clear(); }
};

// Runs `fn` in a child with the credentials of `uid` (when root; as ourselves otherwise) and
// returns what it returned, or "child failed: ..." when it could not run.
std::string as_user(uid_t uid, const std::function<std::string()>& fn) {
    int p[2];
    if (::pipe(p) != 0) {
        return "child failed: pipe";
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p[0]);
        std::string out;
        if (::geteuid() == 0 &&
            (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0)) {
            out = "child failed: setresuid: " + std::string(std::strerror(errno));
        } else {
            ::umask(022);
            out = fn();
        }
        (void)!::write(p[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(p[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) {
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return out;
}

// `levels` nested directories named `name` below the directory `at`, made relative to open
// directory fds (the path soon exceeds PATH_MAX); "" or the error.
std::string make_chain(const std::string& at, const std::string& name, size_t levels, const char* leaf_link = nullptr) {
    int fd = ::open(at.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; fd >= 0 && i < levels; ++i) {
        if (::mkdirat(fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
            ::close(fd);
            return "mkdirat at level " + std::to_string(i) + ": " + std::strerror(errno);
        }
        const int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ::close(fd);
        fd = next;
    }
    if (fd < 0) {
        return "openat: " + std::string(std::strerror(errno));
    }
    std::string err;
    if (leaf_link != nullptr && ::linkat(AT_FDCWD, leaf_link, fd, "hl", 0) != 0) {
        err = "linkat: " + std::string(std::strerror(errno));
    }
    ::close(fd);
    return err;
}

// A root-owned 0755 directory holding a denied directory `private` (0711, root's: the wrapper's
// account cannot list it) with a secret that a second account owns (0644), and `tree`, a
// root-owned 1777 directory like /var/tmp where any account can build.
class TreeScan : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root: a second account builds in the tree, and the scan runs as another";
        }
        char tmpl[] = "/tmp/diagwalk.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = fs::canonical(tmpl).string();
        ASSERT_EQ(::chmod(d_.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((d_ + "/private").c_str(), 0711), 0);
        ASSERT_EQ(::chmod((d_ + "/private").c_str(), 0711), 0);
        secret_ = d_ + "/private/secret";
        const int fd = ::open(secret_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::write(fd, "CANARY\n", 7), 7);
        ::close(fd);
        ASSERT_EQ(::chmod(secret_.c_str(), 0644), 0);
        ASSERT_EQ(::chown(secret_.c_str(), kOther, kOther), 0);
        ASSERT_EQ(::mkdir((d_ + "/tree").c_str(), 0755), 0);
        ASSERT_EQ(::chmod((d_ + "/tree").c_str(), 01777), 0);
    }
    void TearDown() override {
        if (!d_.empty()) {
            std::error_code ec;
            fs::remove_all(d_, ec);
        }
    }
    // What the unprivileged wrapper decides for `grep -r ... TREE`: "ok" or "reason: message".
    std::string decide_tree(const std::string& top) const {
        const std::string deny_dir = d_ + "/private";
        return as_user(kNobody, [&] {
            auto deny = build_deny({{deny_dir, "test"}});
            if (!deny.ok()) {
                return "build_deny: " + deny.error().msg;
            }
            auto r = resolve(*deny, top, Use::kTree, {});
            if (!r.ok()) {
                return r.error().reason + ": " + r.error().msg;
            }
            ScanBudget budget;
            auto links = check_links(*deny, *r, Use::kTree, budget);
            return links.ok() ? std::string("ok") : links.error().reason + ": " + links.error().msg;
        });
    }
    std::string d_;
    std::string secret_;
};

TEST_F(TreeScan, HardLinkOfASecretDeeperThanPathMaxIsFound) {
    // 210 levels of 20-byte names: the link's path is over 4400 bytes, which a scan opening
    // directories by path string cannot reach (ENAMETOOLONG) while grep -r does.
    const std::string name(20, 'd');
    ASSERT_EQ(as_user(kOther, [&] { return make_chain(d_ + "/tree", name, 210, secret_.c_str()); }), "");
    const std::string got = decide_tree(d_ + "/tree");
    EXPECT_EQ(got.rfind("path-tree-denied: ", 0), 0u) << got;
    EXPECT_NE(got.find("/hl: cannot rule out a hard link into " + d_ + "/private"), std::string::npos) << got;
    EXPECT_EQ(got.find("CANARY"), std::string::npos);
    // Near the top the same link was always refused; it still is.
    ASSERT_EQ(::link(secret_.c_str(), (d_ + "/tree/near").c_str()), 0);
    EXPECT_EQ(decide_tree(d_ + "/tree").rfind("path-tree-denied: ", 0), 0u);
}

TEST_F(TreeScan, TreesDeeperThanTheBoundAreRefused) {
    ASSERT_EQ(as_user(kOther, [&] { return make_chain(d_ + "/tree", "d", tree_walk::kMaxDepth + 2); }), "");
    const std::string got = decide_tree(d_ + "/tree");
    EXPECT_EQ(got.rfind("path-tree-denied: ", 0), 0u) << got;
    EXPECT_NE(got.find("levels deep"), std::string::npos) << got;
}

TEST_F(TreeScan, ADirectoryAnotherAccountClosedDependsOnProtectedHardlinks) {
    // Its owner can open it again after the scan. With fs.protected_hardlinks = 1 it can have put
    // there only links of files it could expose anyway: skipped, as the tool cannot enter it
    // either. Without, the tool might read a link of someone else's secret: refused.
    ASSERT_EQ(as_user(kOther,
                      [&] {
                          const std::string dir = d_ + "/tree/closed";
                          return ::mkdir(dir.c_str(), 0755) == 0 && ::chmod(dir.c_str(), 0) == 0 ? ""
                                                                                                 : std::strerror(errno);
                      }),
              "");
    std::ifstream f("/proc/sys/fs/protected_hardlinks");
    std::string setting;
    std::getline(f, setting);
    const std::string got = decide_tree(d_ + "/tree");
    if (setting == "1") {
        EXPECT_EQ(got, "ok");
        return;
    }
    EXPECT_EQ(got.rfind("path-tree-denied: ", 0), 0u) << got;
    EXPECT_NE(got.find(d_ + "/tree/closed cannot be read (Permission denied)"), std::string::npos) << got;
}

TEST_F(TreeScan, ADirectoryRootClosedIsSkipped) {
    // The tool runs with the wrapper's credentials: it cannot enter it either, and only root can
    // change that.
    ASSERT_EQ(::mkdir((d_ + "/tree/rootonly").c_str(), 0700), 0);
    ASSERT_EQ(::link(secret_.c_str(), (d_ + "/tree/rootonly/hl").c_str()), 0);
    EXPECT_EQ(decide_tree(d_ + "/tree"), "ok");
}

TEST_F(TreeScan, TheIndexBelowDeniedDirectoriesUsesTheSameWalk) {
    // Readable to the scanner: a deep hard link inside the denied tree is indexed, so its other
    // name in the readable tree is named precisely.
    ASSERT_EQ(::chmod((d_ + "/private").c_str(), 0755), 0);
    ASSERT_EQ(as_user(kOther, [&] { return make_chain(d_ + "/tree", std::string(20, 'e'), 210, secret_.c_str()); }),
              "");
    const std::string got = decide_tree(d_ + "/tree");
    EXPECT_NE(got.find("/hl: hard link of " + secret_), std::string::npos) << got;
}

// A chain about 1900 directories deep whose argument passes 39 absolute symlinks, each at the
// end of a 48-level segment and pointing at its own directory by its full path (the deepest
// point so far): every hop walks the whole chain again from "/", ~37,000 components in all, each
// checked against the denylist. Resolved to the end, without the cost of a component growing
// with its depth.
TEST(DeepChain, ResolvesThroughManyAbsoluteHopsToTheEnd) {
    char tmpl[] = "/tmp/diagchain.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string top = fs::canonical(tmpl).string();
    ::chmod(top.c_str(), 01777);
    constexpr int kHops = 39;
    constexpr int kPerHop = 48;
    std::string segment;
    for (int k = 0; k < kPerHop; ++k) {
        segment += "/a";
    }
    const std::string bottom = as_user(kOther, [&]() -> std::string {
        std::string canonical = top + "/d";
        if (::mkdir(canonical.c_str(), 0755) != 0) {
            return "mkdir: " + std::string(std::strerror(errno));
        }
        int fd = ::open(canonical.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 1; fd >= 0 && i <= kHops; ++i) {
            for (int k = 0; fd >= 0 && k < kPerHop; ++k) {
                ::mkdirat(fd, "a", 0755);
                const int next = ::openat(fd, "a", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                ::close(fd);
                fd = next;
            }
            canonical += segment;
            if (fd < 0 || ::symlinkat(canonical.c_str(), fd, "s") != 0) {
                return "chain at hop " + std::to_string(i) + ": " + std::strerror(errno);
            }
        }
        const bool files =
            ::mknodat(fd, "secret", S_IFREG | 0644, 0) == 0 && ::mknodat(fd, "file", S_IFREG | 0644, 0) == 0;
        ::close(fd);
        return files ? canonical : "mknodat: " + std::string(std::strerror(errno));
    });
    ASSERT_EQ(bottom.rfind(top + "/d/a/", 0), 0u) << bottom;
    std::string arg = top + "/d";
    for (int i = 0; i < kHops; ++i) {
        arg += segment + "/s";
    }
    auto deny = build_deny({{bottom + "/secret", "test"}});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    auto secret = resolve(*deny, arg + "/secret", Use::kContent, {});
    ASSERT_FALSE(secret.ok());
    EXPECT_EQ(secret.error().reason, "path-denied") << secret.error().msg;
    EXPECT_NE(secret.error().msg.find(bottom + "/secret matches deny entry"), std::string::npos);
    // The file beside it: walked to the end too; its directories belong to an account that can
    // rename them, so it is held open for the child (the cheap check after the walk).
    auto file = resolve(*deny, arg + "/file", Use::kContent, {});
    ASSERT_TRUE(file.ok()) << file.error().msg;
    EXPECT_EQ(file->canonical, bottom + "/file");
    EXPECT_EQ(file->hops.size(), static_cast<size_t>(kHops));
    EXPECT_TRUE(file->fd.valid());
    EXPECT_NE(file->bound_because, "");
    std::error_code ec;
    fs::remove_all(top, ec);
}

// Every loop another account can lengthen stops at the decision deadline with one reason code.
TEST(DecisionDeadline, StopsEveryLoopAnotherAccountCanLengthen) {
    DeadlineGuard guard;
    const auto deny = build_deny({{"/etc/shadow", "test"}});
    ASSERT_TRUE(deny.ok());
    char tmpl[] = "/tmp/diagdeadline.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = fs::canonical(tmpl).string();
    ::mkdir((dir + "/sub").c_str(), 0755);
    ::close(::open((dir + "/sub/f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    // The tree as resolve() hands it on (not resolved here: as an unprivileged user the temp
    // directory is one that could be swapped, refused before any scan).
    Resolved tree;
    tree.input = tree.canonical = dir;
    tree.mode = S_IFDIR | 0755;
    tree.object = sys::UniqueFd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(tree.object.valid());
    auto expect_timeout = [](const Error& e, const char* loop) {
        EXPECT_EQ(e.reason, deadline::kReason) << e.msg;
        EXPECT_NE(e.msg.find(loop), std::string::npos) << e.msg;
    };
    deadline::start(0);
    // resolve(): per component.
    auto r = resolve(*deny, "/etc/passwd", Use::kContent, {});
    ASSERT_FALSE(r.ok());
    expect_timeout(r.error(), "resolving a path argument");
    // The tree scan: per entry (resolved before the deadline passed: the walk itself must stop).
    ScanBudget budget;
    auto links = check_links(*deny, tree, Use::kTree, budget);
    ASSERT_FALSE(links.ok());
    expect_timeout(links.error(), "scanning a tree");
    // build_deny: the expansion of a deny glob, and the bind-mount fixpoint.
    auto globbed = build_deny({{dir + "/*/f", "test"}});
    ASSERT_FALSE(globbed.ok());
    expect_timeout(globbed.error(), "expanding a deny pattern");
    auto literal = build_deny({{dir + "/sub/f", "test"}});
    ASSERT_FALSE(literal.ok());
    expect_timeout(literal.error(), "following bind mounts");
    deadline::clear();
    std::error_code ec;
    fs::remove_all(dir, ec);
}

TEST(DecisionDeadline, StopsTheIndexOfLinksBelowDeniedDirectories) {
    DeadlineGuard guard;
    char tmpl[] = "/tmp/diagdeadline.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = fs::canonical(tmpl).string();
    ::close(::open((dir + "/f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    auto deny = build_deny({{dir, "test"}});
    ASSERT_TRUE(deny.ok());
    deadline::start(0);
    auto contained = check_links_contained(*deny);
    ASSERT_FALSE(contained.ok());
    EXPECT_EQ(contained.error().reason, deadline::kReason);
    EXPECT_NE(contained.error().msg.find("indexing hard links"), std::string::npos) << contained.error().msg;
    deadline::clear();
    // A scan cut short is not kept as the answer: without the deadline it runs whole.
    EXPECT_TRUE(check_links_contained(*deny).ok());
    std::error_code ec;
    fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace diag::path_resolve
