// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/supervise.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "wrapper/base/parse.h"
#include "wrapper/base/sys.h"
#include "wrapper/confine/child.h"
#include "wrapper/confine/relay.h"

namespace diag::supervise {

namespace {

using Clock = std::chrono::steady_clock;

// The first terminating signal already queued on `sigfd` (read off it), or 0.
int pending_terminating_signal(int sigfd) {
    signalfd_siginfo si{};
    while (::read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo != SIGCHLD) {
            return static_cast<int>(si.ssi_signo);
        }
    }
    return 0;
}

// Blocks SIGCHLD and the terminating signals, which become events on a signalfd, and SIGPIPE,
// which a write to a client that hung up raises (the write's EPIPE says the same). Restores the
// mask it found when it goes, after discarding a SIGPIPE the relay caused: unblocked with its
// default action it would kill the caller before the end record (the wrapper ignores SIGPIPE, but
// run() does not rely on its caller for that).
class SignalScope {
  public:
    SignalScope() {
        ::sigemptyset(&events_);
        ::sigaddset(&events_, SIGCHLD);
        for (const int s : sys::kTerminatingSignals) {
            ::sigaddset(&events_, s);
        }
        sigset_t block = events_;
        ::sigaddset(&block, SIGPIPE);
        ok_ = ::sigprocmask(SIG_BLOCK, &block, &old_) == 0;
    }
    SignalScope(const SignalScope&) = delete;
    SignalScope& operator=(const SignalScope&) = delete;
    ~SignalScope() {
        if (!ok_) {
            return;
        }
        if (!::sigismember(&old_, SIGPIPE)) {
            sigset_t pipe;
            ::sigemptyset(&pipe);
            ::sigaddset(&pipe, SIGPIPE);
            const timespec now{0, 0};
            while (::sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
            }
        }
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] const sigset_t& events() const { return events_; }

  private:
    sigset_t events_;
    sigset_t old_;
    bool ok_ = false;
};

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

// Kills and reaps every remaining descendant. As a subreaper we inherit every orphan of the
// request, including ones that left the process group with setsid (the seccomp filter forbids
// that, but the supervisor does not rely on it).
size_t sweep() {
    size_t killed = 0;
    const auto deadline = Clock::now() + std::chrono::milliseconds(kSweepMillis);
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

// The relay loop and how far the request has got. Phases: the command runs until the request's
// deadline; when it ends on its own, what it printed may take until that deadline to reach the
// client; when we end it (timeout, cap, a signal, a gone client), for kDrainMillis more. When a
// phase is over with output still undelivered, delivery is given up and what is already in the
// pipes is only read and hashed, for at most kDrainMillis (the command is dead by then).
class Supervision {
  public:
    // `hasher` receives the hasher thread, if one is started: the caller closes the side pipes
    // and joins it after relay_all().
    Supervision(pid_t pid, const Limits& limits, Clock::time_point deadline, int sigfd, relay::Relay* relays,
                std::optional<std::thread>& hasher, Outcome& out)
        : pid_(pid), limits_(limits), sigfd_(sigfd), relays_(relays), hasher_(hasher), out_(out), stop_by_(deadline) {}

    // Relays until the child has ended and its output is delivered or given up on.
    void relay_all() {
        while (!child_done_ || relays_[0].open || relays_[1].open || pending()) {
            if (Clock::now() >= stop_by_ && !phase_over()) {
                break;
            }
            if (!poll_once()) {
                break;
            }
        }
    }

  private:
    bool pending() const { return relays_[0].pending() || relays_[1].pending(); }

    void kill_group() {
        if (!killed_) {
            // The child is not reaped yet (at worst a zombie), so its pid cannot have been reused
            // as another process group's id.
            ::kill(-pid_, SIGKILL);
            ::kill(pid_, SIGKILL);
            killed_ = true;
        }
    }

    // Ends the command; what it printed may still reach the client for kDrainMillis.
    void stop() {
        kill_group();
        if (!stopped_) {
            stopped_ = true;
            stop_by_ = Clock::now() + std::chrono::milliseconds(kDrainMillis);
        }
    }

    void client_gone() {
        out_.client_gone = true;
        for (int i = 0; i < 2; ++i) {
            relay::stop_delivery(relays_[i]);
        }
        stop();
    }

    // The current phase ran out. Returns false when the loop must end.
    bool phase_over() {
        if (given_up_) {
            return false;  // even the pipes of the dead command did not reach EOF in time
        }
        if (!killed_) {
            out_.timed_out = true;  // the command itself ran out of time
            stop();
            return true;
        }
        if (!stopped_ && pending()) {
            out_.timed_out = true;  // it ended in time, but its output did not get out in time
        }
        // The client did not take the rest in time: stop waiting for it, read on for the digests.
        given_up_ = true;
        for (int i = 0; i < 2; ++i) {
            relay::stop_delivery(relays_[i]);
        }
        stop_by_ = Clock::now() + std::chrono::milliseconds(kDrainMillis);
        return true;
    }

    // One poll over the child's pipes (while nothing is pending on that stream: back-pressure),
    // the client's fds (POLLOUT while something is pending; always POLLERR/POLLHUP, which is how a
    // dropped connection shows when the command prints nothing) and the signalfd. Returns false
    // when the loop must end.
    bool poll_once() {
        pollfd fds[5];
        nfds_t n = 0;
        int idx_to[2] = {-1, -1};
        int idx_from[2] = {-1, -1};
        for (int i = 0; i < 2; ++i) {
            const relay::Relay& r = relays_[i];
            if (!r.to_failed) {
                idx_to[i] = static_cast<int>(n);
                fds[n++] = {r.to, static_cast<short>(r.pending() ? POLLOUT : 0), 0};
            }
            if (r.open && !r.pending()) {
                idx_from[i] = static_cast<int>(n);
                fds[n++] = {r.from.get(), POLLIN, 0};
            }
        }
        const int idx_sig = static_cast<int>(n);
        fds[n++] = {sigfd_, POLLIN, 0};

        const auto left = std::chrono::ceil<std::chrono::milliseconds>(stop_by_ - Clock::now()).count();
        // Wake at least once a second to look at the child (SIGCHLD may go to another thread).
        int timeout = static_cast<int>(std::clamp<long long>(left, 0, 1000));
        const bool idle_ends = killed_ && child_done_ && !pending();
        if (idle_ends) {
            timeout = std::min(timeout, 200);  // only draining what is already in the pipes
        }
        const int ready = ::poll(fds, n, timeout);
        if (ready < 0) {
            if (errno == EINTR) {
                return true;
            }
            stop();
            return false;
        }
        if (ready == 0 && idle_ends) {
            return false;  // a descendant we already killed kept a pipe open; nothing more will come
        }
        for (int i = 0; i < 2; ++i) {
            if (idx_to[i] >= 0 && (fds[idx_to[i]].revents & (POLLERR | POLLHUP))) {
                client_gone();
            }
        }
        if (fds[idx_sig].revents & POLLIN) {
            read_signals();
        }
        for (int i = 0; i < 2; ++i) {
            if (idx_to[i] >= 0 && (fds[idx_to[i]].revents & POLLOUT)) {
                push(i);
            }
        }
        for (int i = 0; i < 2; ++i) {
            if (idx_from[i] >= 0 && (fds[idx_from[i]].revents & (POLLIN | POLLHUP | POLLERR))) {
                pull(i);
            }
        }
        check_child();
        return true;
    }

    void read_signals() {
        signalfd_siginfo si{};
        while (::read(sigfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            if (si.ssi_signo == SIGCHLD) {
                continue;
            }
            out_.wrapper_signal = static_cast<int>(si.ssi_signo);
            stop();
        }
    }

    void push(int i) {
        if (relay::deliver(relays_[i]) == relay::Delivery::kFailed) {
            client_gone();  // EPIPE: the SSH connection is gone
        }
    }

    void pull(int i) {
        relay::Relay& r = relays_[i];
        if (total_ >= limits_.output_cap) {
            // At the cap: one more byte means the child printed more than it may.
            char extra = 0;
            const ssize_t got = ::read(r.from.get(), &extra, 1);
            if (got < 0 && errno == EINTR) {
                return;
            }
            if (got <= 0) {
                r.open = false;
                return;
            }
            out_.output_capped = true;
            stop();
            relays_[0].open = false;
            relays_[1].open = false;
            return;
        }
        const ssize_t got = relay::take(r, static_cast<size_t>(limits_.output_cap - total_));
        if (got <= 0) {
            if (got < 0 && errno == EINTR) {
                return;
            }
            r.open = false;
            return;
        }
        r.stats->bytes += static_cast<uint64_t>(got);
        total_ += static_cast<uint64_t>(got);
        // Small outputs are hashed inline; past kInlineHashBytes the digests are computed beside
        // the relay, so hashing is not on the path of the bytes.
        if (!hasher_tried_ && total_ >= relay::kInlineHashBytes) {
            hasher_tried_ = true;
            hasher_ = relay::start_hasher(relays_);
        }
        if (r.pending()) {
            push(i);  // usually the client takes it at once; if not, POLLOUT says when
        }
    }

    void check_child() {
        if (child_done_) {
            return;
        }
        siginfo_t info{};
        // WNOWAIT: learn that it ended without reaping it, so its pid stays reserved until the
        // group is killed.
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) {
            child_done_ = true;
            // Background descendants of the request: its process group, and anything already
            // re-parented to us. Then only what is in the pipes is delivered.
            ::kill(-pid_, SIGKILL);
            for (pid_t p : our_children()) {
                if (p != pid_) {
                    ::kill(p, SIGKILL);
                }
            }
            killed_ = true;
        }
    }

    const pid_t pid_;
    const Limits& limits_;
    const int sigfd_;
    relay::Relay* const relays_;  // two: stdout, stderr
    std::optional<std::thread>& hasher_;
    Outcome& out_;
    Clock::time_point stop_by_;  // when the current phase ends: first the request's deadline
    uint64_t total_ = 0;         // bytes taken from both streams
    bool child_done_ = false;
    bool killed_ = false;    // the process group was killed: by us, or after the child ended
    bool stopped_ = false;   // we ended the command (timeout, cap, signal, gone client)
    bool given_up_ = false;  // delivery was given up on; only the pipes are read on
    bool hasher_tried_ = false;
};

// The child's stdout, stderr and failure pipes, each {read end, write end}.
struct Pipes {
    sys::UniqueFd out[2];
    sys::UniqueFd err[2];
    sys::UniqueFd fail[2];
};

Result<Pipes> open_pipes() {
    Pipes p;
    for (sys::UniqueFd* pipe : {p.out, p.err, p.fail}) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            return sys_error(ErrorCode::kExecFailed, "pipe2", errno);
        }
        pipe[0] = sys::UniqueFd(fds[0]);
        pipe[1] = sys::UniqueFd(fds[1]);
    }
    // Larger pipes: fewer wake-ups per byte relayed (the default is 64 KiB). Best effort: the
    // per-user pipe quota may refuse it, and the default size still works.
    for (int fd : {p.out[0].get(), p.err[0].get()}) {
        (void)::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(kBufferBytes * 4));
    }
    return p;
}

// Starts `child` on `pipes` and waits until it has exec'd. A child that failed before exec is
// reaped, with anything it left. Closes the write ends either way.
Result<pid_t> start_child(const ChildMain& child, Pipes& pipes) {
    auto pid = child::start(child, pipes.out[1].get(), pipes.err[1].get(), pipes.fail[1].get());
    pipes.out[1] = sys::UniqueFd();
    pipes.err[1] = sys::UniqueFd();
    pipes.fail[1] = sys::UniqueFd();
    if (!pid.ok()) {
        return pid;
    }
    if (auto st = child::exec_result(pipes.fail[0].get()); !st.ok()) {
        ::waitpid(*pid, nullptr, 0);
        pipes.out[0] = sys::UniqueFd();
        pipes.err[0] = sys::UniqueFd();
        sweep();
        return std::move(st).error();
    }
    return pid;
}

// Relays the child's output to the client until it has ended and its output is delivered or given
// up on (Supervision), then joins the hasher: the digests are complete after this.
void relay_output(pid_t pid, const Limits& limits, Clock::time_point deadline, int sigfd, Pipes& pipes, Outcome& out) {
    relay::Relay relays[2];
    relays[0].from = std::move(pipes.out[0]);
    relays[0].to = STDOUT_FILENO;
    relays[0].stats = &out.out;
    relays[1].from = std::move(pipes.err[0]);
    relays[1].to = STDERR_FILENO;
    relays[1].stats = &out.err;
    std::optional<std::thread> hasher;
    {
        // The client's side never blocks the supervisor: a client that stops reading holds only
        // its own output, not the deadline (relay.h).
        const sys::NonBlocking client({STDOUT_FILENO, STDERR_FILENO});
        Supervision supervision(pid, limits, deadline, sigfd, relays, hasher, out);
        supervision.relay_all();
    }
    // End of the streams: the hasher reads to EOF and is joined before the digests are read.
    for (auto& r : relays) {
        r.side_w = sys::UniqueFd();
    }
    if (hasher) {
        hasher->join();
    }
    for (auto& r : relays) {
        // Empty when the hasher could not read the whole stream: no digest rather than a wrong one.
        r.stats->sha256 = r.hash_lost ? std::string() : r.md.hex_digest();
    }
}

// The exit status the wrapper returns for the child's wait `status`, into `out`.
void note_status(int status, Outcome& out) {
    if (WIFEXITED(status)) {
        out.exit_code = WEXITSTATUS(status);
        out.exit_status = out.exit_code;
    } else if (WIFSIGNALED(status)) {
        out.signal = WTERMSIG(status);
        out.exit_status = 128 + out.signal;
    }
    if (out.timed_out && out.signal == 0) {
        // It ended in time, but the client did not take its output in time: the client got less
        // than the command printed, which a success status must not hide.
        out.exit_status = 128 + SIGKILL;
    }
}

}  // namespace

Result<Outcome> run(const ChildMain& child, const Limits& limits, const Started& started) {
    Outcome out;
    const auto start = Clock::now();
    // Orphans of the request are re-parented to us, not to init, so the sweep can find them.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        return sys_error(ErrorCode::kExecFailed, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
    }
    DIAG_TRY_ASSIGN(Pipes pipes, open_pipes());
    // Signals become events on a signalfd; the child resets its mask before exec.
    const SignalScope signals;
    if (!signals.ok()) {
        return sys_error(ErrorCode::kExecFailed, "sigprocmask", errno);
    }
    sys::UniqueFd sigfd(::signalfd(-1, &signals.events(), SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd.valid()) {
        return sys_error(ErrorCode::kExecFailed, "signalfd", errno);
    }
    // A hang-up or termination that arrived while the request was decided (held since then):
    // the client or an operator is gone already, so the command does not start at all.
    if (const int pending = pending_terminating_signal(sigfd.get()); pending != 0) {
        return make_error(ErrorCode::kExecFailed, std::string("not started: the wrapper received SIG") +
                                                      ::sigabbrev_np(pending) + " before the command started");
    }
    DIAG_TRY_ASSIGN(const pid_t pid, start_child(child, pipes));
    if (started) {
        // The command runs now: nothing may unwind past the supervision below (no kill, no
        // sweep). A hook that throws has done nothing the caller relies on.
        try {
            started();
        } catch (...) {
        }
    }
    relay_output(pid, limits, start + std::chrono::milliseconds(limits.timeout_ms), sigfd.get(), pipes, out);
    // Reap the child itself, then everything that is left.
    int status = 0;
    while (::wait4(pid, &status, 0, &out.rusage) < 0 && errno == EINTR) {
    }
    out.swept = sweep();
    out.duration_ms =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    note_status(status, out);
    return out;
}

}  // namespace diag::supervise
