// SPDX-License-Identifier: Apache-2.0
// The Landlock complement of a deny list, enforced on a child process: what it grants, and that a
// directory listing reused from the deny-glob expansion (Deny::listings) can only grant less
// when the directory changed in between.
#include "wrapper/confine/landlock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "wrapper/policy/deny_list.h"

namespace diag::landlock {
namespace {

namespace fs = std::filesystem;

class LandlockWalk : public ::testing::Test {
  protected:
    void SetUp() override {
        if (abi_version() < kMinAbi) {
            GTEST_SKIP() << "Landlock ABI " << abi_version() << " < " << kMinAbi << " in this kernel";
        }
        char tmpl[] = "/tmp/diaglandlock.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = fs::canonical(tmpl).string();
        ::chmod(d_.c_str(), 0755);
        put(d_ + "/secret1", "CANARY");
        put(d_ + "/public", "hello");
    }
    void TearDown() override {
        std::error_code ec;
        if (!d_.empty()) {
            fs::remove_all(d_, ec);
        }
    }
    static void put(const std::string& p, const std::string& text) { std::ofstream(p) << text; }

    policy::Deny deny() {
        auto d = deny_list::build_deny({{d_ + "/secret*", "test"}});
        EXPECT_TRUE(d.ok()) << d.error().msg;
        return d.ok() ? std::move(d).value() : policy::Deny{};
    }

    // Opens each path for reading in a child confined by `rs`; bit i set when path i opened.
    static int readable_in_child(const Ruleset& rs, const std::vector<std::string>& paths) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || restrict_self(rs) != 0) {
                ::_exit(255);
            }
            int bits = 0;
            for (size_t i = 0; i < paths.size(); ++i) {
                const int fd = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                    bits |= 1 << i;
                    ::close(fd);
                }
            }
            ::_exit(bits);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    }

    std::string d_;
};

TEST_F(LandlockWalk, GrantsTheSiblingsOfADeniedGlobMatchOnly) {
    const policy::Deny dn = deny();
    ASSERT_EQ(dn.listings.count(d_), 1u) << "the expansion keeps what it listed";
    auto rs = build(dn, {});
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    EXPECT_EQ(readable_in_child(*rs, {d_ + "/public", d_ + "/secret1"}), 0b01);
}

TEST_F(LandlockWalk, ANameAddedAfterTheListingGetsNoRule) {
    const policy::Deny dn = deny();
    put(d_ + "/late", "new");
    auto rs = build(dn, {});
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    EXPECT_EQ(readable_in_child(*rs, {d_ + "/public", d_ + "/late"}), 0b01);
}

TEST_F(LandlockWalk, ANameReplacedAfterTheListingIsCheckedAgain) {
    // Between the listing and the walk, `public` becomes another name of the denied file: the
    // walk opens the name again and refuses the denied inode.
    const policy::Deny dn = deny();
    ASSERT_EQ(::unlink((d_ + "/public").c_str()), 0);
    ASSERT_EQ(::link((d_ + "/secret1").c_str(), (d_ + "/public").c_str()), 0);
    auto rs = build(dn, {});
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    EXPECT_EQ(readable_in_child(*rs, {d_ + "/public", d_ + "/secret1"}), 0);
}

TEST_F(LandlockWalk, ASymlinkThatBecameADirectoryIsNotGranted) {
    // Listed as a symlink (no rule: its target decides), replaced by a directory before the
    // walk: it still gets no rule.
    fs::create_symlink(d_ + "/public", d_ + "/was_link");
    const policy::Deny dn = deny();
    fs::remove(d_ + "/was_link");
    fs::create_directory(d_ + "/was_link");
    put(d_ + "/was_link/inner", "x");
    auto rs = build(dn, {});
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    EXPECT_EQ(readable_in_child(*rs, {d_ + "/public", d_ + "/was_link/inner"}), 0b01);
}

// Review finding: the walk gives every entry of a directory on the way to a deny entry a rule of
// its own, and such a directory may be another account's (a home, matched by /home/*/.ssh).
// Filled past the rule bound, it failed every request on the host. Now the entries past the
// per-directory bound get no rule (unreadable to the child) and the request goes on.
TEST_F(LandlockWalk, ADirectoryFilledPastItsBoundLosesOnlyItsOwnEntries) {
    const std::string home = d_ + "/home";
    fs::create_directories(home + "/.ssh");
    put(home + "/.ssh/id", "CANARY");
    put(home + "/f", "x");
    auto before = deny_list::build_deny({{d_ + "/*/.ssh", "test"}});
    ASSERT_TRUE(before.ok()) << before.error().msg;
    auto baseline = build(*before, {});
    ASSERT_TRUE(baseline.ok()) << baseline.error().msg;
    // Hard links: one inode, many names; as cheap as entries get.
    constexpr int kFill = 10050;
    for (int i = 0; i < kFill; ++i) {
        ASSERT_EQ(::link((home + "/f").c_str(), (home + "/l" + std::to_string(i)).c_str()), 0);
    }
    auto dn = deny_list::build_deny({{d_ + "/*/.ssh", "test"}});
    ASSERT_TRUE(dn.ok()) << dn.error().msg;
    auto rs = build(*dn, {});
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    EXPECT_EQ(rs->cut_short, std::vector<std::string>{home});
    EXPECT_TRUE(baseline->cut_short.empty());
    EXPECT_LE(rs->rules, baseline->rules + 10000);  // the bound, not one rule per entry
    // Outside that directory nothing changes; inside it the denied entry stays denied.
    EXPECT_EQ(readable_in_child(*rs, {d_ + "/public", home + "/.ssh/id"}), 0b01);
}

}  // namespace
}  // namespace diag::landlock
