// SPDX-License-Identifier: Apache-2.0
// Starting the child and learning whether it reached execveat. The confinement steps themselves
// are exercised through the wrapper in tests/integration/confinement_test.cc.
#include "wrapper/confine/child.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace diag::child {
namespace {

// The three pipes of one child: stdout, stderr, failures.
struct ChildPipes {
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    int fail[2] = {-1, -1};
    bool open() {
        return ::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(err, O_CLOEXEC) == 0 && ::pipe2(fail, O_CLOEXEC) == 0;
    }
    void close_write_ends() {
        ::close(out[1]);
        ::close(err[1]);
        ::close(fail[1]);
    }
    ~ChildPipes() {
        ::close(out[0]);
        ::close(err[0]);
        ::close(fail[0]);
    }
};

int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

TEST(Child, AFailingStepIsReportedWithItsStageAndErrno) {
    ChildPipes pipes;
    ASSERT_TRUE(pipes.open());
    const supervise::ChildMain main = []() { return supervise::ChildFailure{"rlimits", EPERM}; };
    auto pid = start(main, pipes.out[1], pipes.err[1], pipes.fail[1]);
    ASSERT_TRUE(pid.ok()) << pid.error().msg;
    pipes.close_write_ends();
    const Status st = exec_result(pipes.fail[0]);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kExecFailed);
    EXPECT_EQ(st.error().msg, std::string("child stage rlimits: ") + std::strerror(EPERM));
    const int status = reap(*pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 125);
}

TEST(Child, AChildThatExecsReportsNothing) {
    if (::access("/bin/sh", X_OK) != 0) {
        GTEST_SKIP() << "no /bin/sh to exec";
    }
    ChildPipes pipes;
    ASSERT_TRUE(pipes.open());
    const supervise::ChildMain main = []() {
        char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>("exit 0"), nullptr};
        ::execv("/bin/sh", argv);
        return supervise::ChildFailure{"execv", errno};
    };
    auto pid = start(main, pipes.out[1], pipes.err[1], pipes.fail[1]);
    ASSERT_TRUE(pid.ok()) << pid.error().msg;
    pipes.close_write_ends();
    const Status st = exec_result(pipes.fail[0]);
    EXPECT_TRUE(st.ok()) << st.error().msg;
    const int status = reap(*pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace diag::child
