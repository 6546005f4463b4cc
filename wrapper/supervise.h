// SPDX-License-Identifier: Apache-2.0
// The supervisor: the wrapper stays the parent. It becomes a child subreaper, forks, relays the
// child's stdout and stderr through pipes with a byte cap and a running SHA-256, enforces the
// wall-clock timeout, notices a dropped SSH connection, and leaves no process of the request
// behind: the child's process group is killed and re-parented descendants are swept.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <functional>
#include <string>

#include "wrapper/error.h"

namespace diag::supervise {

inline constexpr size_t kBufferBytes = 256 * 1024;
inline constexpr int kSweepMillis = 2000;  // bound on the post-mortem sweep

// What a child step reports when it fails: the stage name (a string literal) and the errno.
struct ChildFailure {
    const char* stage = "";
    int err = 0;
};

// Runs in the child with stdout/stderr already on the pipes; returns only on failure (it ends in
// execveat). The child shares the supervisor's memory until then (CLONE_VM | CLONE_VFORK, the
// supervisor sleeping): it must not allocate or write anything the supervisor reads later.
using ChildMain = std::function<ChildFailure()>;

struct Limits {
    uint64_t timeout_ms = 30000;
    uint64_t output_cap = 16ULL << 20;  // stdout + stderr together
};

struct Stream {
    uint64_t bytes = 0;
    std::string sha256;
};

struct Outcome {
    int exit_status = 0;      // what the wrapper exits with: the child's code, or 128+signal
    int exit_code = -1;       // the child's exit code, when it exited
    int signal = 0;           // the signal that ended the child, when one did
    bool timed_out = false;
    bool output_capped = false;
    int wrapper_signal = 0;   // SIGHUP/SIGTERM/... the wrapper received (dropped connection)
    bool client_gone = false; // our stdout/stderr was closed by the other side
    size_t swept = 0;         // descendants killed after the child ended
    uint64_t duration_ms = 0;
    struct rusage rusage {};
    Stream out;
    Stream err;
};

// Runs in the supervisor once the child has exec'd, while the command starts on another CPU:
// work that is needed only afterwards goes here, off the request's critical path. It must be
// short (the relay and the timeout start after it); an exception it throws is swallowed, so the
// caller must not rely on its effects (pipeline.cc builds what is missing afterwards).
using Started = std::function<void()>;

// Starts `child` and supervises it. Errors: kExecFailed (clone/pipe failures, or a child step
// that failed before exec: "stage: strerror"); `started` is not called then.
[[nodiscard]] Result<Outcome> run(const ChildMain& child, const Limits& limits, const Started& started = {});

}  // namespace diag::supervise
