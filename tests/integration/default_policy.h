// SPDX-License-Identifier: Apache-2.0
// The shipped policy/default.toml in a fixture: the same rules and deny list, with the audit file
// and chain state in the fixture's directory, the account running the tests as the account served,
// no host drop-ins, and the fixture's canary directory denied too.
#pragma once

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/integration/harness.h"

namespace diag::testing {

// A journal file written for a test, where journalctl looks by default; empty path: skipped, why.
struct TestJournal {
    std::string path;
    std::string skip;
};

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

    // Writes a journal with one entry, `message` from `unit`, where journalctl looks by default.
    // The caller removes it.
    TestJournal write_test_journal(const std::string& unit, const std::string& message) {
        const std::string remote = "/lib/systemd/systemd-journal-remote";
        std::ifstream mid_in("/etc/machine-id");
        std::string machine_id;
        mid_in >> machine_id;
        if (!std::filesystem::exists(remote) || machine_id.size() != 32) {
            return {"", "needs systemd-journal-remote (to write a test journal) and /etc/machine-id"};
        }
        const std::string jdir = "/var/log/journal/" + machine_id;
        std::filesystem::create_directories(jdir);
        const std::string journal = jdir + "/diagtest-" + std::to_string(::getpid()) + ".journal";
        {
            std::ofstream ex(dir_ + "/entry.export");
            ex << "__REALTIME_TIMESTAMP=" << std::time(nullptr) << "000000\nMESSAGE=" << message
               << "\n_SYSTEMD_UNIT=" << unit << "\nPRIORITY=4\n_HOSTNAME=test\n_MACHINE_ID=" << machine_id
               << "\n_BOOT_ID=0123456789abcdef0123456789abcdef\n\n";
        }
        auto w = run_process({remote, "-o", journal, dir_ + "/entry.export"}, {});
        EXPECT_EQ(w.exit_code, 0) << w.err;
        return {journal, ""};
    }

    std::string policy_;
};

}  // namespace diag::testing
