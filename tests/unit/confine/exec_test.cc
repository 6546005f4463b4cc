// SPDX-License-Identifier: Apache-2.0
// The child-side steps that can be shown without running a confined child.
#include "wrapper/confine/exec.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace diag::exec {
namespace {

// The close_range fallback (kernels before 5.11) marks every fd above 2 close-on-exec, however
// many there are (more than one getdents64 buffer) and wherever they sit.
TEST(ExecSteps, FdWalkMarksEveryFdAbove2CloseOnExec) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<int> fds;
        for (int i = 0; i < 300; ++i) {
            const int fd = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC
            if (fd < 0) ::_exit(10);
            fds.push_back(fd);
        }
        if (::dup2(fds[0], 700) != 700) ::_exit(11);
        fds.push_back(700);
        if (close_extra_fds_by_walk() != 0) ::_exit(12);
        for (int fd : fds) {
            if ((::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0) ::_exit(13);
        }
        for (int fd = 0; fd <= 2; ++fd) {
            const int flags = ::fcntl(fd, F_GETFD);
            if (flags >= 0 && (flags & FD_CLOEXEC) != 0) ::_exit(14);  // stdio stays open over exec
        }
        ::_exit(0);
    }
    ASSERT_GT(pid, 0);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0) << "10 open, 11 dup2, 12 walk failed, 13 an fd kept, 14 stdio marked";
}

}  // namespace
}  // namespace diag::exec
