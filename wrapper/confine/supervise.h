// SPDX-License-Identifier: Apache-2.0
// The supervisor: the wrapper stays the parent. It becomes a child subreaper, forks, relays the
// child's stdout and stderr through pipes with a byte cap and a running SHA-256 (wrapper/confine/relay.h),
// enforces the wall-clock timeout, notices a dropped SSH connection, and leaves no process of the
// request behind: the child's process group is killed and re-parented descendants are swept.
//
// The timeout covers the whole request, including the time spent waiting for a client that does
// not read: our stdout and stderr are non-blocking while the relay runs (their flags are restored
// before run() returns), and once the command has been killed what is left is delivered for at most
// kDrainMillis.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::supervise {

inline constexpr size_t kBufferBytes = 256 * 1024;  // one relay read
// The pipes the relay reads from (the default is 64 KiB): fewer wake-ups per byte.
inline constexpr size_t kPipeBytes = 4 * kBufferBytes;
inline constexpr int kSweepMillis = 2000;  // bound on the post-mortem sweep
// After the command was killed (timeout, output cap, a signal to the wrapper, a gone client), how
// long what it printed may still take to reach the client: a reading client takes the last
// pipe-fulls in far less, and one that does not read cannot stretch the request by more.
inline constexpr int kDrainMillis = 1000;

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

// What the child printed on one stream: `bytes` and `sha256` cover everything taken from it, also
// when the client did not receive it; `delivered` is what reached the client.
struct Stream {
    uint64_t bytes = 0;
    uint64_t delivered = 0;
    std::string sha256;
};

// How one stage of a pipeline ended.
struct StageOutcome {
    int exit_code = -1;  // when it exited
    int signal = 0;      // the signal that ended it, when one did
};

struct Outcome {
    std::vector<StageOutcome> stages;  // one per child, in pipeline order
    // The fields below are the last stage's, as a POSIX shell reports a pipeline.
    int exit_status = 0;     // what the wrapper exits with: the child's code, or 128+signal; 137
                             // when the request timed out, also if only delivery was left
    int exit_code = -1;      // the child's exit code, when it exited
    int signal = 0;          // the signal that ended the child, when one did
    bool timed_out = false;  // the timeout ended the command, or the delivery of its output
    bool output_capped = false;
    int wrapper_signal = 0;    // SIGHUP/SIGTERM/... the wrapper received (dropped connection)
    bool client_gone = false;  // our stdout/stderr was closed by the other side (POLLERR/HUP, EPIPE)
    size_t swept = 0;          // descendants killed after the child ended
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

// Starts `child` and supervises it: run() of a pipeline of one. Says nothing to the client: the caller reports a
// timeout or a cap after recording the outcome. SIGPIPE is blocked meanwhile and one it caused is discarded before the
// caller's signal mask is restored. Errors: kExecFailed (clone/pipe failures, or a child step that failed before exec:
// "stage: strerror"); `started` is not called then.
[[nodiscard]] Result<Outcome> run(const ChildMain& child, const Limits& limits, const Started& started = {});

// A pipeline: child i's stdout is child i+1's stdin (pipes the supervisor creates), the first
// child's stdin is /dev/null, only the last child's stdout goes through the relay, every child's
// stderr goes to the relayed stderr (launch.h). The timeout and the cap cover the whole pipeline.
// It is done when every child has ended, as a shell waits for every stage: a stage that ends takes
// its process group with it (its background descendants must not hold the pipes open), an earlier
// stage still writing gets SIGPIPE once its reader is gone, but an earlier stage that never writes
// keeps the request alive until the timeout, which bounds it. On timeout, cap, a signal or a gone
// client every child's process group is killed; at the end every descendant is swept.
// Outcome::stages has one entry per child; exit_status, exit_code and signal are the last child's;
// rusage is the sum over the children (maxrss: the largest). A child that fails before exec fails
// the whole run (kExecFailed); the children already started are killed and reaped first.
[[nodiscard]] Result<Outcome> run(const std::vector<ChildMain>& children, const Limits& limits,
                                  const Started& started = {});

}  // namespace diag::supervise
