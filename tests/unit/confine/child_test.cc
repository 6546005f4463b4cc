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
    auto pid = start(main, -1, pipes.out[1], pipes.err[1], pipes.fail[1]);
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
    auto pid = start(main, -1, pipes.out[1], pipes.err[1], pipes.fail[1]);
    ASSERT_TRUE(pid.ok()) << pid.error().msg;
    pipes.close_write_ends();
    const Status st = exec_result(pipes.fail[0]);
    EXPECT_TRUE(st.ok()) << st.error().msg;
    const int status = reap(*pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// The exit status of `sh -c script` started with stdin on `in_r` (-1: /dev/null), or -1.
int sh_status(const char* script, int in_r) {
    ChildPipes pipes;
    if (!pipes.open()) {
        return -1;
    }
    char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(script), nullptr};
    const supervise::ChildMain main = [&argv]() {
        ::execv("/bin/sh", argv);
        return supervise::ChildFailure{"execv", errno};
    };
    auto pid = start(main, in_r, pipes.out[1], pipes.err[1], pipes.fail[1]);
    if (!pid.ok()) {
        return -1;
    }
    pipes.close_write_ends();
    if (!exec_result(pipes.fail[0]).ok()) {
        return -1;
    }
    const int status = reap(*pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A pipeline stage reads the previous stage's pipe; the first one reads /dev/null, never the
// client's stdin (the SSH channel).
TEST(Child, StdinIsTheGivenPipeOrDevNull) {
    if (::access("/bin/sh", X_OK) != 0) {
        GTEST_SKIP() << "no /bin/sh to exec";
    }
    int in[2];
    ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(::write(in[1], "hello\n", 6), 6);
    ::close(in[1]);
    // The pipe is on 0 only: our end of it is close-on-exec.
    const std::string script = "read x && [ \"$x\" = hello ] && [ ! -e /proc/$$/fd/" + std::to_string(in[0]) + " ]";
    EXPECT_EQ(sh_status(script.c_str(), in[0]), 0);
    ::close(in[0]);
    // From /dev/null: EOF at once, whatever our own stdin holds.
    EXPECT_EQ(sh_status("read x; [ $? -ne 0 ] && [ \"$(readlink /proc/self/fd/0)\" = /dev/null ]", -1), 0);
}

}  // namespace
}  // namespace diag::child
