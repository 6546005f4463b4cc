// SPDX-License-Identifier: Apache-2.0
// Pipelines and globs through the built wrapper (adr/0013, adr/0014): what an on-call agent types
// works through the shipped policy, every stage is confined and recorded, a pipeline ends whole,
// and what a shell would make of `|` and globs stays refused.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/helpers/policies.h"
#include "tests/integration/default_policy.h"

namespace diag::testing {
namespace {

// A refusal of any reason: exit 126, one "denied:" line, nothing on stdout.
#define EXPECT_REFUSED(request)                                                             \
    do {                                                                                    \
        const RunResult refused_r_ = run_soc(policy_, (request));                           \
        EXPECT_EQ(refused_r_.exit_code, 126) << (request) << "\n" << refused_r_.err;        \
        EXPECT_EQ(refused_r_.err.rfind("diag-wrapper: denied: ", 0), 0U) << refused_r_.err; \
        EXPECT_EQ(refused_r_.out, "") << (request);                                         \
    } while (0)

using Pipelines = DefaultPolicy;

TEST_F(Pipelines, ThreeStageJournalPipeline) {
    const std::string unit = "diagpipe" + std::to_string(::getpid()) + ".service";
    const TestJournal journal = write_test_journal(unit, "upstream ERROR from the test journal");
    if (journal.path.empty()) {
        GTEST_SKIP() << journal.skip;
    }
    auto r = run_soc(policy_, "journalctl -u " + unit + " --no-pager | grep -i error | head -n 1");
    std::filesystem::remove(journal.path);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("upstream ERROR from the test journal"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    // The decision names every stage; the end record says how each ended.
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 2U);
    const auto& stages = recs[0]["diag"]["pipeline"];
    ASSERT_EQ(stages.size(), 3U) << recs[0].dump();
    EXPECT_EQ(stages[0]["rule"], "journalctl");
    EXPECT_EQ(stages[1]["argv"], nlohmann::json::array({"grep", "-i", "error"}));
    EXPECT_EQ(stages[2]["argv"], nlohmann::json::array({"head", "-n", "1"}));
    for (size_t i = 1; i < 3; ++i) {
        EXPECT_EQ(stages[i]["confinement"]["landlock"]["filter"], true) << stages[i].dump();
    }
    const auto& ended = recs[1]["diag"]["pipeline"];
    ASSERT_EQ(ended.size(), 3U) << recs[1].dump();
    EXPECT_EQ(ended[2]["exit_code"], 0);
    EXPECT_EQ(ended[1]["rule"], stages[1]["rule"]);
    EXPECT_EQ(recs[0]["diag"]["argv"].size(), 12U) << "the words of every stage, '|' between them";
}

TEST_F(Pipelines, AgentPipelinesWork) {
    expect_works("ps aux | grep -i pid", "PID");
    expect_works("ps -eo pid,comm | head -n 3 | wc -l", "^3\\n$");
    expect_works("cat /etc/passwd | cut -d: -f1 | sort | uniq -c", "root");
    expect_works("cat /etc/passwd | cut -d: -f7 | sort -r", "sh");
    expect_works("ss -tln | tr -s ' ' | tail -n 1", ".");
    // A filter has no temporary directory: sort holds what it sorts in memory (-S for more).
    std::string lines;
    for (int i = 0; i < 400000; ++i) {
        lines += std::to_string(static_cast<long long>(i) * 7919 % 400000) + "\n";
    }
    write(dir_ + "/pub/many.txt", lines, 0644);
    expect_works("cat " + dir_ + "/pub/many.txt | sort -n -S 64M | tail -n 1", "^399999\n$");
}

TEST_F(Pipelines, ExitStatusIsTheLastStages) {
    auto r = run_soc(policy_, "uname -a | grep -c zzzz-not-in-uname");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "0\n");
}

TEST_F(Pipelines, WhatAShellWouldRunIsRefused) {
    EXPECT_REFUSED("ps aux | sh");
    EXPECT_REFUSED("ps aux | bash -c id");
    EXPECT_REFUSED("ps aux | tee " + dir_ + "/pub/teed");
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/pub/teed"));
    EXPECT_REFUSED("ps aux | xargs id");
    EXPECT_REFUSED("ps aux | awk '{print}'");
    EXPECT_REFUSED("ps aux | sed -n 1p");
    EXPECT_DENIED(run_soc(policy_, "ps aux || id"), "pipe-syntax");
    EXPECT_DENIED(run_soc(policy_, "ps aux |& grep x"), "pipe-syntax");
    EXPECT_DENIED(run_soc(policy_, "ps aux |"), "pipe-syntax");
    EXPECT_DENIED(run_soc(policy_, "| grep x"), "pipe-syntax");
    EXPECT_DENIED(run_soc(policy_, "ps aux | | grep x"), "pipe-syntax");
    EXPECT_DENIED(run_soc(policy_, "ps aux | head -n 9 | tail -n 8 | wc -l | sort"), "pipe-limit");
    EXPECT_DENIED(run_soc(policy_, "ps aux | cat /etc/hostname"), "pipe-stage");
    // Filters with a file to read, write or run.
    EXPECT_REFUSED("ps aux | grep root /etc/passwd");
    EXPECT_REFUSED("ps aux | grep -f " + dir_ + "/secret/canary.txt");
    EXPECT_REFUSED("ps aux | grep -r " + canary_ + " " + dir_);
    EXPECT_REFUSED("ps aux | sort --compress-program=sh");
    EXPECT_REFUSED("ps aux | sort -o " + dir_ + "/pub/sorted");
    EXPECT_REFUSED("ps aux | sort -T /tmp");
    EXPECT_REFUSED("ps aux | sort --files0-from=" + dir_ + "/secret/canary.txt");
    EXPECT_REFUSED("ps aux | uniq - " + dir_ + "/pub/uniq-out");
    EXPECT_REFUSED("ps aux | tail -f");
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/pub/sorted"));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/pub/uniq-out"));
    // A denied path in the first stage refuses the whole pipeline; nothing runs, nothing leaks.
    EXPECT_DENIED(run_soc(policy_, "cat " + dir_ + "/secret/canary.txt | head -n 1"), "path-denied");
    EXPECT_DENIED(run_soc(policy_, "help | grep cat"), "pipe-stage");
    // Only the decision records: nothing ran.
    for (const auto& rec : audit_records()) {
        EXPECT_EQ(rec["diag"]["decision"], "deny") << rec.dump();
    }
}

TEST_F(Pipelines, GlobsExpandOnlyInPathsAndWithholdDeniedMatches) {
    write(dir_ + "/pub/a.log", "log-a\n", 0644);
    write(dir_ + "/pub/b.log", "log-b\n", 0644);
    write(dir_ + "/pub/.hidden.log", "log-hidden\n", 0644);
    // Byte order, no leading dot.
    auto r = run_soc(policy_, "cat " + dir_ + "/pub/*.log");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "log-a\nlog-b\n");
    expect_works("cat " + dir_ + "/pub/?.log | wc -l", "^2\\n$");
    expect_works("cat " + dir_ + "/pub/[a]*.log", "^log-a\\n$");
    // A denied match is withheld: the others run, one note line names it, the record lists it.
    r = run_soc(policy_, "ls -d " + dir_ + "/*");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(dir_ + "/pub"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(dir_ + "/secret"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.rfind("diag-wrapper: note: ", 0), 0U) << r.err;
    EXPECT_NE(r.err.find("/secret"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
    EXPECT_EQ(r.err.find(canary_), std::string::npos);
    const auto recs = audit_records();
    ASSERT_GE(recs.size(), 1U);
    const auto& withheld = recs[recs.size() - 2]["diag"]["withheld"];
    ASSERT_EQ(withheld.size(), 1U) << recs[recs.size() - 2].dump();
    EXPECT_EQ(withheld[0]["path"], dir_ + "/secret");
    // du over every entry of a directory holding a denied one: sizes of the others only.
    r = run_soc(policy_, "du -sh " + dir_ + "/*");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(dir_ + "/pub"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.rfind("diag-wrapper: note: 1 match withheld", 0), 0U) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    // Listing a denied directory is refused; a pattern whose every match is denied too.
    EXPECT_DENIED(run_soc(policy_, "cat " + dir_ + "/secret/*"), "path-denied");
    EXPECT_DENIED(run_soc(policy_, "cat " + dir_ + "/secre?/canary.txt"), "path-denied");
    EXPECT_DENIED(run_soc(policy_, "cat /etc/shado?"), "path-denied");
    EXPECT_DENIED(run_soc(policy_, "cat " + dir_ + "/pub/*.nothing"), "glob-no-match");
    // Quoted, a glob character is a literal byte of the name.
    EXPECT_DENIED(run_soc(policy_, "cat '" + dir_ + "/pub/*.log'"), "path-not-found");
    // Patterns pass literally where the rule types a pattern.
    expect_works("find " + dir_ + "/pub -name *.log", "a\\.log");
    // A match the program would read as an option is refused (relative patterns start at "/").
    const std::string dash = "/-diagglob" + std::to_string(::getpid());
    write(dash, "x\n", 0644);
    auto dashed = run_soc(policy_, "ls -l [-]diagglob" + std::to_string(::getpid()));
    std::filesystem::remove(dash);
    EXPECT_DENIED(dashed, "dash-positional");
    // Anywhere else a glob character stays a shell metacharacter.
    EXPECT_DENIED(run_soc(policy_, "head -n 1* " + dir_ + "/pub/a.log"), "parse-metachar");
    EXPECT_DENIED(run_soc(policy_, "ca* " + dir_ + "/pub/a.log"), "parse-metachar");
    EXPECT_DENIED(run_soc(policy_, "cat ~/x"), "parse-metachar");
    EXPECT_DENIED(run_soc(policy_, "cat " + dir_ + "/pub/{a,b}.log"), "parse-metachar");
}

// Rules of these tests: a command that outlives its timeout, and a filter to pipe it into.
const char* kSlow = R"toml(
[command.sleep]
match = ["sleep"]
program = "sleep"
timeout = "1s"
description = "Sleeps (test only)"
positional = [{ type = "int", min = 1, max = 1 }]

[command.tr-filter]
match = ["tr"]
program = "tr"
filter = true
description = "Translates characters (test only)"
positional = [{ type = "string", min = 1, max = 2 }]
)toml";

using PipelineLimits = WrapperFixture;

TEST_F(PipelineLimits, TimeoutKillsEveryStageAndNothingSurvives) {
    const std::string p = write_policy(policy(kSlow));
    const std::string token = std::to_string(40000 + ::getpid() % 10000);
    const auto start = std::chrono::steady_clock::now();
    auto r = run_soc(p, "sleep " + token + " | tr a b | tr b c");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;
    EXPECT_LT(took, std::chrono::seconds(5));
    EXPECT_TRUE(pids_with(token).empty());
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 2U);
    EXPECT_EQ(recs[1]["diag"]["result"]["timed_out"], true);
    const auto& stages = recs[1]["diag"]["pipeline"];
    ASSERT_EQ(stages.size(), 3U) << recs[1].dump();
    EXPECT_EQ(stages[0]["signal"], 9) << recs[1].dump();
}

// A program that tries to open the file it is given, registered as a filter and as a first command.
const char* kProbe = R"toml(
[command.open-probe]
match = ["open-probe"]
program = "open_probe"
filter = true
end_of_options = false
description = "Tries to open a file and prints the errno (test only)"
positional = [{ type = "string", min = 1, max = 1 }]

[command.open-probe-first]
match = ["open-probe-first"]
program = "open_probe"
end_of_options = false
description = "The same program as a first command (test only)"
positional = [{ type = "string", min = 1, max = 1 }]
)toml";

TEST_F(PipelineLimits, AFilterCannotOpenAFileEvenWhenItTries) {
    if (::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U) < 3) {
        GTEST_SKIP() << "needs Landlock ABI >= 3";
    }
    const std::string p = policy_with_program(DIAG_OPEN_PROBE_BIN, kProbe);
    const std::string readme = dir_ + "/pub/readme.txt";
    // As a first command it reads the world-readable file: the file is there to be read ...
    auto first = run_soc(p, "open-probe-first " + readme);
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(first.out, "0\n");
    // ... as a filter the kernel refuses it: no file system access beyond its own binary.
    for (const std::string& target : {readme, std::string("/etc/passwd"), std::string("/proc/self/environ")}) {
        auto r = run_soc(p, "cat " + readme + " | open-probe " + target);
        EXPECT_EQ(r.exit_code, 0) << target << ": " << r.err;
        EXPECT_EQ(r.out, std::to_string(EACCES) + "\n") << target;
    }
    const auto recs = audit_records();
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs.back()["diag"]["pipeline"][1]["rule"], "open-probe") << recs.back().dump();
}

// try_syscall registered as a filter and as a first command: what a filter's seccomp refuses.
const char* kTry = R"toml(
[command.try-filter]
match = ["try-filter"]
program = "try_syscall"
filter = true
end_of_options = false
description = "Tries one operation, exits with its errno (test only)"
positional = [{ type = "enum", values = ["socket-unix", "socketpair", "socket-inet", "vmsplice"], min = 1, max = 1 }]

[command.try-first]
match = ["try-first"]
program = "try_syscall"
end_of_options = false
description = "The same program as a first command (test only)"
positional = [{ type = "enum", values = ["socket-unix", "socketpair", "vmsplice"], min = 1, max = 1 }]
)toml";

TEST_F(PipelineLimits, AFilterGetsNoSocketOfAnyFamily) {
    const std::string p = policy_with_program(DIAG_TRY_SYSCALL_BIN, kTry);
    // A first command may talk to local services over a Unix socket (systemctl does) ...
    EXPECT_EQ(run_soc(p, "try-first socket-unix").exit_code, 0);
    EXPECT_EQ(run_soc(p, "try-first socketpair").exit_code, 0);
    // ... a filter reads only its stdin: no socket at all.
    for (const char* op : {"socket-unix", "socketpair"}) {
        auto r = run_soc(p, "cat " + dir_ + "/pub/readme.txt | try-filter " + op);
        EXPECT_EQ(r.exit_code, EACCES) << op << ": " << r.err;
    }
    // (Internet sockets were refused before, by family: EAFNOSUPPORT.)
    EXPECT_EQ(run_soc(p, "cat " + dir_ + "/pub/readme.txt | try-filter socket-inet").exit_code, EAFNOSUPPORT);
}

// No stage puts pages of its own memory into a pipe by reference (adr/0022): neither a first
// command nor a filter.
TEST_F(PipelineLimits, NoStageMayVmsplice) {
    const std::string p = policy_with_program(DIAG_TRY_SYSCALL_BIN, kTry);
    EXPECT_EQ(run_soc(p, "try-first vmsplice").exit_code, EPERM);
    EXPECT_EQ(run_soc(p, "cat " + dir_ + "/pub/readme.txt | try-filter vmsplice").exit_code, EPERM);
}

}  // namespace
}  // namespace diag::testing
