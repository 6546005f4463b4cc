// SPDX-License-Identifier: Apache-2.0
// The supervisor in this process, with our stdout standing for the client: a pipe nobody reads,
// and a socket whose peer does not read any more.
#include "wrapper/confine/supervise.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/helpers/processes.h"
#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/confine/exec.h"
#include "wrapper/confine/relay.h"

namespace diag::supervise {
namespace {

using diag::testing::pids_with;

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// A client on our stdout (the fd the relay writes the child's stdout to) until restore(): a pipe,
// or a socket whose peer does not read any more.
class StdoutClient {
  public:
    enum class Kind { kPipe, kSocketNotRead };

    explicit StdoutClient(Kind kind) {
        std::fflush(stdout);
        int fds[2];
        const bool made = kind == Kind::kPipe ? ::pipe2(fds, O_CLOEXEC) == 0
                                              : ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0;
        if (!made || (kind == Kind::kSocketNotRead && ::shutdown(fds[0], SHUT_RD) != 0)) {
            return;
        }
        peer_ = fds[0];
        saved_ = ::dup(STDOUT_FILENO);
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[1]);
    }
    StdoutClient(const StdoutClient&) = delete;
    StdoutClient& operator=(const StdoutClient&) = delete;
    ~StdoutClient() {
        restore();
        if (peer_ >= 0) {
            ::close(peer_);
        }
    }

    [[nodiscard]] bool ok() const { return peer_ >= 0 && saved_ >= 0; }
    [[nodiscard]] int peer() const { return peer_; }
    // Before any assertion: gtest reports failures on stdout.
    void restore() {
        if (saved_ >= 0) {
            std::fflush(stdout);
            ::dup2(saved_, STDOUT_FILENO);
            ::close(saved_);
            saved_ = -1;
        }
    }

  private:
    int peer_ = -1;
    int saved_ = -1;
};

// An executable named `name` in $PATH (the Nix build sandbox has no /usr/bin), or "".
std::string in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
    for (size_t start = 0; start <= dirs.size();) {
        const size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::string candidate = dirs.substr(start, end - start) + "/" + name;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        start = end + 1;
    }
    return "";
}

// A child that prints `token` lines forever (yes(1)), in its own process group like the wrapper's
// child. The argv is built before the clone: the child shares our memory and must not allocate.
class Printer {
  public:
    explicit Printer(const std::string& token)
        : exe_(in_path("yes")), token_(token), argv_{exe_.c_str(), token_.c_str(), nullptr} {}

    [[nodiscard]] bool ok() const { return !exe_.empty(); }
    [[nodiscard]] ChildMain main() const {
        return [this]() -> ChildFailure {
            if (int e = exec::new_session()) return {"setsid", e};
            if (int e = exec::reset_signals()) return {"signals", e};
            ::execv(argv_[0], const_cast<char* const*>(argv_));
            return {"execv", errno};
        };
    }

  private:
    std::string exe_;
    std::string token_;
    const char* argv_[3];
};

std::string unique_token() {
    static int counter = 0;
    return "diag-supervise-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// Reads `fd` (set non-blocking) until `done`; blocks every signal first, so that the signals the
// supervisor waits for on its signalfd are not taken by this thread.
void drain_until(int fd, const std::atomic<bool>& done) {
    sigset_t all;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    char buf[65536];
    while (!done) {
        if (::read(fd, buf, sizeof buf) <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

// Does not read `fd` until `done`; if that takes more than 8 s, sets `rescued` and reads it until
// `done`: a supervisor blocked on the client then makes the test fail on time instead of hanging.
void rescue_after_8s(int fd, const std::atomic<bool>& done, std::atomic<bool>& rescued) {
    const auto t0 = Clock::now();
    while (!done && ms_since(t0) < 8000) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!done) {
        rescued = true;
        drain_until(fd, done);
    }
}

// Attack finding: `cat BIGFILE | sleep 600` held the request until the client quit, the wrapper
// and the command each blocked writing into a full pipe, far past the rule's timeout. Now the
// timeout covers the time spent waiting for the client: the command is killed at 1 s, what is
// left is dropped after the bounded drain, and nothing survives.
TEST(Supervise, ClientThatStopsReadingDoesNotHoldTheRequestPastItsTimeout) {
    const std::string token = unique_token();
    const Printer printer(token);
    if (!printer.ok()) {
        GTEST_SKIP() << "yes(1) is not in PATH";
    }
    const int stderr_flags = ::fcntl(STDERR_FILENO, F_GETFL);
    StdoutClient client(StdoutClient::Kind::kPipe);
    ASSERT_TRUE(client.ok());
    // Nobody reads the pipe. A supervisor blocked on it would never return, so after 8 s a
    // watchdog starts reading it: the test then fails on the time taken instead of hanging.
    std::atomic<bool> done{false};
    std::atomic<bool> rescued{false};
    std::thread watchdog([&] { rescue_after_8s(client.peer(), done, rescued); });
    const auto t0 = Clock::now();
    auto r = run(printer.main(), {1000, 64ULL << 20});
    const auto ms = ms_since(t0);
    done = true;
    watchdog.join();
    const int stdout_flags = ::fcntl(STDOUT_FILENO, F_GETFL);
    client.restore();

    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_FALSE(rescued) << "the supervisor returned only once the client read again";
    EXPECT_LT(ms, 6000) << "timeout 1000 ms, then the bounded drain";
    EXPECT_TRUE(r->timed_out);
    EXPECT_FALSE(r->client_gone);
    EXPECT_EQ(r->exit_status, 128 + SIGKILL);
    EXPECT_GT(r->out.bytes, 0u);
    EXPECT_EQ(pids_with(token), std::vector<pid_t>{}) << "the command survived its timeout";
    // The guard gave the fds back as it found them (the pipe was blocking, like the test's stderr).
    EXPECT_EQ(stdout_flags & O_NONBLOCK, 0);
    EXPECT_EQ(::fcntl(STDERR_FILENO, F_GETFL), stderr_flags);
}

// The same past the inline-hashing MiB, where the hasher thread hashes the relay's buffers: the
// client reads 3 MiB and stops. The request still ends at its timeout, and the digest is of
// exactly the bytes taken from the command (yes(1) prints whole copies of its line).
TEST(Supervise, ClientThatStopsReadingAfterSomeMiBEndsAtTheTimeoutWithTheDigestOfWhatWasTaken) {
    const std::string token = unique_token();
    const Printer printer(token);
    if (!printer.ok()) {
        GTEST_SKIP() << "yes(1) is not in PATH";
    }
    StdoutClient client(StdoutClient::Kind::kPipe);
    ASSERT_TRUE(client.ok());
    constexpr size_t kRead = 3u << 20;
    std::atomic<bool> done{false};
    std::atomic<bool> rescued{false};
    std::atomic<size_t> read_bytes{0};
    std::thread reader([&] {
        sigset_t all;
        ::sigfillset(&all);
        ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
        char buf[65536];
        while (read_bytes < kRead) {
            const ssize_t n = ::read(client.peer(), buf, std::min(sizeof buf, kRead - read_bytes));
            if (n <= 0) {
                break;
            }
            read_bytes += static_cast<size_t>(n);
        }
        rescue_after_8s(client.peer(), done, rescued);  // then stop reading (see above)
    });
    const auto t0 = Clock::now();
    auto r = run(printer.main(), {1500, 64ULL << 20});
    const auto ms = ms_since(t0);
    done = true;
    reader.join();
    client.restore();

    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_FALSE(rescued) << "the supervisor returned only once the client read again";
    EXPECT_LT(ms, 6500) << "timeout 1500 ms, then the bounded drain";
    EXPECT_TRUE(r->timed_out);
    EXPECT_EQ(read_bytes.load(), kRead);
    EXPECT_GE(r->out.delivered, kRead);
    EXPECT_LE(r->out.delivered, r->out.bytes);
    EXPECT_GT(r->out.bytes, relay::kInlineHashBytes);
    std::string printed;
    const std::string line = token + "\n";
    while (printed.size() < r->out.bytes) {
        printed += line;
    }
    printed.resize(r->out.bytes);
    EXPECT_EQ(r->out.sha256, sha256_hex(printed));
    EXPECT_EQ(pids_with(token), std::vector<pid_t>{}) << "the command survived its timeout";
}

// Attack finding: a write to a client that had hung up left a SIGPIPE pending behind the
// supervisor's mask, and restoring the mask delivered it: the process died before its end record.
// A socket whose peer no longer reads is a client that only the write flags (EPIPE: poll() shows
// nothing), so a SIGPIPE is raised here for sure. This test process does not ignore SIGPIPE: it
// lives only if run() discards what it caused before it restores the mask.
TEST(Supervise, ClientThatNoLongerReadsEndsTheRequestAndTheCallerLives) {
    const std::string token = unique_token();
    const Printer printer(token);
    if (!printer.ok()) {
        GTEST_SKIP() << "yes(1) is not in PATH";
    }
    StdoutClient client(StdoutClient::Kind::kSocketNotRead);
    ASSERT_TRUE(client.ok());
    const auto t0 = Clock::now();
    auto r = run(printer.main(), {10000, 64ULL << 20});
    const auto ms = ms_since(t0);
    client.restore();

    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_TRUE(r->client_gone);
    EXPECT_FALSE(r->timed_out);
    EXPECT_LT(ms, 5000) << "the gone client was not noticed before the 10 s timeout";
    EXPECT_EQ(r->exit_status, 128 + SIGKILL);
    EXPECT_EQ(pids_with(token), std::vector<pid_t>{}) << "the command survived";
}

// A hang-up that arrived while the request was decided (the wrapper holds it from the start) is
// already pending when the supervisor begins: the command must not start at all.
TEST(Supervise, ATerminatingSignalPendingBeforeTheStartKeepsTheCommandFromStarting) {
    sigset_t term;
    ::sigemptyset(&term);
    ::sigaddset(&term, SIGHUP);
    sigset_t old;
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &term, &old), 0);
    ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
    std::atomic<bool> ran{false};
    auto r = run(
        [&]() -> ChildFailure {
            ran = true;  // the child shares our memory until exec (CLONE_VM)
            return {"test", 0};
        },
        {10000, 1 << 20});
    sigset_t pending;
    ::sigpending(&pending);
    const bool still_pending = ::sigismember(&pending, SIGHUP) == 1;
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().msg.find("not started"), std::string::npos) << r.error().msg;
    EXPECT_NE(r.error().msg.find("SIGHUP"), std::string::npos) << r.error().msg;
    EXPECT_FALSE(ran.load());
    EXPECT_FALSE(still_pending) << "the signal was read off, not left to kill the caller";
}

}  // namespace
}  // namespace diag::supervise
