// SPDX-License-Identifier: Apache-2.0
// The hash chain end to end (adr/0011): the wrapper writes it, diag-audit verify checks it, and
// every way of damaging a trail is reported with its sequence numbers.
#include <sys/wait.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/helpers/policies.h"
#include "tests/integration/harness.h"
#include "wrapper/base/sha256.h"

namespace diag::testing {
namespace {

class AuditChain : public WrapperFixture {
  protected:
    void SetUp() override {
        WrapperFixture::SetUp();
        if (IsSkipped()) {
            return;
        }
        state_ = dir_ + "/chain";
        write(state_, "", 0660);  // first use: the installer creates it empty
        audit_extra_ = "chain = \"" + state_ + "\"\n";
        policy_ = write_policy(policy(policies::rules({"echo"})));
    }

    RunResult verify(const std::vector<std::string>& args) const {
        std::vector<std::string> argv = {audit_bin(), "--file", audit_};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, {"PATH=/usr/bin:/bin"});
    }

    std::vector<std::string> lines() const {
        std::ifstream in(audit_);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) {
            out.push_back(l);
        }
        return out;
    }

    void rewrite(const std::vector<std::string>& ls) const {
        std::ofstream out(audit_, std::ios::trunc);
        for (const auto& l : ls) {
            out << l << "\n";
        }
    }

    // `n` refused requests: one record each, nothing runs.
    void refused(int n) const {
        for (int i = 0; i < n; ++i) {
            const auto r = run_soc(policy_, "nosuch " + std::to_string(i));
            ASSERT_EQ(r.exit_code, 126) << r.err;
        }
    }

    std::string state_;
    std::string policy_;
};

TEST_F(AuditChain, EveryRecordHasThePlaceAfterThePrevious) {
    EXPECT_EQ(run_soc(policy_, "echo one").exit_code, 0);
    refused(2);
    const auto ls = lines();
    ASSERT_EQ(ls.size(), 4u);
    std::string prev(64, '0');
    for (size_t i = 0; i < ls.size(); ++i) {
        const auto rec = nlohmann::json::parse(ls[i]);
        EXPECT_EQ(rec["diag"]["chain"]["seq"], i + 1);
        EXPECT_EQ(rec["diag"]["chain"]["prev"], prev);
        prev = sha256_hex(ls[i]);
    }
    auto v = verify({"verify", "--state", state_});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find("the trail is whole"), std::string::npos) << v.out;
}

TEST_F(AuditChain, VerifyReportsADeletedRecord) {
    refused(5);
    auto ls = lines();
    ASSERT_EQ(ls.size(), 5u);
    ls.erase(ls.begin() + 2);  // seq 3
    rewrite(ls);
    auto v = verify({"verify"});
    EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
    EXPECT_NE(v.out.find("verify: gap: seq 3 missing"), std::string::npos) << v.out;
}

TEST_F(AuditChain, VerifyReportsAnEditedRecord) {
    refused(5);
    auto ls = lines();
    ASSERT_EQ(ls.size(), 5u);
    const std::string from = "\"decision\":\"deny\"";
    ls[1].replace(ls[1].find(from), from.size(), "\"decision\":\"allow\"");  // seq 2
    rewrite(ls);
    auto v = verify({"verify"});
    EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
    EXPECT_NE(v.out.find("verify: edit: seq 2 "), std::string::npos) << v.out;
}

TEST_F(AuditChain, VerifyReportsTwoSwappedRecords) {
    refused(5);
    auto ls = lines();
    ASSERT_EQ(ls.size(), 5u);
    std::swap(ls[2], ls[3]);  // seq 3 and 4
    rewrite(ls);
    auto v = verify({"verify"});
    EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
    EXPECT_NE(v.out.find("verify: order:"), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("seq 3 comes after seq 4"), std::string::npos) << v.out;
}

TEST_F(AuditChain, VerifyReportsATailTruncatedBehindTheLastCheckpoint) {
    refused(103);  // a checkpoint after record 100 takes seq 101
    auto ls = lines();
    ASSERT_EQ(ls.size(), 104u);
    const auto ckpt = nlohmann::json::parse(ls[100]);
    ASSERT_EQ(ckpt["event"]["action"], "checkpoint");
    EXPECT_EQ(ckpt["diag"]["checkpoint"]["seq"], 100);
    EXPECT_EQ(ckpt["diag"]["checkpoint"]["head"], sha256_hex(ls[99]));
    // The checkpoint went off the host (journald upload, a syslog relay); here the local file
    // loses it and everything after.
    const std::string anchor = "101:" + sha256_hex(ls[100]);
    ls.resize(97);
    rewrite(ls);
    auto v = verify({"verify", "--anchor", anchor});
    EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
    EXPECT_NE(v.out.find("verify: truncated: the trail ends at seq 97"), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("seq 98..101 missing at the end"), std::string::npos) << v.out;
    auto s = verify({"verify", "--state", state_});
    EXPECT_EQ(s.exit_code, 1) << s.out << s.err;
    EXPECT_NE(s.out.find("seq 98..104 missing at the end"), std::string::npos) << s.out;
}

TEST_F(AuditChain, VerifyReportsRecordsWhoseChainDoesNotFit) {
    refused(3);
    auto ls = lines();
    ASSERT_EQ(ls.size(), 3u);
    // A forged record claiming seq 2's place, and one with no place at all.
    auto forged = nlohmann::json::parse(ls[1]);
    forged["diag"]["reason"] = "allowed";
    ls.insert(ls.begin() + 2, forged.dump());
    auto bare = nlohmann::json::parse(ls[0]);
    bare["diag"].erase("chain");
    ls.push_back(bare.dump());
    rewrite(ls);
    auto v = verify({"verify"});
    EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
    EXPECT_NE(v.out.find("verify: fork: seq 2 has 2 different records"), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("verify: unchained:"), std::string::npos) << v.out;
}

TEST_F(AuditChain, ConcurrentRequestsKeepOneWholeChain) {
    constexpr int kRequests = 200;
    std::vector<pid_t> pids;
    for (int i = 0; i < kRequests; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            const std::string req = "SSH_ORIGINAL_COMMAND=echo " + std::to_string(i);
            const std::string bin = wrapper_bin();
            char* argv[] = {const_cast<char*>(bin.c_str()), const_cast<char*>("--policy"),
                            const_cast<char*>(policy_.c_str()), nullptr};
            char* envp[] = {const_cast<char*>(req.c_str()), const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
            const int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::execve(argv[0], argv, envp);
            ::_exit(127);
        }
        ASSERT_GT(pid, 0);
        pids.push_back(pid);
    }
    int ok = 0;
    for (const pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
    }
    EXPECT_EQ(ok, kRequests);
    const auto ls = lines();
    EXPECT_EQ(ls.size(), 2u * kRequests + 4u);  // decision and end each, and 4 checkpoints
    auto v = verify({"verify", "--state", state_});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(AuditChain, UnusableStateRefusesTheRequest) {
    write(state_, "not a chain state\n", 0660);
    auto r = run_soc(policy_, "echo hi");
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("chain state"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    std::filesystem::remove(state_);
    auto missing = run_soc(policy_, "echo hi");
    EXPECT_EQ(missing.exit_code, 125) << missing.err;
    EXPECT_NE(missing.err.find("chain state"), std::string::npos) << missing.err;
    write(state_, "", 0666);  // writable by anyone: not trusted
    auto open = run_soc(policy_, "echo hi");
    EXPECT_EQ(open.exit_code, 125) << open.err;
    EXPECT_EQ(lines().size(), 0u);
}

}  // namespace
}  // namespace diag::testing
