// SPDX-License-Identifier: Apache-2.0
// The pipe plumbing of a request and the sweep: see launch.h.
#include "wrapper/confine/launch.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>

#include "wrapper/base/parse.h"
#include "wrapper/confine/child.h"

namespace diag::launch {

namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
    sys::UniqueFd r;
    sys::UniqueFd w;
};

Result<Pipe> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return sys_error(ErrorCode::kExecFailed, "pipe2", errno);
    }
    return Pipe{sys::UniqueFd(fds[0]), sys::UniqueFd(fds[1])};
}

// Larger pipes for what we relay: fewer wake-ups per byte (the default is 64 KiB). Best effort:
// the per-user pipe quota may refuse it, and the default size still works. Pipes between stages
// keep the default, as a shell's do.
void enlarge(const sys::UniqueFd& relayed) {
    (void)::fcntl(relayed.get(), F_SETPIPE_SZ, static_cast<int>(supervise::kPipeBytes));
}

// A start that failed: nothing of the request may survive it. Every started child leads its own
// process group (or has not got that far: then the pid itself), and has not been reaped, so
// neither id can have been reused.
void abandon(const std::vector<pid_t>& pids) {
    for (const pid_t p : pids) {
        ::kill(-p, SIGKILL);
        ::kill(p, SIGKILL);
    }
    for (const pid_t p : pids) {
        while (::waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    sweep();
}

// Starts `child` on `in_r` (none: /dev/null) and waits until it has exec'd; returns the read end
// of its stdout. A pid is added to `pids` as soon as there is one, so the caller can abandon it.
Result<sys::UniqueFd> start_stage(const supervise::ChildMain& child, sys::UniqueFd in_r, bool last, int err_w,
                                  std::vector<pid_t>& pids) {
    DIAG_TRY_ASSIGN(Pipe out, make_pipe());
    if (last) {
        enlarge(out.r);
    }
    DIAG_TRY_ASSIGN(Pipe fail, make_pipe());
    auto pid = child::start(child, in_r.valid() ? in_r.get() : -1, out.w.get(), err_w, fail.w.get());
    // The child has exec'd or exited (CLONE_VFORK): our copies of its ends go now, so that EOF and
    // EPIPE reach the stages as soon as the processes holding them are gone.
    in_r = sys::UniqueFd();
    out.w = sys::UniqueFd();
    fail.w = sys::UniqueFd();
    if (!pid.ok()) {
        return std::move(pid).error();
    }
    pids.push_back(*pid);
    DIAG_TRY(child::exec_result(fail.r.get()));
    return std::move(out.r);
}

}  // namespace

Result<Launched> start_all(const std::vector<supervise::ChildMain>& children) {
    if (children.empty()) {
        return make_error(ErrorCode::kExecFailed, "no command to run");
    }
    Launched l;
    DIAG_TRY_ASSIGN(Pipe err, make_pipe());
    enlarge(err.r);
    sys::UniqueFd in;  // the previous stage's stdout; none for the first stage
    for (size_t i = 0; i < children.size(); ++i) {
        auto out = start_stage(children[i], std::move(in), i + 1 == children.size(), err.w.get(), l.pids);
        if (!out.ok()) {
            abandon(l.pids);
            return std::move(out).error();
        }
        in = std::move(*out);
    }
    l.out_r = std::move(in);
    l.err_r = std::move(err.r);
    return l;
}

std::vector<pid_t> our_children() {
    std::vector<pid_t> out;
    const std::string self = std::to_string(::getpid());
    // NPROC bounds the children; an unreadable list is an empty one (the sweep reaps until ECHILD).
    const std::string text = sys::read_small_file("/proc/self/task/" + self + "/children", 16 << 20).value_or("");
    for (const auto f : util::fields(text)) {
        if (const auto p = util::parse_int(f); p && *p > 0) {
            out.push_back(static_cast<pid_t>(*p));
        }
    }
    return out;
}

// As a subreaper we inherit every orphan of the request, including ones that left the process
// group with setsid (the seccomp filter forbids that, but the supervisor does not rely on it).
size_t sweep() {
    size_t killed = 0;
    const auto deadline = Clock::now() + std::chrono::milliseconds(supervise::kSweepMillis);
    for (;;) {
        for (pid_t p : our_children()) {
            if (::kill(p, SIGKILL) == 0) {
                ++killed;
            }
        }
        int status = 0;
        const pid_t r = ::waitpid(-1, &status, WNOHANG);
        if (r < 0 && errno == ECHILD) {
            return killed;
        }
        if (r == 0) {
            if (Clock::now() > deadline) {
                return killed;
            }
            ::usleep(1000);
        }
    }
}

}  // namespace diag::launch
