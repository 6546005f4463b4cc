// SPDX-License-Identifier: Apache-2.0
// The child: what runs in it between clone and execveat, and how the supervisor starts it and
// learns whether it reached execveat. The child shares the supervisor's memory until execveat
// (CLONE_VM | CLONE_VFORK, the supervisor sleeping, as posix_spawn does): nothing here allocates
// or logs in the child. A failing step is written to the fail pipe as {stage, errno} and the child
// exits 125; the supervisor reports it as kExecFailed [nsjail kSubprocErrorChar; bwrap die()].
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "wrapper/base/error.h"
#include "wrapper/confine/confinement.h"
#include "wrapper/confine/exec.h"
#include "wrapper/confine/supervise.h"

namespace diag::child {

// The steps that confine the request's command, in this order, ending in execveat of the checked
// executable `p`: a new session, death with the supervisor (`parent`), clean signals, every fd
// above 2 close-on-exec, umask and cwd, the rlimits (`cpu_seconds` of CPU time),
// no_new_privs, Landlock, seccomp. Runs in the child with stdout and stderr already on the
// supervisor's pipes and stdin on /dev/null or the previous stage's pipe (a supervise::ChildMain);
// returns only on failure, with the step and its errno.
[[nodiscard]] supervise::ChildFailure confine_and_exec(const confinement::Confinement& c, const exec::Prepared& p,
                                                       pid_t parent, uint64_t cpu_seconds);

// Starts `main` in a child that shares our memory, with its stdin on `in_r` (-1: /dev/null, opened
// in the child), its stdout and stderr on `out_w` and `err_w` and its failure reported on `fail_w`
// (all close-on-exec: only the copies on 0, 1 and 2 survive exec); returns its pid once it has
// exec'd or exited. The caller closes its own ends. Errors: kExecFailed (mmap, clone).
[[nodiscard]] Result<pid_t> start(const supervise::ChildMain& main, int in_r, int out_w, int err_w, int fail_w);

// What the child started by start() reported on the read end `fail_r` of its fail pipe: EOF means
// execveat succeeded (the write end was close-on-exec). Errors: kExecFailed "child stage S:
// strerror" for a step that failed before exec.
[[nodiscard]] Status exec_result(int fail_r);

}  // namespace diag::child
