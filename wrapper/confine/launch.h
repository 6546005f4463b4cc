// SPDX-License-Identifier: Apache-2.0
// Starting the children of a request on their pipes, and leaving none of them behind: the pipe
// plumbing of a pipeline (docs/confinement.md §7) and the post-mortem sweep. The relay, the
// timeout and how the children end are supervise.cc's.
#pragma once

#include <sys/types.h>

#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"
#include "wrapper/confine/supervise.h"

namespace diag::launch {

struct Launched {
    std::vector<pid_t> pids;  // in pipeline order; each leads its own session and process group
    sys::UniqueFd out_r;      // the last child's stdout (our read end)
    sys::UniqueFd err_r;      // every child's stderr (our read end)
};

// Starts `children` in order, each once the previous one has exec'd: child i's stdout is a pipe to
// child i+1's stdin, the first child's stdin is /dev/null, every child's stderr is one pipe. Every
// pipe end is close-on-exec and we close our copy as soon as the children that need it have
// started, so a stage sees EOF when the writers before it are gone and SIGPIPE when the readers
// after it are. Errors: kExecFailed (no child, pipe2, clone, or a child step that failed before
// exec); then the children already started are killed and reaped, and the rest swept.
[[nodiscard]] Result<Launched> start_all(const std::vector<supervise::ChildMain>& children);

// Our children (as a subreaper: also the request's orphans), from /proc.
[[nodiscard]] std::vector<pid_t> our_children();

// Kills and reaps every remaining child, for at most supervise::kSweepMillis. Returns how many
// were killed.
size_t sweep();

}  // namespace diag::launch
