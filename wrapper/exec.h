// SPDX-License-Identifier: Apache-2.0
// The last stages: re-open the pinned executable, put the process in a clean state, execveat.
// Each step is one function so pipeline.cc can list them in order.
#pragma once

#include <string>
#include <vector>

#include "wrapper/error.h"
#include "wrapper/policy.h"
#include "wrapper/sys.h"

namespace diag::exec {

struct Prepared {
    sys::UniqueFd exe;  // the checked executable, executed by fd
    std::string exe_path;
    bool script = false;  // "#!" file: the fd must survive exec for the interpreter
    std::vector<std::string> argv;
    std::vector<std::string> envp;
};

// Re-opens c.exe_path through a trusted chain and refuses unless it is still the (dev, ino) pinned
// at load. argv[0] is the program name as the policy writes it. For scripts the interpreter must be
// trusted too. Errors: kExecFailed.
[[nodiscard]] Result<Prepared> prepare(const policy::Command& c, const std::vector<std::string>& args,
                                       std::vector<std::string> envp);

// Unblocks every signal and resets every disposition to default (sshd may leave SIGPIPE ignored,
// which would survive exec).
[[nodiscard]] Status reset_signals();

// Marks every fd above 2 close-on-exec (close_range, with a /proc/self/fd fallback).
[[nodiscard]] Status close_extra_fds();

// stdin from /dev/null, umask 077, cwd /.
[[nodiscard]] Status stdio_umask_cwd();

// execveat(fd, "", argv, envp, AT_EMPTY_PATH). Returns only on failure.
[[nodiscard]] Error execute(Prepared& p);

}  // namespace diag::exec
