// SPDX-License-Identifier: Apache-2.0
// The shipped policy/default.toml under full confinement on this machine: the probes an on-call
// agent types still work, and the secrets it denies stay unreadable.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

class DefaultPolicy : public WrapperFixture {
  protected:
    void SetUp() override {
        WrapperFixture::SetUp();
        if (IsSkipped()) {
            return;
        }
        std::ifstream in(std::string(DIAG_SOURCE_DIR) + "/policy/default.toml");
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = ss.str();
        // Same policy, with the audit file and chain state in the fixture, the account running
        // the tests as the account served, and no host drop-ins.
        text = std::regex_replace(text, std::regex(R"(\nfile = "[^"]*")"), "\nfile = \"" + audit_ + "\"");
        write(dir_ + "/chain", "", 0660);
        text = std::regex_replace(text, std::regex(R"(\nchain = "[^"]*")"), "\nchain = \"" + dir_ + "/chain\"");
        text = std::regex_replace(text, std::regex(R"(\naccount = "diag")"), "\naccount = \"root\"");
        text = std::regex_replace(text, std::regex(R"(\ninclude = \[[^\]]*\])"), "\ninclude = []");
        // The fixture's canary directory joins the shipped deny list.
        text = std::regex_replace(text, std::regex(R"(\npaths = \[)"), "\npaths = [\n    \"" + dir_ + "/secret\",");
        policy_ = write_policy(text);
    }

    // Runs `request` and expects success with output matching `pattern`.
    void expect_works(const std::string& request, const std::string& pattern) {
        auto r = run_soc(policy_, request);
        EXPECT_EQ(r.exit_code, 0) << request << "\n" << r.err;
        EXPECT_TRUE(std::regex_search(r.out, std::regex(pattern))) << request << "\n" << r.out << r.err;
    }

    std::string policy_;
};

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
}

TEST_F(DefaultPolicy, DeniedFilesStayUnreadable) {
    for (const std::string& req :
         std::vector<std::string>{"cat /etc/shadow", "head -n 1 /etc/gshadow", "cat " + dir_ + "/secret/canary.txt",
                                  "grep -r CANARY " + dir_, "tail -n 1 /etc/ssh/ssh_host_ed25519_key"}) {
        auto r = run_soc(policy_, req);
        EXPECT_EQ(r.exit_code, 126) << req << "\n" << r.err;
        EXPECT_EQ(r.out.find(canary_), std::string::npos);
    }
    // Metadata of a key is allowed (to debug its permissions), never its content.
    if (std::filesystem::exists("/etc/ssh/ssh_host_ed25519_key")) {
        expect_works("stat /etc/ssh/ssh_host_ed25519_key", "regular file");
    }
}

TEST_F(DefaultPolicy, JournalctlReadsATestJournal) {
    const std::string remote = "/lib/systemd/systemd-journal-remote";
    std::ifstream mid_in("/etc/machine-id");
    std::string machine_id;
    mid_in >> machine_id;
    if (!std::filesystem::exists(remote) || machine_id.size() != 32) {
        GTEST_SKIP() << "needs systemd-journal-remote (to write a test journal) and /etc/machine-id";
    }
    // A journal with one entry for a unit of our own, where journalctl looks by default.
    const std::string unit = "diagtest" + std::to_string(::getpid()) + ".service";
    const std::string jdir = "/var/log/journal/" + machine_id;
    std::filesystem::create_directories(jdir);
    const std::string journal = jdir + "/diagtest-" + std::to_string(::getpid()) + ".journal";
    {
        std::ofstream ex(dir_ + "/entry.export");
        ex << "__REALTIME_TIMESTAMP=" << std::time(nullptr) << "000000\nMESSAGE=hello from the test journal\n"
           << "_SYSTEMD_UNIT=" << unit << "\nPRIORITY=4\n_HOSTNAME=test\n_MACHINE_ID=" << machine_id
           << "\n_BOOT_ID=0123456789abcdef0123456789abcdef\n\n";
    }
    auto w = run_process({remote, "-o", journal, dir_ + "/entry.export"}, {});
    ASSERT_EQ(w.exit_code, 0) << w.err;
    expect_works("journalctl -u " + unit + " -n 5 --no-pager", "hello from the test journal");
    expect_works("journalctl -u " + unit + " -o json -n 1", "\"MESSAGE\"");
    std::filesystem::remove(journal);
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

}  // namespace
}  // namespace diag::testing
