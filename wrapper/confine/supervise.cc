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
#include <memory>
#include <vector>

#include "wrapper/base/parse.h"
#include "wrapper/base/sys.h"
#include "wrapper/confine/launch.h"
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

// The relay loop and how far the request has got. Phases: the command runs until the request's
// deadline; when it ends on its own, what it printed may take until that deadline to reach the
// client; when we end it (timeout, cap, a signal, a gone client), for kDrainMillis more. When a
// phase is over with output still undelivered, delivery is given up and what is already in the
// pipes is only read and hashed, for at most kDrainMillis (the command is dead by then).
class Supervision {
  public:
    // `hasher` receives the hasher, if one is started: the caller finishes it after relay_all().
    Supervision(const std::vector<pid_t>& pids, const Limits& limits, Clock::time_point deadline, int sigfd,
                relay::Relay* relays, std::unique_ptr<relay::Hasher>& hasher, Outcome& out)
        : pids_(pids),
          ended_(pids.size(), false),
          limits_(limits),
          sigfd_(sigfd),
          relays_(relays),
          hasher_(hasher),
          out_(out),
          stop_by_(deadline) {}

    // Relays until every child has ended and its output is delivered or given up on.
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

    void kill_groups() {
        if (!killed_) {
            // No child is reaped yet (at worst a zombie), so no pid can have been reused as another
            // process group's id. Every group is stopped before any is killed: a stage that saw
            // EOF because the one before it was killed first would exit on its own, and the record
            // would report that instead of the kill.
            for (const int sig : {SIGSTOP, SIGKILL}) {
                for (const pid_t p : pids_) {
                    ::kill(-p, sig);
                    ::kill(p, sig);
                }
            }
            killed_ = true;
        }
    }

    // Ends the command; what it printed may still reach the client for kDrainMillis.
    void stop() {
        kill_groups();
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
            (void)relay::start_hasher(relays_, hasher_);  // false: inline hashing goes on
            relay::widen_client_pipe(relays_[0]);
            relay::widen_client_pipe(relays_[1]);
        }
        if (r.pending()) {
            push(i);  // usually the client takes it at once; if not, POLLOUT says when
        }
    }

    // Notes the children that ended. A stage that ended takes its background descendants with it
    // (its process group): as for a single command, what it left running must not hold the
    // pipes open, so the next stage sees EOF. When every stage has ended, whatever is left is
    // killed and only what is in the pipes is delivered. Until then the pipeline runs on, as a
    // shell waits for every stage: an earlier stage still writing gets SIGPIPE once its reader
    // is gone, but one that never writes keeps the request alive until the timeout.
    void check_child() {
        if (child_done_) {
            return;
        }
        size_t running = 0;
        for (size_t i = 0; i < pids_.size(); ++i) {
            if (!ended_[i] && ended(pids_[i])) {
                ended_[i] = true;
                ::kill(-pids_[i], SIGKILL);
            }
            if (!ended_[i]) {
                ++running;
            }
        }
        if (running > 0) {
            return;
        }
        child_done_ = true;
        // Anything already re-parented to us (the children themselves are zombies: no harm).
        for (pid_t p : launch::our_children()) {
            ::kill(p, SIGKILL);
        }
        killed_ = true;
    }

    // WNOWAIT: learns that `pid` ended without reaping it, so its pid stays reserved (as a process
    // group id too) until the end.
    static bool ended(pid_t pid) {
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
    }

    const std::vector<pid_t>& pids_;
    std::vector<bool> ended_;  // per child: it has ended (not reaped yet)
    const Limits& limits_;
    const int sigfd_;
    relay::Relay* const relays_;  // two: stdout, stderr
    std::unique_ptr<relay::Hasher>& hasher_;
    Outcome& out_;
    Clock::time_point stop_by_;  // when the current phase ends: first the request's deadline
    uint64_t total_ = 0;         // bytes taken from both streams
    bool child_done_ = false;    // every child has ended
    bool killed_ = false;        // the process groups were killed: by us, or after the children ended
    bool stopped_ = false;       // we ended the command (timeout, cap, signal, gone client)
    bool given_up_ = false;      // delivery was given up on; only the pipes are read on
    bool hasher_tried_ = false;
};

// Relays the children's output to the client until they have ended and their output is delivered
// or given up on (Supervision), then finishes the hasher: the digests are complete after this.
void relay_output(launch::Launched& l, const Limits& limits, Clock::time_point deadline, int sigfd, Outcome& out) {
    relay::Relay relays[2];
    std::unique_ptr<relay::Hasher> hasher;  // destroyed (finished) before the relays' buffers
    relays[0].from = std::move(l.out_r);
    relays[0].to = STDOUT_FILENO;
    relays[0].stats = &out.out;
    relays[1].from = std::move(l.err_r);
    relays[1].to = STDERR_FILENO;
    relays[1].stats = &out.err;
    {
        // The client's side never blocks the supervisor: a client that stops reading holds only
        // its own output, not the deadline (relay.h).
        const sys::NonBlocking client({STDOUT_FILENO, STDERR_FILENO});
        Supervision supervision(l.pids, limits, deadline, sigfd, relays, hasher, out);
        supervision.relay_all();
    }
    // The hasher hashes what it was given and ends before the digests are read.
    if (hasher) {
        hasher->finish();
    }
    for (auto& r : relays) {
        r.stats->sha256 = r.md.hex_digest();
    }
}

// How one child ended, from its wait `status`.
StageOutcome stage_of(int status) {
    StageOutcome st;
    if (WIFEXITED(status)) {
        st.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        st.signal = WTERMSIG(status);
    }
    return st;
}

// Adds one child's resource usage to the request's: times and counts add up, the peak memory is
// the largest of them (the stages ran side by side, but each within its own limits).
void add_rusage(const struct rusage& ru, struct rusage& sum) {
    timeradd(&sum.ru_utime, &ru.ru_utime, &sum.ru_utime);
    timeradd(&sum.ru_stime, &ru.ru_stime, &sum.ru_stime);
    sum.ru_maxrss = std::max(sum.ru_maxrss, ru.ru_maxrss);
    sum.ru_minflt += ru.ru_minflt;
    sum.ru_majflt += ru.ru_majflt;
    sum.ru_inblock += ru.ru_inblock;
    sum.ru_oublock += ru.ru_oublock;
    sum.ru_nvcsw += ru.ru_nvcsw;
    sum.ru_nivcsw += ru.ru_nivcsw;
}

// Reaps every child, in order, into out.stages and out.rusage; returns the last one's wait status.
int reap(const std::vector<pid_t>& pids, Outcome& out) {
    int status = 0;
    for (const pid_t p : pids) {
        struct rusage ru {};
        while (::wait4(p, &status, 0, &ru) < 0 && errno == EINTR) {
        }
        out.stages.push_back(stage_of(status));
        add_rusage(ru, out.rusage);
    }
    return status;
}

// The exit status the wrapper returns for the last child's wait `status`, into `out`.
void note_status(int status, Outcome& out) {
    const StageOutcome last = stage_of(status);
    out.exit_code = last.exit_code;
    out.signal = last.signal;
    if (last.signal != 0) {
        out.exit_status = 128 + last.signal;
    } else if (last.exit_code >= 0) {
        out.exit_status = last.exit_code;
    }
    if (out.timed_out && out.signal == 0) {
        // It ended in time, but the client did not take its output in time: the client got less
        // than the command printed, which a success status must not hide.
        out.exit_status = 128 + SIGKILL;
    }
}

}  // namespace

Result<Outcome> run(const ChildMain& child, const Limits& limits, const Started& started) {
    return run(std::vector<ChildMain>{child}, limits, started);
}

Result<Outcome> run(const std::vector<ChildMain>& children, const Limits& limits, const Started& started) {
    Outcome out;
    const auto start = Clock::now();
    // Orphans of the request are re-parented to us, not to init, so the sweep can find them.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        return sys_error(ErrorCode::kExecFailed, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
    }
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
    DIAG_TRY_ASSIGN(launch::Launched launched, launch::start_all(children));
    if (started) {
        // The command runs now: nothing may unwind past the supervision below (no kill, no
        // sweep). A hook that throws has done nothing the caller relies on.
        try {
            started();
        } catch (...) {
        }
    }
    relay_output(launched, limits, start + std::chrono::milliseconds(limits.timeout_ms), sigfd.get(), out);
    // Reap the children themselves, then everything that is left.
    const int status = reap(launched.pids, out);
    out.swept = launch::sweep();
    out.duration_ms =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    note_status(status, out);
    return out;
}

}  // namespace diag::supervise
