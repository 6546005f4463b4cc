// SPDX-License-Identifier: Apache-2.0
// The shipped policy/default.toml under full confinement on this machine: the probes an on-call
// agent types still work, and the secrets it denies stay unreadable.
#include "tests/integration/default_policy.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace diag::testing {
namespace {

TEST_F(DefaultPolicy, ConfinementIsEnforcedOnThisKernel) {
    const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U);
    if (abi < 3) {
        GTEST_SKIP() << "Landlock ABI " << abi << " < 3: the default policy (landlock = required) refuses to run";
    }
    expect_works("uname -a", "Linux");
    const auto recs = audit_records();
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs[0]["diag"]["confinement"]["landlock"]["enforced"], true);
}

TEST_F(DefaultPolicy, AgentProbesWorkUnderFullConfinement) {
    expect_works("ps aux", "PID");
    expect_works("ps -ef", "PPID");
    expect_works("ps -eo pid,comm", "PID");
    expect_works("ss -tlnp", "State|Netid");
    expect_works("ip addr", "lo");
    expect_works("ip -br a", "lo");
    expect_works("ip route", ".*");
    expect_works("df -h", "Filesystem");
    expect_works("free -m", "Mem:");
    expect_works("uname -a", "Linux");
    expect_works("uptime", "load average");
    expect_works("id", "uid=");
    expect_works("cat /etc/os-release", "NAME=");
    expect_works("head -n 2 /etc/passwd", "root");
    expect_works("ls -la /etc", "passwd");
    expect_works("ls /proc/self/ns", "net");
    expect_works("sysctl -n kernel.ostype", "Linux");
    expect_works("findmnt", "TARGET");
    expect_works("getent hosts localhost", "127.0.0.1|::1");
    expect_works("stat " + dir_ + "/pub/readme.txt", "regular file");
    expect_works("grep -r public " + dir_ + "/pub", "public-readme");
    expect_works("find " + dir_ + "/pub -name '*.txt'", "readme.txt");
    expect_works("date -u +%Y", "^20[0-9][0-9]\n$");
    expect_works("nproc", "^[0-9]+\n$");
    expect_works("whoami", "root");
    expect_works("hostname", ".");
    expect_works("lscpu", "Architecture");
}

TEST_F(DefaultPolicy, DeniedFilesStayUnreadable) {
    for (const std::string& req :
         std::vector<std::string>{"cat /etc/shadow", "head -n 1 /etc/gshadow", "cat " + dir_ + "/secret/canary.txt",
                                  "tail -n 1 /etc/ssh/ssh_host_ed25519_key"}) {
        auto r = run_soc(policy_, req);
        EXPECT_EQ(r.exit_code, 126) << req << "\n" << r.err;
        EXPECT_EQ(r.out.find(canary_), std::string::npos);
    }
    // A recursive read of a tree holding the denied directory runs and skips it (adr/0016).
    for (const std::string& req : std::vector<std::string>{"grep -r CANARY " + dir_, "find " + dir_, "du -a " + dir_}) {
        auto r = run_soc(policy_, req);
        EXPECT_NE(r.exit_code, 126) << req << "\n" << r.err;
        EXPECT_EQ(r.out.find(canary_), std::string::npos) << req;
        EXPECT_EQ(r.out.find("canary.txt"), std::string::npos) << req;
        EXPECT_EQ(r.err.find("canary.txt"), std::string::npos) << req;
        EXPECT_NE(r.err.find("note: skipped 1 denied path"), std::string::npos) << req << "\n" << r.err;
    }
    // Metadata of a key is allowed (to debug its permissions), never its content.
    if (std::filesystem::exists("/etc/ssh/ssh_host_ed25519_key")) {
        expect_works("stat /etc/ssh/ssh_host_ed25519_key", "regular file");
    }
}

TEST_F(DefaultPolicy, JournalctlReadsATestJournal) {
    const std::string unit = "diagtest" + std::to_string(::getpid()) + ".service";
    const TestJournal journal = write_test_journal(unit, "hello from the test journal");
    if (journal.path.empty()) {
        GTEST_SKIP() << journal.skip;
    }
    expect_works("journalctl -u " + unit + " -n 5 --no-pager", "hello from the test journal");
    expect_works("journalctl -u " + unit + " -o json -n 1", "\"MESSAGE\"");
    std::filesystem::remove(journal.path);
}

TEST_F(DefaultPolicy, NixConfigShowWhereNixIsInstalled) {
    if (!std::filesystem::exists("/usr/bin/nix") && !std::filesystem::exists("/run/current-system/sw/bin/nix")) {
        GTEST_SKIP() << "nix is not installed on this host";
    }
    auto r = run_soc(policy_, "nix config show");
    if (r.exit_code != 0 && r.err.find("not a recognised command") != std::string::npos) {
        r = run_soc(policy_, "nix show-config");  // Nix before 2.20 (Debian 12 ships 2.8)
    }
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("sandbox"), std::string::npos) << r.out;
}

// A refusal that names what would work is still a refusal: exit 126, one line, nothing ran (the
// one record is the denied decision; no end record).
TEST_F(DefaultPolicy, RefusalsNameTheAllowedFormAndNothingRuns) {
    struct Case {
        std::string request;
        std::string reason;
        std::string hint;
    };
    for (const Case& c : std::vector<Case>{
             {"head -20 /etc/os-release", "unknown-option", "the allowed form is head -n 20"},
             {"tail -f /etc/os-release", "unknown-option", "following is not allowed (a request must end): tail -n N"},
             {"journalctl -f", "unknown-option", "following is not allowed"},
             {"head -z /etc/os-release", "unknown-option", "allowed: -n/--lines N, -c/--bytes N"},
             {"head --lin 5 /etc/os-release", "unknown-option",
              "(options must be spelled in full); the full spelling is --lines"},
             {"hed /etc/os-release", "unknown-command", "closest: head"},
             {"help hed", "unknown-command", "closest: head"},
         }) {
        SCOPED_TRACE(c.request);
        std::filesystem::remove(audit_);
        auto r = run_soc(policy_, c.request);
        EXPECT_EQ(r.exit_code, 126) << r.err;
        EXPECT_EQ(r.err.rfind("diag-wrapper: denied: " + c.reason + ": ", 0), 0u) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_NE(r.err.find(c.hint), std::string::npos) << r.err;
        const auto recs = audit_records();
        ASSERT_EQ(recs.size(), 1u);
        EXPECT_EQ(recs[0]["diag"]["decision"], "deny");
        EXPECT_EQ(recs[0]["diag"]["reason"], c.reason);
        EXPECT_EQ(recs[0]["event"]["action"], "decision");
    }
}

// A command this host cannot run is never suggested, even when it is the nearest.
TEST_F(DefaultPolicy, UnavailableCommandsAreNeverSuggested) {
    std::ifstream in(policy_);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string p = write_policy(ss.str() +
                                           "\n[command.heads]\nmatch = [\"heads\"]\n"
                                           "program = \"no-such-program-diag-test\"\ndescription = \"d\"\n",
                                       "unavailable.toml");
    auto r = run_soc(p, "headsx /etc/os-release");
    EXPECT_EQ(r.exit_code, 126) << r.err;
    EXPECT_EQ(r.err.rfind("diag-wrapper: denied: unknown-command: 'headsx' is not an allowed command; closest: head "
                          "(run 'help' for the list)",
                          0),
              0u)
        << r.err;
    EXPECT_EQ(r.err.find("heads,"), std::string::npos) << r.err;
}

// What a hint echoes of the request is escaped: a bidi override never reaches the client raw.
TEST_F(DefaultPolicy, HintsEscapeWhatTheyEcho) {
    for (const std::string& request : {std::string("he\xe2\x80\xae"
                                                   "d /etc/os-release"),
                                       std::string("head --\xe2\x80\xae"
                                                   "q /etc/os-release")}) {
        auto r = run_soc(policy_, request);
        EXPECT_EQ(r.exit_code, 126) << r.err;
        EXPECT_EQ(r.err.find("\xe2\x80\xae"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("\\u{202E}"), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

TEST_F(DefaultPolicy, JournalctlTakesABootOffsetAsTheNextWord) {
    for (const auto& [request, exec] : std::vector<std::pair<std::string, std::string>>{
             {"journalctl -b -1 -n 5", " -b-1 -n 5\n"},
             {"journalctl -b 0", " -b0\n"},
             {"journalctl -b", " -b\n"},
             {"journalctl --boot=-1", " --boot=-1\n"},
             {"journalctl -b 0123456789abcdef0123456789abcdef", " -b0123456789abcdef0123456789abcdef\n"},
         }) {
        SCOPED_TRACE(request);
        auto r = run_args({"--policy", policy_, "--explain", "--", request});
        if (r.out.find("command-unavailable") != std::string::npos) {
            GTEST_SKIP() << "journalctl is not installed on this host";
        }
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        EXPECT_NE(r.out.find("decision: allow\n"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find(" --no-pager" + exec), std::string::npos) << r.out;
    }
    // The word after -b is a value only when it is a boot: an option stays an option, refused.
    for (const char* request : {"journalctl -b --file=/etc/shadow", "journalctl -b --file /etc/shadow",
                                "journalctl --boot -D /etc", "journalctl -b -1 --root=/"}) {
        SCOPED_TRACE(request);
        std::filesystem::remove(audit_);
        EXPECT_DENIED(run_soc(policy_, request), "unknown-option");
        EXPECT_EQ(audit_records().size(), 1u);
    }
    EXPECT_DENIED(run_soc(policy_, "journalctl --boot=--file=/etc/shadow"), "bad-value");
    EXPECT_DENIED(run_soc(policy_, "journalctl -b /etc/shadow"), "positional-count");
}

TEST_F(DefaultPolicy, HelpForOneCommandAndTheTypedSchema) {
    auto r = run_soc(policy_, "help journalctl");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("usage: journalctl "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  -b, --boot [BOOT]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  -n, --lines N"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("integer, 0..1000000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("one of: short, short-precise"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nexample: journalctl "), std::string::npos) << r.out;
    auto recs = audit_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["diag"]["rule"], "help");
    EXPECT_EQ(recs[0]["diag"]["decision"], "allow");

    for (const char* request : {"help head --json", "help --json head"}) {
        auto j = run_soc(policy_, request);
        ASSERT_EQ(j.exit_code, 0) << j.err;
        const auto arr = nlohmann::json::parse(j.out);
        ASSERT_EQ(arr.size(), 2u);
        EXPECT_EQ(arr[0]["id"], "head");
        EXPECT_EQ(arr[0]["options"][0]["names"], nlohmann::json::parse(R"(["-n","--lines"])"));
        EXPECT_EQ(arr[0]["options"][0]["type"], "int");
        EXPECT_EQ(arr[0]["positionals"][0]["type"], "path");
        EXPECT_EQ(arr[0]["positionals"][0]["glob"], true);
        EXPECT_EQ(arr[0]["filter"], false);
        // head on its input, after `|`: no operand at all.
        EXPECT_EQ(arr[1]["id"], "head-filter");
        EXPECT_EQ(arr[1]["filter"], true);
        EXPECT_EQ(arr[1]["positionals"], nlohmann::json::array());
    }
    // Every rule of the shipped policy, with its schema; every example is a request the matcher
    // accepts (explain: nothing runs), unless the rule is unavailable here or the example holds a
    // placeholder (a regex value has no sample: `ip route get ARG`).
    auto all = run_soc(policy_, "help --json");
    ASSERT_EQ(all.exit_code, 0);
    const auto arr = nlohmann::json::parse(all.out);
    ASSERT_GT(arr.size(), 30u);
    for (const auto& rule : arr) {
        SCOPED_TRACE(rule["id"].get<std::string>());
        EXPECT_TRUE(rule["options"].is_array());
        EXPECT_TRUE(rule["positionals"].is_array());
        const std::string example = rule["example"];
        if (!rule["available"].get<bool>() || example.find(" ARG") != std::string::npos) {
            continue;
        }
        // A filter's example is what follows `|`.
        const std::string request = rule["filter"].get<bool>() ? "uname -a | " + example : example;
        auto ex = run_args({"--policy", policy_, "--explain", "--", request});
        EXPECT_NE(ex.out.find("rule: " + rule["id"].get<std::string>() + " "), std::string::npos) << request << "\n"
                                                                                                  << ex.out;
    }
    EXPECT_DENIED(run_soc(policy_, "help head tail"), "unknown-option");
    EXPECT_DENIED(run_soc(policy_, "help --json --json"), "unknown-option");
}

}  // namespace
}  // namespace diag::testing
