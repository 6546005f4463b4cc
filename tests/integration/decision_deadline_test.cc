// SPDX-License-Identifier: Apache-2.0
// The decision deadline (settings.decision_timeout): everything before the decision record is
// bounded, and what passes it is refused with a record where a record can be written.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/helpers/policies.h"
#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

class DecisionDeadline : public WrapperFixture {
  protected:
    // The standard policy with settings.decision_timeout set.
    std::string policy_with_deadline(const std::string& duration, const std::string& extra_deny = "") {
        std::string text = policy(policies::rules({"cat_paths"}), extra_deny);
        text.insert(text.find("[audit]"), "decision_timeout = \"" + duration + "\"\n");
        return write_policy(text);
    }
};

// Someone holding the audit file's lock (only root or another wrapper can) stalls the decision
// record: the wait ends at the deadline, nothing runs, and the client gets one line.
TEST_F(DecisionDeadline, AHeldAuditLockEndsTheRequestAtTheDeadline) {
    const auto p = policy_with_deadline("300ms");
    write(audit_, "", 0640);
    const int fd = ::open(audit_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_soc(p, "cat " + dir_ + "/pub/readme.txt");
    const auto took = std::chrono::steady_clock::now() - t0;
    ::close(fd);
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("flock("), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not obtained within"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    // Functional bound (the wait is 1 s at most here), generous for a loaded host: before, the
    // wrapper waited for the lock forever.
    EXPECT_LT(took, std::chrono::seconds(20));
    EXPECT_TRUE(audit_records().empty());  // the lock was never ours
}

// No record, no run, as an order in time: held up by the audit file's lock for half a second, the
// decision record still comes before the command, which, reading the audit file, finds its own
// decision record there (it would find nothing, had it started before the record was out).
TEST_F(DecisionDeadline, TheCommandStartsOnlyOnceItsDecisionIsRecorded) {
    const auto p = policy_with_deadline("10s");
    write(audit_, "", 0644);
    const int fd = ::open(audit_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    std::thread release([fd]() {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        ::close(fd);
    });
    auto r = run_soc(p, "cat " + audit_);
    release.join();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    const auto rec = nlohmann::json::parse(r.out);
    EXPECT_EQ(rec["event"]["action"], "decision");
    EXPECT_EQ(rec["process"]["command_line"], "cat " + audit_);
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[1]["event"]["action"], "end");
    EXPECT_EQ(recs[1]["diag"]["request_id"], rec["diag"]["request_id"]);
}

// Another local account (any service user can write in /tmp) builds a directory chain 1900 deep,
// with a symlink every 50 levels to the absolute path 50 levels further down, so one short
// argument makes the resolver walk ~40,000 components from the root. Returns the argument that
// reaches the file at the bottom, or "" when the chain could not be built.
std::string build_deep_chain(const std::string& base, uid_t owner) {
    constexpr int kDepth = 1900;
    constexpr int kStep = 50;
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setresgid(owner, owner, owner) != 0 || ::setresuid(owner, owner, owner) != 0) {
            ::_exit(1);
        }
        int fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        std::string here = base;
        for (int depth = 1; depth <= kDepth && fd >= 0; ++depth) {
            if (::mkdirat(fd, "d", 0755) != 0) {
                ::_exit(2);
            }
            const int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            ::close(fd);
            fd = next;
            here += "/d";
            if (depth % kStep == 0 && depth + kStep <= kDepth) {
                std::string target = here;
                for (int i = 0; i < kStep; ++i) {
                    target += "/d";
                }
                if (::symlinkat(target.c_str(), fd, "n") != 0) {
                    ::_exit(3);
                }
            }
        }
        const int f = fd < 0 ? -1 : ::openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ::_exit(f >= 0 && ::write(f, "bottom\n", 7) == 7 ? 0 : 4);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return "";
    }
    std::string arg = base;
    for (int i = 0; i < kStep; ++i) {
        arg += "/d";
    }
    for (int hop = kStep; hop + kStep <= kDepth; hop += kStep) {
        arg += "/n";
    }
    return arg + "/f";
}

TEST_F(DecisionDeadline, ADeepChainBuiltByAnotherAccountEndsInADecisionTimeoutWithARecord) {
    const std::string base = dir_ + "/other";
    ASSERT_EQ(::mkdir(base.c_str(), 0755), 0);
    ASSERT_EQ(::chown(base.c_str(), 4243, 4243), 0);
    const std::string arg = build_deep_chain(base, 4243);
    ASSERT_FALSE(arg.empty()) << "could not build the chain as uid 4243";
    // One such argument resolves (the chain is legitimate, if odd) ...
    const auto one = write_policy(policy(policies::rules({"cat_paths"})));
    auto r = run_soc(one, "cat " + arg);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "bottom\n");
    // ... and sixteen of them (as many files as may be handed over by fd) are more work than a
    // 100 ms decision may take: refused within a second or so of the deadline (the walk checks it
    // per component), with a record. Before, the wrapper walked them all first (seconds of CPU
    // per argument) and no record existed meanwhile.
    std::string request = "cat";
    for (int i = 0; i < 16; ++i) {
        request += " " + arg;
    }
    const auto p = policy_with_deadline("100ms");
    const auto t0 = std::chrono::steady_clock::now();
    r = run_process({"/usr/bin/timeout", "-s", "KILL", "60", DIAG_WRAPPER_BIN, "--policy", p},
                    {"SSH_ORIGINAL_COMMAND=" + request, "SSH_CONNECTION=192.0.2.7 50000 127.0.0.1 22"});
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    // A functional bound with room for a loaded CI host, not a speed target.
    EXPECT_LT(took.count(), 3000) << "the refusal came " << took.count() << " ms after the start";
    EXPECT_EQ(r.exit_code, 126) << r.err;
    EXPECT_EQ(r.err.rfind("diag-wrapper: denied: decision-timeout: the decision took longer than 100 ms", 0), 0u)
        << r.err;
    EXPECT_EQ(r.out, "");
    auto recs = audit_records();
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs.back()["diag"]["decision"], "deny");
    EXPECT_EQ(recs.back()["diag"]["reason"], "decision-timeout");
    EXPECT_EQ(recs.back()["event"]["action"], "decision");
}

// A deny entry that cannot be built is a policy error, now with a record of the request.
TEST_F(DecisionDeadline, DenyListFailuresAreRecorded) {
    const auto p = write_policy(policy(policies::rules({"cat_paths"}), ", \"/etc/../shadow\""));
    auto r = run_soc(p, "cat " + dir_ + "/pub/readme.txt");
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("diag-wrapper: error: policy: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("contains '.' or '..'"), std::string::npos) << r.err;
    auto recs = audit_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["diag"]["decision"], "error");
    EXPECT_NE(recs[0]["diag"]["message"].get<std::string>().find("'..'"), std::string::npos);
}

}  // namespace
}  // namespace diag::testing
