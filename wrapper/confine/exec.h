// SPDX-License-Identifier: Apache-2.0
// The last stages: re-open the pinned executable, put the process in a clean state, execveat.
// Each step is one function so child.cc can list them in order.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/model.h"

namespace diag::exec {

// Files handed to the child as checked objects (path_resolve::Resolved::fd) sit at fixed fds
// below seccomp::kExecFd: the k-th at bound_fd(k), named /proc/self/fd/N in argv.
inline constexpr int kMaxBoundFds = 16;
[[nodiscard]] constexpr int bound_fd(int k) { return 62 - k; }

struct Prepared {
    sys::UniqueFd exe;                 // the checked executable, executed by fd at seccomp::kExecFd
    std::vector<sys::UniqueFd> bound;  // at bound_fd(0), bound_fd(1), ...: kept open across exec
    std::string exe_path;
    bool script = false;                  // "#!" file: the fd must survive exec for the interpreter
    std::vector<std::string> exec_paths;  // what Landlock lets execute: binary, ELF/script interpreters
    std::vector<std::string> argv;
    std::vector<std::string> envp;
    // NULL-terminated pointer arrays into argv/envp, built by prepare(): the child shares the
    // parent's memory until it execs (supervise.cc), so it allocates nothing.
    std::vector<char*> argv_ptrs;
    std::vector<char*> envp_ptrs;
};

// Re-opens c.exe_path through a trusted chain and refuses unless it is still the (dev, ino) pinned
// at load; the fd is seccomp::kExecFd, or when that is taken (a later stage of a pipeline) one above
// it, which the child moves to kExecFd (exe_to_exec_fd). argv[0] is the program name as the policy writes
// it. For scripts the interpreter must be trusted too. Errors: kExecFailed. `bound` are the held-open files, in
// bound_fd order (each is dup'ed to its fixed fd; refused if that fd is taken: in a pipeline only
// one stage can hold files, the first; a filter holds none).
[[nodiscard]] Result<Prepared> prepare(const policy::Command& c, const std::vector<std::string>& args,
                                       std::vector<std::string> envp, const std::vector<int>& bound = {});

// Child-side steps. Each returns 0 or an errno; child::confine_and_exec runs them in order in
// the child, which shares the supervisor's memory until execveat: none of them allocates.

// New session and process group: the supervisor kills the group; seccomp then forbids leaving it.
[[nodiscard]] int new_session();

// SIGKILL when the supervisor dies; refuses to go on if it already has (the fork race).
[[nodiscard]] int die_with_parent(pid_t parent);

// Unblocks every signal and resets every disposition to default (sshd may leave SIGPIPE ignored,
// which would survive exec).
[[nodiscard]] int reset_signals();

// Marks every fd above 2 close-on-exec (close_range, with a /proc/self/fd fallback).
[[nodiscard]] int close_extra_fds();
// The fallback for kernels without close_range (before 5.11); exposed for its test.
[[nodiscard]] int close_extra_fds_by_walk();

// umask 077, cwd / (stdin is set by child::start: /dev/null or the previous stage's pipe).
[[nodiscard]] int umask_cwd();

// Puts the executable at seccomp::kExecFd, the one fd the policy filter lets execveat run (a later
// stage of a pipeline holds it elsewhere: the earlier stage's is there in the supervisor).
[[nodiscard]] int exe_to_exec_fd(const Prepared& p);

// prctl(PR_SET_NO_NEW_PRIVS): required by Landlock and seccomp; setuid bits stop working.
[[nodiscard]] int no_new_privs();

// Clears close-on-exec on the bound files, then execveat(seccomp::kExecFd, "", argv, envp,
// AT_EMPTY_PATH).
// Returns only on failure, with the errno.
[[nodiscard]] int execute(const Prepared& p);

}  // namespace diag::exec
