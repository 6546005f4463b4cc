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
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
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

// One relayed stream: the child's pipe, our fd, a running SHA-256. Each chunk is read into our
// buffer and written on to `to`; the SHA-256 is computed here for the first MiB, then by a hasher
// thread that reads a copy of each chunk from the `side` pipe (adr/0006).
struct Relay {
    sys::UniqueFd from;
    int to = -1;
    Sha256 md;
    Stream* stats = nullptr;
    bool open = true;
    sys::UniqueFd side_r;  // the hasher's end
    sys::UniqueFd side_w;  // ours; closed when the stream ends, which ends the hasher's read
    bool hash_lost = false;  // the side pipe failed: the digest does not cover the stream
};

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

// A relay buffer that is not zero-filled: its pages are first touched by read(2), so a request
// that prints one line faults in one page, not all of them.
struct Buffer {
    std::unique_ptr<char[]> data{new char[kBufferBytes]};
    static constexpr size_t size() { return kBufferBytes; }
};

// The hasher thread: hashes what the relay copies into the side pipes until both reach EOF. A
// stream it cannot read any more is closed on its side, so the relay's next copy fails (EPIPE;
// SIGPIPE is blocked) instead of blocking on a full pipe, and that stream's digest is marked lost.
void hash_aside(Relay* relays) {
    Buffer buf;
    bool open[2] = {true, true};
    auto give_up = [&](int i) {
        relays[i].side_r = sys::UniqueFd();
        open[i] = false;
    };
    while (open[0] || open[1]) {
        pollfd fds[2];
        int which[2];
        nfds_t n = 0;
        for (int i = 0; i < 2; ++i) {
            if (open[i]) {
                which[n] = i;
                fds[n++] = {relays[i].side_r.get(), POLLIN, 0};
            }
        }
        if (::poll(fds, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            for (nfds_t k = 0; k < n; ++k) {
                give_up(which[k]);
            }
            return;
        }
        for (nfds_t k = 0; k < n; ++k) {
            if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            Relay& r = relays[which[k]];
            const ssize_t got = ::read(r.side_r.get(), buf.data.get(), buf.size());
            if (got > 0) {
                r.md.update(buf.data.get(), static_cast<size_t>(got));
            } else if (got == 0) {
                open[which[k]] = false;  // the relay closed its end: the stream is complete
            } else if (errno != EINTR) {
                give_up(which[k]);
            }
        }
    }
}

// Output up to this size is hashed inline by the relay: a thread costs more than hashing it.
constexpr uint64_t kInlineHashBytes = 1 << 20;

// Moves both relays to hashing beside the relay: side pipes, and a thread reading them. The
// relay thread stops touching the digests from here (thread start orders its earlier updates
// before the hasher's). Nothing changes (inline hashing goes on) if a pipe or the thread cannot
// be had. The child has exec'd: the thread never shares a fork.
std::optional<std::thread> start_hasher(Relay* relays) {
    int side[2][2];
    if (::pipe2(side[0], O_CLOEXEC) != 0) {
        return std::nullopt;
    }
    if (::pipe2(side[1], O_CLOEXEC) != 0) {
        ::close(side[0][0]);
        ::close(side[0][1]);
        return std::nullopt;
    }
    for (int i = 0; i < 2; ++i) {
        (void)::fcntl(side[i][0], F_SETPIPE_SZ, static_cast<int>(kBufferBytes * 4));
        relays[i].side_r = sys::UniqueFd(side[i][0]);
        relays[i].side_w = sys::UniqueFd(side[i][1]);
    }
    try {
        return std::optional<std::thread>(std::in_place, hash_aside, relays);
    } catch (const std::system_error&) {
        for (int i = 0; i < 2; ++i) {
            relays[i].side_r = sys::UniqueFd();
            relays[i].side_w = sys::UniqueFd();
        }
        return std::nullopt;
    }
}

// Moves up to `want` (> 0) bytes of `r.from` on to `r.to`, hashing them (inline, or through the
// side pipe). Returns the bytes taken from the child (0 at EOF, -1 on a read error). `to_failed`
// is set when `r.to` refuses data (the client is gone); the chunk is still taken and hashed, so
// the digest covers what the child printed. The bytes are read into our own buffer first, and
// what is delivered and what is hashed are that one private copy: pages the child put into its
// pipe by reference (vmsplice) could change between a zero-copy tee and the client's read.
ssize_t relay_chunk(Relay& r, Buffer& buf, size_t want, bool& to_failed) {
    const ssize_t got = ::read(r.from.get(), buf.data.get(), std::min(want, buf.size()));
    if (got <= 0) {
        return got;
    }
    const size_t n = static_cast<size_t>(got);
    if (r.side_w.valid()) {
        // The hasher's copy; blocks only while the hasher catches up.
        if (!write_all(r.side_w.get(), buf.data.get(), n)) {
            r.side_w = sys::UniqueFd();  // the hasher gave up on this stream (hash_aside)
            r.hash_lost = true;
        }
    } else if (!r.hash_lost) {
        r.md.update(buf.data.get(), n);
    }
    if (!to_failed && !write_all(r.to, buf.data.get(), n)) {
        to_failed = true;
    }
    return got;
}

constexpr int kSignals[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGPIPE};


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

Result<Outcome> run(const ChildMain& child, const Limits& limits, const Started& started) {
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
    if (started) {
        // The command runs now: nothing may unwind past the supervision below (no kill, no
        // sweep). A hook that throws has done nothing the caller relies on.
        try {
            started();
        } catch (...) {
        }
    }

    Relay relays[2];
    relays[0].from = sys::UniqueFd(out_pipe[0]);
    relays[0].to = STDOUT_FILENO;
    relays[0].stats = &out.out;
    relays[1].from = sys::UniqueFd(err_pipe[0]);
    relays[1].to = STDERR_FILENO;
    relays[1].stats = &out.err;
    // Small outputs are hashed inline; past kInlineHashBytes the digests are computed beside the
    // relay (start_hasher), so hashing is not on the path of the bytes.
    std::optional<std::thread> hasher;
    bool hasher_tried = false;

    const auto deadline = start + std::chrono::milliseconds(limits.timeout_ms);
    Buffer buf;
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
            if (total >= limits.output_cap) {
                // At the cap: one more byte means the child printed more than it may.
                char extra = 0;
                const ssize_t got = ::read(r.from.get(), &extra, 1);
                if (got < 0 && errno == EINTR) {
                    continue;
                }
                if (got <= 0) {
                    r.open = false;
                    continue;
                }
                out.output_capped = true;
                kill_group();
                r.open = false;
                relays[1 - i].open = false;
                continue;
            }
            bool to_failed = out.client_gone;
            const ssize_t got = relay_chunk(r, buf, static_cast<size_t>(limits.output_cap - total), to_failed);
            if (got <= 0) {
                if (got < 0 && errno == EINTR) {
                    continue;
                }
                r.open = false;
                continue;
            }
            r.stats->bytes += static_cast<uint64_t>(got);
            total += static_cast<uint64_t>(got);
            if (!hasher_tried && total >= kInlineHashBytes) {
                hasher_tried = true;
                hasher = start_hasher(relays);
            }
            if (to_failed && !out.client_gone) {
                out.client_gone = true;  // EPIPE: the SSH connection is gone
                kill_group();
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
    // End of the streams: the hasher reads to EOF and is joined before the digests are read.
    for (auto& r : relays) {
        r.side_w = sys::UniqueFd();
    }
    if (hasher) {
        hasher->join();
    }
    // Reap the child itself, then everything that is left.
    int status = 0;
    while (::wait4(pid, &status, 0, &out.rusage) < 0 && errno == EINTR) {
    }
    out.swept = sweep();
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);

    for (auto& r : relays) {
        // Empty when the hasher could not read the whole stream: no digest rather than a wrong one.
        r.stats->sha256 = r.hash_lost ? std::string() : r.md.hex_digest();
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
