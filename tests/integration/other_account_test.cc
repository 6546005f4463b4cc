// SPDX-License-Identifier: Apache-2.0
// What another local account can do to the decision through the places of its own that deny
// entries name (a home matched by /home/*/.ssh): deny more of its own, never stop every request.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "tests/helpers/policies.h"
#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

constexpr uid_t kOther = 4243;

class OtherAccount : public WrapperFixture {
  protected:
    void SetUp() override {
        WrapperFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        home_ = dir_ + "/home/atk";
        std::filesystem::create_directories(home_);
        ASSERT_EQ(::chown(home_.c_str(), kOther, kOther), 0);
        policy_ = write_policy(policy(policies::rules({"cat_paths"}), ", \"" + dir_ + "/home/*/.ssh\""));
    }

    // Runs `step` as the other account in a child; true when it returned true.
    static bool as_other(const std::function<bool()>& step) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::setresgid(kOther, kOther, kOther) != 0 || ::setresuid(kOther, kOther, kOther) != 0) {
                ::_exit(2);
            }
            ::_exit(step() ? 0 : 1);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

    std::string home_;
    std::string policy_;
};

// Review finding: `~/.ssh -> /` made the deny-list expansion pin `/` itself, and every path of
// every request was refused as "matches deny entry /".
TEST_F(OtherAccount, ASymlinkAtADeniedPlaceDeniesOnlyItsOwnName) {
    ASSERT_TRUE(as_other([&] { return ::symlink("/", (home_ + "/.ssh").c_str()) == 0; }));
    auto r = run_soc(policy_, "cat " + dir_ + "/pub/readme.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
    r = run_soc(policy_, "cat " + home_ + "/.ssh/etc/hostname");
    EXPECT_DENIED(r, "path-denied");
}

// A link the account owns into a directory it owns is followed: the target is denied with it.
TEST_F(OtherAccount, ASymlinkToItsOwnDirectoryStillProtectsTheTarget) {
    ASSERT_TRUE(as_other([&] {
        return ::mkdir((home_ + "/dotfiles").c_str(), 0755) == 0 &&
               ::symlink((home_ + "/dotfiles").c_str(), (home_ + "/.ssh").c_str()) == 0;
    }));
    write(home_ + "/dotfiles/id", canary_ + "\n", 0644);
    auto r = run_soc(policy_, "cat " + home_ + "/dotfiles/id");
    EXPECT_DENIED(r, "path-denied");
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
}

// Review finding: one hard link the account made of its own file below its denied place stopped
// every request on the host (exit 125, "has 2 hard links but only 1 under denied paths"). It can
// make such a link at any moment, so refusing everything protected nothing from it; the other
// name is still refused wherever a request reaches it.
TEST_F(OtherAccount, AHardLinkOfItsOwnDeniedFileDoesNotStopEveryRequest) {
    ASSERT_TRUE(as_other([&] {
        if (::mkdir((home_ + "/.ssh").c_str(), 0755) != 0) {
            return false;
        }
        const int fd = ::open((home_ + "/.ssh/k").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        return fd >= 0 && ::write(fd, "KEY\n", 4) == 4 && ::close(fd) == 0 &&
               ::link((home_ + "/.ssh/k").c_str(), (home_ + "/k2").c_str()) == 0;
    }));
    auto r = run_soc(policy_, "cat " + dir_ + "/pub/readme.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = run_soc(policy_, "cat " + home_ + "/k2");
    EXPECT_DENIED(r, "path-denied");
    EXPECT_EQ(r.out, "");
}

// Root's files keep the stronger rule: while another name of one is outside the denied paths,
// nothing runs (Landlock would grant that name with its directory).
TEST_F(OtherAccount, AHardLinkOfARootFileStillStopsEveryRequest) {
    ASSERT_EQ(::link((dir_ + "/secret/canary.txt").c_str(), (dir_ + "/pub/copy").c_str()), 0);
    auto r = run_soc(policy_, "cat " + dir_ + "/pub/readme.txt");
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("hard links but only"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace diag::testing
