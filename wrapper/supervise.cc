// SPDX-License-Identifier: Apache-2.0
#include "wrapper/supervise.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "wrapper/sha256.h"
#include "wrapper/sys.h"
#include "wrapper/util.h"

namespace diag::supervise {

namespace {

using Clock = std::chrono::steady_clock;

struct WireFailure {
    char stage[40];
    int err;
};

// One relayed stream: the child's pipe, our fd, a running SHA-256.
struct Relay {
    sys::UniqueFd from;
    int to = -1;
    Sha256 md;
    Stream* stats = nullptr;
    bool open = true;
};

constexpr int kSignals[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGPIPE};

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

std::vector<pid_t> our_children() {
    std::vector<pid_t> out;
    const std::string self = std::to_string(::getpid());
    std::ifstream in("/proc/self/task/" + self + "/children");
    pid_t p = 0;
    while (in >> p) {
        out.push_back(p);
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

constexpr size_t kChildStackBytes = 256 * 1024;

struct ChildStart {
    const ChildMain* main;
    int out_w;
    int err_w;
    int fail_w;
    pid_t parent;
};

// The child until execveat: nothing is logged from here; a failing step is written to the fail
// pipe and the child exits 125.
int child_start(void* arg) {
    const auto& a = *static_cast<const ChildStart*>(arg);
    ChildFailure f{"dup2", 0};
    if (::dup2(a.out_w, STDOUT_FILENO) < 0 || ::dup2(a.err_w, STDERR_FILENO) < 0) {
        f.err = errno;
    } else if (::getppid() != a.parent) {
        f = {"parent-gone", ESRCH};
    } else {
        f = (*a.main)();
    }
    WireFailure w{};
    for (size_t i = 0; i + 1 < sizeof w.stage && f.stage[i] != '\0'; ++i) {
        w.stage[i] = f.stage[i];
    }
    w.err = f.err;
    (void)!::write(a.fail_w, &w, sizeof w);
    ::_exit(125);
}

}  // namespace

Result<Outcome> run(const ChildMain& child, const Limits& limits) {
    Outcome out;
    const auto start = Clock::now();
    // Orphans of the request are re-parented to us, not to init, so the sweep can find them.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        return sys_error(ErrorCode::kExecFailed, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
    }
    int out_pipe[2];
    int err_pipe[2];
    int fail_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(fail_pipe, O_CLOEXEC) != 0) {
        return sys_error(ErrorCode::kExecFailed, "pipe2", errno);
    }
    // Larger pipes: fewer wake-ups per byte relayed (the default is 64 KiB). Best effort: the
    // per-user pipe quota may refuse it, and the default size still works.
    for (int fd : {out_pipe[0], err_pipe[0]}) {
        (void)::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(kBufferBytes * 4));
    }
    sigset_t mask;
    ::sigemptyset(&mask);
    for (int s : kSignals) {
        ::sigaddset(&mask, s);
    }
    sigset_t old_mask;
    // Signals become events on a signalfd; the child resets its mask before exec.
    if (::sigprocmask(SIG_BLOCK, &mask, &old_mask) != 0) {
        return sys_error(ErrorCode::kExecFailed, "sigprocmask", errno);
    }
    sys::UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd.valid()) {
        return sys_error(ErrorCode::kExecFailed, "signalfd", errno);
    }
    // The child shares our memory and we sleep until it has exec'd or exited (CLONE_VM |
    // CLONE_VFORK, as posix_spawn does): no page tables copied, no copy-on-write faults on either
    // side. It runs on its own stack; it has its own fd table, signal handlers, cwd and umask.
    ChildStart start_args{&child, out_pipe[1], err_pipe[1], fail_pipe[1], ::getpid()};
    void* stack = ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                         -1, 0);
    if (stack == MAP_FAILED) {
        return sys_error(ErrorCode::kExecFailed, "mmap(child stack)", errno);
    }
    const pid_t pid = ::clone(child_start, static_cast<char*>(stack) + kChildStackBytes,
                              CLONE_VM | CLONE_VFORK | SIGCHLD, &start_args);
    const int clone_errno = errno;
    ::munmap(stack, kChildStackBytes);  // the child has exec'd or exited: its stack is ours again
    if (pid < 0) {
        return sys_error(ErrorCode::kExecFailed, "clone", clone_errno);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ::close(fail_pipe[1]);
    sys::UniqueFd fail_rd(fail_pipe[0]);

    // EOF on fail_pipe: execveat succeeded (the write end was close-on-exec).
    WireFailure w{};
    ssize_t n;
    do {
        n = ::read(fail_rd.get(), &w, sizeof w);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof w)) {
        ::waitpid(pid, nullptr, 0);
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        sweep();
        w.stage[sizeof w.stage - 1] = '\0';
        return make_error(ErrorCode::kExecFailed, std::string("child stage ") + w.stage + ": " + std::strerror(w.err));
    }

    Relay relays[2];
    relays[0].from = sys::UniqueFd(out_pipe[0]);
    relays[0].to = STDOUT_FILENO;
    relays[0].stats = &out.out;
    relays[1].from = sys::UniqueFd(err_pipe[0]);
    relays[1].to = STDERR_FILENO;
    relays[1].stats = &out.err;

    const auto deadline = start + std::chrono::milliseconds(limits.timeout_ms);
    std::vector<char> buf(kBufferBytes);
    uint64_t total = 0;
    bool child_done = false;
    bool killed = false;
    auto kill_group = [&]() {
        if (!killed) {
            // The child is not reaped yet (at worst a zombie), so its pid cannot have been reused
            // as another process group's id.
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            killed = true;
        }
    };

    while (!child_done || relays[0].open || relays[1].open) {
        pollfd fds[5];
        nfds_t nfds = 0;
        int idx_relay[2] = {-1, -1};
        for (int i = 0; i < 2; ++i) {
            if (relays[i].open) {
                idx_relay[i] = static_cast<int>(nfds);
                fds[nfds++] = {relays[i].from.get(), POLLIN, 0};
            }
        }
        const int idx_sig = static_cast<int>(nfds);
        fds[nfds++] = {sigfd.get(), POLLIN, 0};
        // events = 0: only POLLERR/POLLHUP, i.e. sshd closed our side (client disconnected).
        const int idx_out = static_cast<int>(nfds);
        fds[nfds++] = {STDOUT_FILENO, 0, 0};
        const int idx_err = static_cast<int>(nfds);
        fds[nfds++] = {STDERR_FILENO, 0, 0};

        int timeout = -1;
        if (!killed) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            timeout = left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1000));
        } else if (child_done) {
            timeout = 200;  // only draining what is already in the pipes
        }
        const int ready = ::poll(fds, nfds, timeout);
        if (ready < 0 && errno != EINTR) {
            kill_group();
            break;
        }
        if (!killed && Clock::now() >= deadline) {
            out.timed_out = true;
            kill_group();
        }
        if (ready == 0 && killed && child_done) {
            break;  // a descendant we already killed kept a pipe open; nothing more will come
        }
        if ((fds[idx_out].revents | fds[idx_err].revents) & (POLLERR | POLLHUP)) {
            out.client_gone = true;
            kill_group();
        }
        if (fds[idx_sig].revents & POLLIN) {
            signalfd_siginfo si{};
            while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                if (si.ssi_signo == SIGCHLD) {
                    continue;
                }
                out.wrapper_signal = static_cast<int>(si.ssi_signo);
                kill_group();
            }
        }
        for (int i = 0; i < 2; ++i) {
            if (idx_relay[i] < 0 || !(fds[idx_relay[i]].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            Relay& r = relays[i];
            const ssize_t got = ::read(r.from.get(), buf.data(), buf.size());
            if (got <= 0) {
                if (got < 0 && errno == EINTR) {
                    continue;
                }
                r.open = false;
                continue;
            }
            size_t keep = static_cast<size_t>(got);
            if (total + keep > limits.output_cap) {
                keep = static_cast<size_t>(limits.output_cap - total);
                out.output_capped = true;
            }
            r.md.update(buf.data(), keep);
            r.stats->bytes += keep;
            total += keep;
            if (!out.client_gone && !write_all(r.to, buf.data(), keep)) {
                out.client_gone = true;  // EPIPE: the SSH connection is gone
                kill_group();
            }
            if (out.output_capped) {
                kill_group();
                r.open = false;
                relays[1 - i].open = false;
            }
        }
        if (!child_done) {
            siginfo_t info{};
            // WNOWAIT: learn that it ended without reaping it, so its pid stays reserved until the
            // group is killed.
            if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
                child_done = true;
                // Background descendants of the request: its process group, and anything already
                // re-parented to us. Then only what is in the pipes is drained.
                ::kill(-pid, SIGKILL);
                for (pid_t p : our_children()) {
                    if (p != pid) {
                        ::kill(p, SIGKILL);
                    }
                }
                killed = true;
            }
        }
    }
    // Reap the child itself, then everything that is left.
    int status = 0;
    while (::wait4(pid, &status, 0, &out.rusage) < 0 && errno == EINTR) {
    }
    out.swept = sweep();
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);

    for (auto& r : relays) {
        r.stats->sha256 = r.md.hex_digest();
    }
    out.duration_ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    if (WIFEXITED(status)) {
        out.exit_code = WEXITSTATUS(status);
        out.exit_status = out.exit_code;
    } else if (WIFSIGNALED(status)) {
        out.signal = WTERMSIG(status);
        out.exit_status = 128 + out.signal;
    }
    if (!out.client_gone) {
        if (out.timed_out) {
            sys::say("timeout: the command was killed after " + std::to_string(limits.timeout_ms) + " ms");
        }
        if (out.output_capped) {
            sys::say("output truncated: the command was killed at the output cap of " + std::to_string(limits.output_cap) +
                " bytes");
        }
    }
    return out;
}

}  // namespace diag::supervise
