// SPDX-License-Identifier: Apache-2.0
// The built binary with a client that misbehaves: its stdout is a pipe that nobody reads, or one
// whose reader hangs up. Whatever the client does, the request ends within its limits, nothing of
// it survives, and its end record is written.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

using Clock = std::chrono::steady_clock;

// `cat` with the default timeout and with a 1 s one; both may print far more than every buffer
// between the wrapper and a client.
const char* kCommands = R"toml(
[command.cat]
match = ["cat"]
description = "Print files"
output_cap = "64MiB"
[[command.cat.positional]]
type = "path"

[command.cat-1s]
match = ["cat-1s"]
program = "cat"
description = "Print files, within 1 s (test only)"
timeout = "1s"
output_cap = "64MiB"
[[command.cat-1s.positional]]
type = "path"

[command.cat-capped]
match = ["cat-capped"]
program = "cat"
description = "Print files, at most 1 MiB (test only)"
output_cap = "1MiB"
[[command.cat-capped.positional]]
type = "path"
)toml";

class Client : public WrapperFixture {
  protected:
    void SetUp() override {
        WrapperFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        big_ = dir_ + "/pub/big.bin";
        write(big_, "", 0644);
        ASSERT_EQ(::truncate(big_.c_str(), 48LL << 20), 0);
        policy_ = write_policy(policy(kCommands));
    }

    void TearDown() override {
        // A wrapper the test gave up on; its child dies with it (PR_SET_PDEATHSIG).
        if (wrapper_ > 0) {
            ::kill(wrapper_, SIGKILL);
            ::waitpid(wrapper_, nullptr, 0);
        }
        WrapperFixture::TearDown();
    }

    // Starts the wrapper as sshd would, with `out` and `err` as its stdout and stderr (-1: a file
    // in the fixture directory); closes both here, so the wrapper holds the only copies.
    void start(const std::string& request, int out, int err = -1) {
        if (err < 0) {
            err = ::open(err_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        }
        wrapper_ = ::fork();
        if (wrapper_ == 0) {
            const int in = ::open("/dev/null", O_RDONLY);
            if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
                ::_exit(127);
            }
            const std::string soc = "SSH_ORIGINAL_COMMAND=" + request;
            const char* argv[] = {DIAG_WRAPPER_BIN, "--policy", policy_.c_str(), nullptr};
            const char* envp[] = {soc.c_str(), "SSH_CONNECTION=192.0.2.7 50000 127.0.0.1 22", nullptr};
            ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
            ::_exit(127);
        }
        ::close(out);
        ::close(err);
    }

    std::string err_path() const { return dir_ + "/err"; }

    // The wrapper's exit status (128+N for a signal), or -1 if it had not exited after
    // `timeout_ms` (it is then killed by TearDown).
    int wait(int timeout_ms) {
        const auto t0 = Clock::now();
        while (Clock::now() - t0 < std::chrono::milliseconds(timeout_ms)) {
            int st = 0;
            if (::waitpid(wrapper_, &st, WNOHANG) == wrapper_) {
                wrapper_ = -1;
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return -1;
    }

    // The last end record, or null.
    nlohmann::json end_record() const {
        nlohmann::json out;
        for (auto& rec : audit_records()) {
            if (rec["event"]["action"] == "end") {
                out = std::move(rec);
            }
        }
        return out;
    }

    std::string big_;
    std::string policy_;
    pid_t wrapper_ = -1;
};

// Attack finding: a client that hung up near the output cap lost the end record 7 times in 20;
// the wrapper died by the SIGPIPE its failed write had left pending. Here the client hangs up
// before the first byte, and while the wrapper has output waiting for it.
TEST_F(Client, HungUpBeforeOrDuringTheOutputGetsAnEndRecord) {
    for (const int hang_up_after_ms : {0, 500}) {
        SCOPED_TRACE(hang_up_after_ms);
        int out[2];
        ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
        if (hang_up_after_ms == 0) {
            ::close(out[0]);
        }
        start("cat " + big_, out[1]);
        if (hang_up_after_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(hang_up_after_ms));  // the pipe is full
            ::close(out[0]);
        }
        const int status = wait(10000);
        EXPECT_NE(status, -1) << "the wrapper did not end";
        EXPECT_EQ(status, 128 + SIGKILL) << "128+13 is SIGPIPE";
        const auto end = end_record();
        ASSERT_FALSE(end.is_null()) << "no end record";
        EXPECT_EQ(end["diag"]["result"]["client_gone"], true) << end.dump();
        EXPECT_EQ(end["diag"]["result"]["exit_status"], 128 + SIGKILL) << end.dump();
        EXPECT_EQ(pids_with(big_), std::vector<pid_t>{}) << "cat survived the hang-up";
        std::filesystem::remove(audit_);
    }
}

// Attack finding: the "output truncated" line went to the client before the end record was
// written, and a stderr whose reader had gone raised SIGPIPE, which killed the wrapper: no end
// record. A socket whose peer no longer reads is such a stderr that poll() does not flag (no
// POLLERR/POLLHUP): only the write tells. The record comes first now, and the line is dropped.
TEST_F(Client, StderrThatNoLongerReadsDoesNotCostTheEndRecord) {
    int err[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err), 0);
    ASSERT_EQ(::shutdown(err[1], SHUT_RD), 0);
    start("cat-capped " + big_, ::open("/dev/null", O_WRONLY | O_CLOEXEC), err[0]);
    const int status = wait(10000);
    ::close(err[1]);
    EXPECT_NE(status, -1) << "the wrapper did not end";
    EXPECT_EQ(status, 128 + SIGKILL) << "128+13 is SIGPIPE";
    const auto end = end_record();
    ASSERT_FALSE(end.is_null()) << "no end record";
    EXPECT_EQ(end["diag"]["result"]["output_capped"], true) << end.dump();
    EXPECT_EQ(end["diag"]["result"]["stdout"]["bytes"], 1 << 20) << end.dump();
}

// Attack finding: `cat BIGFILE | sleep 600` with a 30 s timeout was still running after 49 s,
// the wrapper blocked writing to the client. The timeout covers delivery: the command is killed at
// 1 s, the rest is given up after the bounded drain, and the client that can take the stderr line
// (here a file) gets it.
TEST_F(Client, ThatStopsReadingIsHeldToTheTimeout) {
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    const auto t0 = Clock::now();
    start("cat-1s " + big_, out[1]);
    const int status = wait(8000);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    ::close(out[0]);  // never read
    ASSERT_NE(status, -1) << "the wrapper was still running after 8 s (timeout 1 s)";
    EXPECT_LT(ms, 6000);
    EXPECT_EQ(status, 128 + SIGKILL);
    EXPECT_EQ(pids_with(big_), std::vector<pid_t>{}) << "cat survived the timeout";
    std::ifstream in(err_path());
    const std::string err_text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(err_text.rfind("diag-wrapper: timeout: ", 0), 0u) << err_text;
    EXPECT_EQ(std::count(err_text.begin(), err_text.end(), '\n'), 1) << err_text;
    const auto end = end_record();
    ASSERT_FALSE(end.is_null()) << "no end record";
    const auto& res = end["diag"]["result"];
    EXPECT_EQ(res["timed_out"], true) << end.dump();
    EXPECT_EQ(res["client_gone"], false) << end.dump();
    EXPECT_EQ(res["signal"], SIGKILL) << end.dump();
    // What the command printed is counted; what reached the client is the part the pipe took.
    EXPECT_GT(res["stdout"]["bytes"].get<uint64_t>(), 0u) << end.dump();
    EXPECT_LT(res["stdout"]["delivered"].get<uint64_t>(), res["stdout"]["bytes"].get<uint64_t>()) << end.dump();
}

// The listing goes to the client too: one that does not read it holds the request no longer than
// the policy's default timeout. The policy here lists far more than a pipe holds.
TEST_F(Client, ThatDoesNotReadTheListingIsHeldToTheDefaultTimeout) {
    std::string rules;
    for (int i = 0; i < 400; ++i) {
        rules += "\n[command.c" + std::to_string(i) + "]\nmatch = [\"c" + std::to_string(i) +
                 "\"]\nprogram = \"cat\"\ndescription = \"" + std::string(200, 'x') + "\"\n";
    }
    std::string text = policy(kCommands + rules);
    text.insert(text.find("[audit]"), "timeout = \"1s\"\n");
    policy_ = write_policy(text);
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    const auto t0 = Clock::now();
    start("help", out[1]);
    const int status = wait(8000);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    ::close(out[0]);  // never read
    ASSERT_NE(status, -1) << "the wrapper was still writing the listing after 8 s (default timeout 1 s)";
    EXPECT_LT(ms, 6000);
    EXPECT_EQ(status, 0);
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["diag"]["reason"], "help");
}

}  // namespace
}  // namespace diag::testing
