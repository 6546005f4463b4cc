// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/deny_thread.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "wrapper/base/deadline.h"

namespace diag::deny_thread {
namespace {

namespace fs = std::filesystem;

class DenyThread : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diagdenythread.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = fs::canonical(tmpl).string();
        fs::create_directories(d_ + "/home/a/.ssh");
        fs::create_directories(d_ + "/home/b/.ssh");
        fs::create_directories(d_ + "/etc");
        for (const char* f : {"/home/a/.ssh/id", "/home/b/.ssh/id", "/etc/shadow", "/etc/other"}) {
            std::ofstream(d_ + f) << "secret";
        }
        fs::create_symlink(d_ + "/etc/other", d_ + "/etc/link");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(d_, ec);
    }
    std::vector<deny_list::RawDeny> raw(const std::vector<std::string>& paths) const {
        std::vector<deny_list::RawDeny> out;
        for (const auto& p : paths) {
            out.push_back({d_ + p, "test"});
        }
        return out;
    }
    std::string d_;
};

// The objects a build pinned, as canonical paths.
std::vector<std::string> objects(const policy::Deny& deny) {
    std::vector<std::string> out;
    for (const auto& [id, path] : deny.objects) {
        out.push_back(path);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> patterns(const policy::Deny& deny) {
    std::vector<std::string> out;
    for (const auto& e : deny.entries) {
        out.push_back(e.pattern + " | " + e.origin);
    }
    return out;
}

TEST_F(DenyThread, BuildsWhatTheCallersThreadBuilds) {
    const auto entries = raw({"/home/*/.ssh", "/etc/shadow", "/etc/link", "/absent/*"});
    auto direct = deny_list::build_deny(entries);
    ASSERT_TRUE(direct.ok()) << direct.error().describe();
    Build b(entries);
    EXPECT_EQ(b.raw(), entries);
    auto threaded = b.take();
    ASSERT_TRUE(threaded.ok()) << threaded.error().describe();
    EXPECT_EQ(patterns(*threaded), patterns(*direct));
    EXPECT_EQ(objects(*threaded), objects(*direct));
    EXPECT_EQ(threaded->objects, direct->objects);  // the same (dev, ino) for each
    EXPECT_EQ(threaded->globs.size(), direct->globs.size());
    EXPECT_NE(std::find(objects(*threaded).begin(), objects(*threaded).end(), d_ + "/etc/other"),
              objects(*threaded).end())
        << "the symlink's target is pinned";
}

// What the thread started with is used only for exactly those entries: a policy whose entries
// differ (an image found stale after its head started the build) gets its own build.
TEST_F(DenyThread, APendingBuildOfOtherEntriesIsNotTaken) {
    auto pending = std::make_unique<Build>(raw({"/etc/shadow"}));
    const auto wanted = raw({"/etc/shadow", "/home/*/.ssh"});
    auto deny = take_or_build(std::move(pending), wanted);
    ASSERT_TRUE(deny.ok()) << deny.error().describe();
    const auto got = objects(*deny);
    EXPECT_NE(std::find(got.begin(), got.end(), d_ + "/home/a/.ssh"), got.end());
    EXPECT_NE(std::find(got.begin(), got.end(), d_ + "/home/b/.ssh"), got.end());
}

TEST_F(DenyThread, APendingBuildOfTheSameEntriesIsTaken) {
    const auto entries = raw({"/etc/shadow"});
    auto deny = take_or_build(std::make_unique<Build>(entries), entries);
    ASSERT_TRUE(deny.ok()) << deny.error().describe();
    EXPECT_EQ(objects(*deny), std::vector<std::string>{d_ + "/etc/shadow"});
    auto none = take_or_build(nullptr, entries);  // nothing pending: built here, the same
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->objects, deny->objects);
}

// An entry the build refuses is refused the same way from the thread.
TEST_F(DenyThread, ABuildErrorComesBackFromTheThread) {
    Build b(std::vector<deny_list::RawDeny>{{"relative/path", "test"}});
    auto deny = b.take();
    ASSERT_FALSE(deny.ok());
    EXPECT_EQ(deny.error().code, ErrorCode::kPolicyInvalid);
}

// The decision deadline bounds the thread as it bounds the caller.
TEST_F(DenyThread, TheDeadlineBoundsTheThread) {
    deadline::start(0);
    Build b(raw({"/home/*/.ssh"}));
    auto deny = b.take();
    deadline::clear();
    ASSERT_FALSE(deny.ok());
    EXPECT_EQ(deny.error().code, ErrorCode::kDenied);
    EXPECT_EQ(deny.error().reason, deadline::kReason) << deny.error().describe();
}

// A build nobody will use (an image found stale, an account refused) is abandoned, not waited for:
// before, dropping it cost the request the whole build on top of its own (a stale image, the
// state after every edit without --compile, doubled the deny list's time and could push a
// request past its decision_timeout).
TEST_F(DenyThread, DroppingAPendingBuildDoesNotWaitForIt) {
    const std::string big = d_ + "/big";
    fs::create_directories(big);
    std::ofstream(big + "/f0");
    for (int i = 1; i < 20000; ++i) {  // names to list, one inode: quick to make and to remove
        ASSERT_EQ(::link((big + "/f0").c_str(), (big + "/f" + std::to_string(i)).c_str()), 0);
    }
    const auto entries = raw({"/big/*/x"});
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(deny_list::build_deny(entries).ok());
    const auto whole = std::chrono::steady_clock::now() - t0;
    const auto t1 = std::chrono::steady_clock::now();
    {
        Build b(entries);
        std::this_thread::sleep_for(whole / 10);  // the thread is well into the listing
    }
    const auto dropped = std::chrono::steady_clock::now() - t1;
    EXPECT_LT(dropped, whole / 2) << "whole build "
                                  << std::chrono::duration_cast<std::chrono::microseconds>(whole).count()
                                  << " us, dropping it "
                                  << std::chrono::duration_cast<std::chrono::microseconds>(dropped).count() << " us";
}

// The thread is another task of the process: what the build resolves through /proc/thread-self
// would name the helper thread's task (which is gone by the decision), not the task the caller's
// build names. A policy entry under /proc/thread-self must build the same either way (adr/0025:
// the answer never depends on whether the thread ran).
TEST(DenyThreadTask, AThreadSelfEntryBuildsWhatTheCallersThreadBuilds) {
    const std::vector<deny_list::RawDeny> entries{{"/proc/thread-self/environ", "test"}};
    auto direct = deny_list::build_deny(entries);
    ASSERT_TRUE(direct.ok()) << direct.error().describe();
    Build b(entries);
    auto threaded = b.take();
    ASSERT_TRUE(threaded.ok()) << threaded.error().describe();
    EXPECT_EQ(patterns(*threaded), patterns(*direct));
}

// A terminating signal must never be delivered to the build's thread (its default action would
// end the process before the request is recorded): every signal is blocked in it, and the
// caller's own mask is left as it was.
TEST(DenyThreadSignals, TheThreadBlocksEverySignalAndTheCallersMaskIsKept) {
    sigset_t before;
    ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &before), 0);
    std::atomic<bool> all_blocked{false};
    std::thread t = start_with_signals_blocked([&all_blocked] {
        sigset_t mine;
        if (pthread_sigmask(SIG_SETMASK, nullptr, &mine) != 0) {
            return;
        }
        bool all = true;
        for (int sig : {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGCHLD}) {
            all = all && sigismember(&mine, sig) == 1;
        }
        all_blocked = all;
    });
    if (!t.joinable()) {
        GTEST_SKIP() << "no thread can be started here (RLIMIT_NPROC?)";
    }
    t.join();
    EXPECT_TRUE(all_blocked);
    sigset_t after;
    ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &after), 0);
    for (int sig = 1; sig < SIGRTMIN; ++sig) {
        EXPECT_EQ(sigismember(&after, sig), sigismember(&before, sig)) << "signal " << sig;
    }
}

}  // namespace
}  // namespace diag::deny_thread
