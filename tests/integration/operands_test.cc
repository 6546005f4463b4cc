// SPDX-License-Identifier: Apache-2.0
// Rules that read only their path operands (reads = "operands", adr/0023), through the built
// binary: the child reaches its checked operands and nothing else, even a program that tries to
// open a world-readable file its arguments never named; a request that reads a tree gets the
// complement of the denylist; the shipped file readers run under it.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/integration/default_policy.h"
#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

// The Landlock description of the last decision record that has one.
nlohmann::json last_landlock(const std::vector<nlohmann::json>& recs) {
    for (auto it = recs.rbegin(); it != recs.rend(); ++it) {
        const auto& diag = (*it)["diag"];
        if (diag.contains("confinement")) {
            return diag["confinement"]["landlock"];
        }
    }
    return nlohmann::json();
}

// open_probe opens its one argument and prints 0 or the errno. As a path operand the argument is
// checked and granted; as a string the wrapper never looks at it, as a tool's own reads beyond
// its operands (a config file, an exploited parser) are never looked at.
const char* kProbes = R"toml(
[command.probe-path]
match = ["probe-path"]
program = "open_probe"
reads = "operands"
end_of_options = false
description = "Opens its path operand (test only)"
positional = [{ type = "path", min = 1, max = 1 }]

[command.probe-string]
match = ["probe-string"]
program = "open_probe"
reads = "operands"
end_of_options = false
description = "Opens a path it was given as a string (test only)"
positional = [{ type = "string", min = 1, max = 1 }]

[command.probe-string-fs]
match = ["probe-string-fs"]
program = "open_probe"
end_of_options = false
description = "The same, reading the file system outside the denylist (test only)"
positional = [{ type = "string", min = 1, max = 1 }]
)toml";

class Operands : public WrapperFixture {
  protected:
    void SetUp() override {
        WrapperFixture::SetUp();
        if (IsSkipped()) {
            return;
        }
        if (::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U) < 3) {
            GTEST_SKIP() << "needs Landlock ABI >= 3";
        }
    }

    nlohmann::json landlock() { return last_landlock(audit_records()); }
};

TEST_F(Operands, TheOperandIsReadAndNothingElse) {
    const std::string p = policy_with_program(DIAG_OPEN_PROBE_BIN, kProbes);
    const std::string readme = dir_ + "/pub/readme.txt";
    auto r = run_soc(p, "probe-path " + readme);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "0\n");
    EXPECT_EQ(landlock()["scope"], "operands") << landlock().dump();
    EXPECT_EQ(landlock()["operands"], 1);
    // The same world-readable file, a system file and the process's own environment: the kernel
    // refuses each to a program that reads only its operands ...
    for (const std::string& target : {readme, std::string("/etc/passwd"), std::string("/proc/self/status")}) {
        r = run_soc(p, "probe-string " + target);
        EXPECT_EQ(r.exit_code, 0) << target << ": " << r.err;
        EXPECT_EQ(r.out, std::to_string(EACCES) + "\n") << target;
    }
    // ... and lets the one outside the denylist through to a rule that reads the file system.
    r = run_soc(p, "probe-string-fs " + readme);
    EXPECT_EQ(r.out, "0\n") << r.err;
    EXPECT_EQ(landlock()["scope"], "filesystem") << landlock().dump();
}

// The denylist still decides first: a denied operand is refused before anything runs.
TEST_F(Operands, ADeniedOperandIsRefusedBeforeAnythingRuns) {
    const std::string p = policy_with_program(DIAG_OPEN_PROBE_BIN, kProbes);
    auto r = run_soc(p, "probe-path " + dir_ + "/secret/canary.txt");
    EXPECT_EQ(r.exit_code, 126) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("path-denied"), std::string::npos) << r.err;
}

TEST_F(DefaultPolicy, FileReadersReadOnlyTheirOperandsATreeReadsTheFileSystem) {
    if (::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U) < 3) {
        GTEST_SKIP() << "needs Landlock ABI >= 3";
    }
    const std::string readme = dir_ + "/pub/readme.txt";
    auto scope = [&](const std::string& request) {
        auto r = run_soc(policy_, request);
        EXPECT_EQ(r.exit_code, 0) << request << ": " << r.err;
        return last_landlock(audit_records())["scope"];
    };
    for (const std::string& req : {"cat " + readme, "head -n 1 " + readme, "tail -n 1 " + readme, "wc -l " + readme,
                                   "sha256sum " + readme, "grep -c . " + readme, "readlink -f " + readme}) {
        EXPECT_EQ(scope(req), "operands") << req;
    }
    EXPECT_EQ(scope("grep -rc . " + dir_ + "/pub"), "filesystem");
    EXPECT_EQ(scope("ls " + dir_ + "/pub"), "filesystem");
}

// /proc/self names the wrapper when path_resolve checks it and the child when the child opens it:
// the checked object is not the one the child reaches (/proc/mounts and /proc/net lead there too),
// so such a request reads under the complement, where the child's own /proc is readable.
TEST_F(DefaultPolicy, FileReadersStillReadTheirOwnProcSelf) {
    if (::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U) < 3) {
        GTEST_SKIP() << "needs Landlock ABI >= 3";
    }
    for (const std::string& req :
         {std::string("cat /proc/mounts"), std::string("head -n 1 /proc/net/dev"),
          std::string("grep -c . /proc/self/status"), std::string("wc -l /proc/thread-self/stat")}) {
        auto r = run_soc(policy_, req);
        EXPECT_EQ(r.exit_code, 0) << req << ": " << r.err;
        EXPECT_FALSE(r.out.empty()) << req;
        EXPECT_EQ(last_landlock(audit_records())["scope"], "filesystem") << req;
    }
    // A /proc file of another process is the same object for both: it keeps the narrow ruleset.
    auto r = run_soc(policy_, "head -n 1 /proc/1/status");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(last_landlock(audit_records())["scope"], "operands");
}

}  // namespace
}  // namespace diag::testing
