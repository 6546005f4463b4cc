// SPDX-License-Identifier: Apache-2.0
// The compat filter is hand-written BPF (adr/0007), so it is tested alone here: each case loads
// it (and nothing else) in a fresh child and reports what one syscall did. The policy filter also
// kills foreign ABIs, which would hide a broken compat filter in the integration tests.
#include "wrapper/confine/seccomp.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "wrapper/confine/seccomp_policy.h"

namespace diag::seccomp {
namespace {

struct ChildResult {
    bool killed = false;
    int signal = 0;
    int err = -1;  // errno of the syscall, 0 when it succeeded
};

// Forks; the child loads `p` alone and makes syscall `nr` with zero arguments (or, for x32, with
// the x32 bit set), exiting with the errno it got.
ChildResult run_with(const Program& p, long nr) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            ::_exit(250);
        }
        sock_fprog prog{};
        prog.len = static_cast<unsigned short>(p.code.size());
        prog.filter = const_cast<sock_filter*>(p.code.data());
        if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p.flags, &prog) != 0) {
            ::_exit(251);
        }
        errno = 0;
        const long rc = ::syscall(nr, 0, 0, 0, 0, 0, 0);
        ::_exit(rc == -1 ? (errno == 0 ? 252 : errno) : 0);
    }
    ChildResult r;
    int st = 0;
    if (pid < 0 || ::waitpid(pid, &st, 0) != pid) {
        ADD_FAILURE() << "fork/wait failed";
        return r;
    }
    if (WIFSIGNALED(st)) {
        r.killed = true;
        r.signal = WTERMSIG(st);
    } else {
        r.err = WEXITSTATUS(st);
    }
    return r;
}

// The same syscall without any filter: what the kernel itself answers.
int unfiltered(long nr) {
    errno = 0;
    return ::syscall(nr, 0, 0, 0, 0, 0, 0) == -1 ? errno : 0;
}

class CompatFilter : public ::testing::Test {
  protected:
    void SetUp() override {
        const Filters f = filters(false);
        compat_ = f.compat;
        ASSERT_FALSE(compat_.code.empty());
        EXPECT_EQ(compat_.flags, 0u) << "the compat filter is silent";
        EXPECT_EQ(f.policy.flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG)) << "the policy filter logs";
    }
    Program compat_;
};

TEST_F(CompatFilter, StructArgumentSyscallsGetEnosys) {
    for (long nr : {425L, 426L, 427L, 435L, 437L}) {
        SCOPED_TRACE(nr);
        const auto r = run_with(compat_, nr);
        ASSERT_FALSE(r.killed) << "signal " << r.signal;
        EXPECT_EQ(r.err, ENOSYS);
    }
}

TEST_F(CompatFilter, OrdinaryAndNewestKnownSyscallsPass) {
    // getppid succeeds; 468 (file_getattr) and 424 (pidfd_send_signal) answer as the kernel does.
    EXPECT_EQ(run_with(compat_, SYS_getppid).err, 0);
    for (long nr : {424L, 468L, 469L, 470L}) {
        SCOPED_TRACE(nr);
        const auto r = run_with(compat_, nr);
        ASSERT_FALSE(r.killed) << "signal " << r.signal;
        EXPECT_EQ(r.err, unfiltered(nr));
    }
}

TEST_F(CompatFilter, SyscallsAboveTheCeilingGetEnosys) {
    // On this kernel they would be ENOSYS anyway; 1000 and 0x3fffffff show no number wraps around.
    for (long nr : {471L, 600L, 1000L, 0x3fffffffL}) {
        SCOPED_TRACE(nr);
        const auto r = run_with(compat_, nr);
        ASSERT_FALSE(r.killed) << "signal " << r.signal;
        EXPECT_EQ(r.err, ENOSYS);
    }
}

#if defined(__x86_64__)
TEST_F(CompatFilter, X32NumbersKillTheProcess) {
    const auto r = run_with(compat_, 0x40000000L | SYS_getpid);
    EXPECT_TRUE(r.killed);
    EXPECT_EQ(r.signal, SIGSYS);
}
#endif

// The wrapper carries the policy filter as compiled at build time; it must be what the rules in
// seccomp_policy.cc compile to now (a stale program would enforce an old policy).
TEST(PolicyFilter, CompiledInProgramsAreWhatTheRulesCompileTo) {
    for (bool network : {false, true}) {
        SCOPED_TRACE(network ? "network" : "offline");
        auto compiled = compile_policy(network);
        ASSERT_TRUE(compiled.ok()) << compiled.error().msg;
        const Program& carried = filters(network).policy;
        ASSERT_EQ(carried.code.size(), compiled->code.size());
        for (size_t i = 0; i < carried.code.size(); ++i) {
            const sock_filter& a = carried.code[i];
            const sock_filter& b = compiled->code[i];
            EXPECT_TRUE(a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k) << "instruction " << i;
        }
    }
    // The two variants differ (AF_INET/AF_INET6), so a mixed-up pair would show.
    EXPECT_NE(filters(false).policy.code.size() == filters(true).policy.code.size() &&
                  std::equal(filters(false).policy.code.begin(), filters(false).policy.code.end(),
                             filters(true).policy.code.begin(),
                             [](const sock_filter& a, const sock_filter& b) {
                                 return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
                             }),
              true);
}

}  // namespace
}  // namespace diag::seccomp
