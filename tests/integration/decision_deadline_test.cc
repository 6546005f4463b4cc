// SPDX-License-Identifier: Apache-2.0
// The decision deadline (settings.decision_timeout): everything before the decision record is
// bounded, and what passes it is refused with a record where a record can be written.
#include <sys/file.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

const char* kCat = R"toml(
[command.cat]
match = ["cat"]
description = "Print files"
[[command.cat.positional]]
type = "path"
max = 32
)toml";

class DecisionDeadline : public WrapperFixture {
  protected:
    // The standard policy with settings.decision_timeout set.
    std::string policy_with_deadline(const std::string& duration, const std::string& extra_deny = "") {
        std::string text = policy(kCat, extra_deny);
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

// A deny entry that cannot be built is a policy error, now with a record of the request.
TEST_F(DecisionDeadline, DenyListFailuresAreRecorded) {
    const auto p = write_policy(policy(kCat, ", \"/etc/../shadow\""));
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
