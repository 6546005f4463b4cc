// SPDX-License-Identifier: Apache-2.0
// supervise::run over a pipeline of children (no confinement: the plumbing, the outcomes and how a
// pipeline ends), with our stdout captured as the client.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/helpers/processes.h"
#include "wrapper/base/sys.h"
#include "wrapper/confine/child.h"
#include "wrapper/confine/confinement.h"
#include "wrapper/confine/env.h"
#include "wrapper/confine/exec.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/confine/supervise.h"
#include "wrapper/policy/deny_list.h"

namespace diag::supervise {
namespace {

using diag::testing::pids_with;

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// Our stdout (the relay's client side) goes to a pipe read by a thread until text().
class Captured {
  public:
    Captured() {
        std::fflush(stdout);
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            return;
        }
        saved_ = ::dup(STDOUT_FILENO);
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[1]);
        reader_ = std::thread([this, r = fds[0]] {
            // SIGCHLD must reach the supervisor's signalfd, not this thread.
            sigset_t all;
            ::sigfillset(&all);
            ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
            char buf[65536];
            ssize_t n;
            while ((n = ::read(r, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
                text_.append(buf, static_cast<size_t>(std::max<ssize_t>(n, 0)));
            }
            ::close(r);
        });
    }
    Captured(const Captured&) = delete;
    Captured& operator=(const Captured&) = delete;
    ~Captured() { (void)text(); }

    // Restores our stdout and returns what was written to it meanwhile.
    const std::string& text() {
        if (saved_ >= 0) {
            ::dup2(saved_, STDOUT_FILENO);
            ::close(saved_);
            saved_ = -1;
            reader_.join();
        }
        return text_;
    }

  private:
    int saved_ = -1;
    std::thread reader_;
    std::string text_;
};

// A stage running `sh -c script tag`: $0 is the tag, which also marks its processes in /proc. The
// argv is built before the clone: the child shares our memory and must not allocate.
class Sh {
  public:
    Sh(std::string script, std::string tag) : args_{"sh", "-c", std::move(script), std::move(tag)} {
        for (auto& a : args_) {
            argv_.push_back(a.data());
        }
        argv_.push_back(nullptr);
    }
    [[nodiscard]] ChildMain main() const {
        return [this]() -> ChildFailure {
            if (int e = exec::new_session()) return {"setsid", e};
            if (int e = exec::reset_signals()) return {"signals", e};
            ::execv("/bin/sh", argv_.data());
            return {"execv", errno};
        };
    }

  private:
    std::vector<std::string> args_;
    std::vector<char*> argv_;
};

std::string unique_tag() {
    static int counter = 0;
    return "diag-pipeline-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

class SupervisePipeline : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::access("/bin/sh", X_OK) != 0) {
            GTEST_SKIP() << "no /bin/sh";
        }
    }

    // Runs `scripts` as a pipeline; its stdout is in `out`.
    Result<Outcome> pipeline(const std::vector<std::string>& scripts, Limits limits = {20000, 1 << 20}) {
        std::vector<Sh> stages;
        stages.reserve(scripts.size());
        std::vector<ChildMain> mains;
        for (const auto& s : scripts) {
            mains.push_back(stages.emplace_back(s, tag).main());
        }
        Captured cap;
        auto r = run(mains, limits);
        out = cap.text();
        return r;
    }

    const std::string tag = unique_tag();
    std::string out;
};

TEST_F(SupervisePipeline, EachStageReadsThePreviousOneAndOnlyTheLastOneIsRelayed) {
    auto r = pipeline({"printf 'one\\ntwo\\nthree\\n'", "tr a-z A-Z", "grep -v TWO"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(out, "ONE\nTHREE\n");
    EXPECT_EQ(r->out.bytes, 10u);
    ASSERT_EQ(r->stages.size(), 3u);
    for (const auto& st : r->stages) {
        EXPECT_EQ(st.exit_code, 0);
        EXPECT_EQ(st.signal, 0);
    }
    // Every stage's stderr is relayed; what passes between the stages is not counted as output.
    r = pipeline({"head -c 300000 /dev/zero; echo e0 >&2", "wc -c; echo e1 >&2"}, {20000, 100});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(out, "300000\n");
    EXPECT_EQ(r->err.bytes, 6u);
    EXPECT_FALSE(r->output_capped);
}

TEST_F(SupervisePipeline, TheExitStatusIsTheLastStagesAndEachStageIsReported) {
    auto r = pipeline({"exit 4", "cat >/dev/null; exit 3"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(r->exit_status, 3);
    EXPECT_EQ(r->exit_code, 3);
    ASSERT_EQ(r->stages.size(), 2u);
    EXPECT_EQ(r->stages[0].exit_code, 4);
    EXPECT_EQ(r->stages[1].exit_code, 3);
    // A middle stage killed by a signal is reported as such; the pipeline's status is the last's.
    r = pipeline({"echo x", "kill -TERM $$", "cat"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    ASSERT_EQ(r->stages.size(), 3u);
    EXPECT_EQ(r->stages[1].signal, SIGTERM);
    EXPECT_EQ(r->stages[1].exit_code, -1);
    EXPECT_EQ(r->stages[2].exit_code, 0);
    EXPECT_EQ(r->exit_status, 0);
    // The last stage killed: 128 + signal, as a shell reports it.
    r = pipeline({"echo x", "kill -KILL $$"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(r->signal, SIGKILL);
    EXPECT_EQ(r->exit_status, 128 + SIGKILL);
}

// `yes | head -n 1`: the first stage writes forever; once the last one is gone it gets SIGPIPE
// (our copies of the pipe ends are closed), so the request ends at once, not at its timeout.
TEST_F(SupervisePipeline, AWriterWhoseReaderIsGoneEndsBySigpipe) {
    const auto t0 = Clock::now();
    auto r = pipeline({"while :; do echo y; done", "head -n 1"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_LT(ms_since(t0), 5000) << "the writer did not get SIGPIPE";
    EXPECT_EQ(out, "y\n");
    ASSERT_EQ(r->stages.size(), 2u);
    EXPECT_EQ(r->stages[0].signal, SIGPIPE);
    EXPECT_EQ(r->exit_status, 0);
    EXPECT_FALSE(r->timed_out);
}

// The reader sees EOF when the writer ends, even if the writer left a background process holding
// the pipe: a stage that ends takes its process group with it.
TEST_F(SupervisePipeline, AReaderSeesEofWhenTheWriterEndsEvenIfItLeftABackgroundProcess) {
    const auto t0 = Clock::now();
    auto r = pipeline({"(trap '' PIPE; while :; do sleep 0.1; done) & echo hi", "cat"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_LT(ms_since(t0), 5000) << "the background process held the pipe open";
    EXPECT_EQ(out, "hi\n");
    EXPECT_FALSE(r->timed_out);
    EXPECT_EQ(pids_with(tag), std::vector<pid_t>{});
}

// The timeout kills every stage and every descendant, also one that ignores SIGPIPE.
TEST_F(SupervisePipeline, TheTimeoutKillsEveryStageAndNothingSurvives) {
    const auto t0 = Clock::now();
    auto r = pipeline({"(trap '' PIPE; while :; do sleep 0.1; done) & while :; do sleep 0.1; done", "cat",
                       "trap '' PIPE; cat; sleep 100"},
                      {1000, 1 << 20});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_LT(ms_since(t0), 6000);
    EXPECT_TRUE(r->timed_out);
    ASSERT_EQ(r->stages.size(), 3u);
    for (const auto& st : r->stages) {
        EXPECT_EQ(st.signal, SIGKILL);
    }
    EXPECT_EQ(r->exit_status, 128 + SIGKILL);
    EXPECT_EQ(pids_with(tag), std::vector<pid_t>{}) << "a process of the pipeline survived";
}

// The cap is on what reaches the client: the last stage's stdout (and the stderr of all).
TEST_F(SupervisePipeline, TheOutputCapAppliesToTheLastStagesStdout) {
    auto r = pipeline({"while :; do echo y; done", "cat"}, {20000, 1000});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_TRUE(r->output_capped);
    EXPECT_EQ(r->out.bytes, 1000u);
    EXPECT_EQ(out.size(), 1000u);
    EXPECT_EQ(pids_with(tag), std::vector<pid_t>{});
}

// A stage that fails before exec fails the whole run; the stages started before it are killed and
// reaped, the ones after it never start.
TEST_F(SupervisePipeline, AStageThatFailsBeforeExecFailsTheRunAndLeavesNoProcess) {
    const Sh first("(trap '' PIPE; sleep 100) & sleep 100", tag);
    std::atomic<bool> third_ran{false};
    const std::vector<ChildMain> mains = {first.main(),
                                          []() {
                                              return ChildFailure{"test-step", EPERM};
                                          },
                                          [&]() {
                                              third_ran = true;  // the child shares our memory until exec (CLONE_VM)
                                              return ChildFailure{"never", 0};
                                          }};
    const auto t0 = Clock::now();
    auto r = run(mains, {20000, 1 << 20});
    ASSERT_FALSE(r.ok());
    EXPECT_LT(ms_since(t0), 5000);
    EXPECT_EQ(r.error().code, ErrorCode::kExecFailed);
    EXPECT_NE(r.error().msg.find("child stage test-step"), std::string::npos) << r.error().msg;
    EXPECT_FALSE(third_ran.load());
    EXPECT_EQ(pids_with(tag), std::vector<pid_t>{}) << "the first stage survived the failed start";
}

// The stages as the wrapper runs them: each prepared (exec::prepare), confined
// (confinement::build) and started by child::confine_and_exec.
class ConfinedPipeline : public ::testing::Test {
  protected:
    void SetUp() override {
        if (landlock::abi_version() < landlock::kMinAbi) {
            GTEST_SKIP() << "Landlock ABI " << landlock::abi_version() << " < " << landlock::kMinAbi;
        }
        auto deny = deny_list::build_deny({});
        ASSERT_TRUE(deny.ok()) << deny.error().msg;
        policy_.deny = std::move(deny).value();
    }

    // Adds a stage running `exe args...`; a filter gets the filter ruleset.
    void stage(const std::string& exe, const std::vector<std::string>& args, bool filter) {
        if (::access(exe.c_str(), X_OK) != 0) {
            GTEST_SKIP() << exe << " is not installed";
        }
        policy::Command& cmd = commands_.emplace_back();
        cmd.program = exe;
        cmd.exe_path = exe;
        struct stat st {};
        ASSERT_EQ(::stat(exe.c_str(), &st), 0);
        cmd.exe_dev = st.st_dev;
        cmd.exe_ino = st.st_ino;
        cmd.filter = filter;
        auto prep = exec::prepare(cmd, args, env::build({"/usr/bin", "/bin"}));
        ASSERT_TRUE(prep.ok()) << prep.error().msg;
        preps_.push_back(std::move(prep).value());
        auto c = confinement::build(policy_, cmd, preps_.back(), recs_.emplace_back());
        ASSERT_TRUE(c.ok()) << c.error().msg;
        confs_.push_back(std::move(c).value());
    }

    Result<Outcome> run_all() {
        const pid_t parent = ::getpid();
        std::vector<ChildMain> mains;
        for (size_t i = 0; i < preps_.size(); ++i) {
            mains.push_back([this, i, parent]() { return child::confine_and_exec(confs_[i], preps_[i], parent, 10); });
        }
        Captured cap;
        auto r = run(mains, {20000, 1 << 20});
        out = cap.text();
        return r;
    }

    policy::Policy policy_;
    std::deque<policy::Command> commands_;
    std::deque<exec::Prepared> preps_;
    std::deque<confinement::Confinement> confs_;
    std::deque<nlohmann::json> recs_;
    std::string out;
};

TEST_F(ConfinedPipeline, APrinterAndTwoFiltersRunConfined) {
    stage("/usr/bin/printf", {"one\\ntwo\\nthree\\n"}, false);
    stage("/usr/bin/tr", {"a-z", "A-Z"}, true);
    stage("/usr/bin/grep", {"-c", "T"}, true);
    auto r = run_all();
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(out, "2\n");
    ASSERT_EQ(r->stages.size(), 3u);
    EXPECT_EQ(r->exit_status, 0);
    EXPECT_FALSE(recs_[0]["diag"]["confinement"]["landlock"].contains("filter"));
    EXPECT_EQ(recs_[1]["diag"]["confinement"]["landlock"]["filter"], true);
    EXPECT_FALSE(recs_[2]["diag"]["confinement"]["landlock"]["files"].empty());
}

// The same probe opens a world-readable file as the first stage (the complement of the denylist)
// and as a filter: only the filter is refused.
class ConfinedProbe : public ConfinedPipeline {
  protected:
    void SetUp() override {
        ConfinedPipeline::SetUp();
        const int fd = ::mkstemp(path_);
        ASSERT_GE(fd, 0);
        ::fchmod(fd, 0644);
        ::close(fd);
    }
    void TearDown() override { ::unlink(path_); }
    char path_[64] = "/tmp/diag-filter-probe.XXXXXX";
};

TEST_F(ConfinedProbe, TheFirstStageCanOpenAWorldReadableFile) {
    stage(DIAG_OPEN_PROBE_BIN, {path_}, false);
    stage("/usr/bin/tr", {"x", "x"}, true);
    auto r = run_all();
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(out, "0\n");
}

TEST_F(ConfinedProbe, AFilterCannotOpenAWorldReadableFile) {
    stage("/usr/bin/printf", {""}, false);
    stage(DIAG_OPEN_PROBE_BIN, {path_}, true);
    auto r = run_all();
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(out, std::to_string(EACCES) + "\n");
    ASSERT_EQ(r->stages.size(), 2u);
    EXPECT_EQ(r->stages[1].exit_code, 0);
}

}  // namespace
}  // namespace diag::supervise
