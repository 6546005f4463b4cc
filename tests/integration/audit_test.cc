// SPDX-License-Identifier: Apache-2.0
// The audit trail: exactly the records each path should produce, concurrency, and sinks that fail.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

const char* kRules = R"toml(
[command.true]
match = ["true"]
description = "Does nothing"

[command.cat]
match = ["cat"]
description = "Print files"
[[command.cat.positional]]
type = "path"

[command.spin]
match = ["spin"]
program = "sh"
description = "Busy loop past its timeout (test only)"
timeout = "300ms"
fixed = ["-c", "while :; do :; done"]

[command.flood]
match = ["flood"]
program = "sh"
description = "Prints past its output cap (test only)"
output_cap = "4KiB"
fixed = ["-c", "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done"]

[command.die]
match = ["die"]
program = "sh"
description = "Kills itself with SIGTERM (test only)"
fixed = ["-c", "kill -TERM $$"]

[command.marker]
match = ["marker"]
program = "sh"
description = "Prints a marker (test only)"
fixed = ["-c", "echo ran-marker"]
)toml";

class Audit : public WrapperFixture {
  protected:
    std::map<std::string, std::vector<nlohmann::json>> by_request() const {
        std::map<std::string, std::vector<nlohmann::json>> out;
        for (const auto& r : audit_records()) {
            out[r["diag"]["request_id"].get<std::string>()].push_back(r);
        }
        return out;
    }
};

TEST_F(Audit, EveryPathWritesExactlyTheRecordsItShould) {
    const auto p = write_policy(policy(kRules));
    struct Case {
        std::string request;
        int exit;
        std::vector<std::string> actions;  // event.action of each record, in order
        std::string decision;
        std::string reason;
    } cases[] = {
        {"true", 0, {"decision", "end"}, "allow", "allowed"},
        {"help", 0, {"decision"}, "allow", "help"},
        {"cat " + dir_ + "/secret/canary.txt", 126, {"decision"}, "deny", "path-denied"},
        {"cat a;b", 126, {"decision"}, "deny", "parse-metachar"},
        {"rm -rf /", 126, {"decision"}, "deny", "unknown-command"},
        {"cat --x " + dir_, 126, {"decision"}, "deny", "unknown-option"},
        {"cat " + dir_ + "/nope", 126, {"decision"}, "deny", "path-not-found"},
        {"spin", 128 + SIGKILL, {"decision", "end"}, "allow", "allowed"},
        {"flood", 128 + SIGKILL, {"decision", "end"}, "allow", "allowed"},
        {"die", 128 + SIGTERM, {"decision", "end"}, "allow", "allowed"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.request);
        std::filesystem::remove(audit_);
        auto r = run_soc(p, c.request);
        EXPECT_EQ(r.exit_code, c.exit) << r.err;
        const auto recs = audit_records();
        ASSERT_EQ(recs.size(), c.actions.size());
        for (size_t i = 0; i < recs.size(); ++i) {
            EXPECT_EQ(recs[i]["event"]["action"], c.actions[i]);
            EXPECT_EQ(recs[i]["diag"]["request_id"], recs[0]["diag"]["request_id"]);
            EXPECT_EQ(recs[i]["schema"], "diag-wrapper.audit/1");
            for (const char* field : {"@timestamp", "host", "user", "process", "source"}) {
                EXPECT_TRUE(recs[i].contains(field)) << field;
            }
            // RFC 3339 UTC with microseconds, and the time the record was written.
            const std::string ts = recs[i]["@timestamp"].get<std::string>();
            std::tm tm{};
            int micro = -1;
            ASSERT_EQ(ts.size(), 27u) << ts;
            ASSERT_EQ(std::sscanf(ts.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micro),
                      7)
                << ts;
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            EXPECT_LE(std::llabs(static_cast<long long>(::timegm(&tm)) - static_cast<long long>(std::time(nullptr))),
                      60)
                << ts;
            EXPECT_EQ(recs[i]["host"]["id"].get<std::string>().size() > 0, std::filesystem::exists("/etc/machine-id"));
            EXPECT_EQ(recs[i]["diag"]["policy"]["sha256"].get<std::string>().size(), 64u);
            // Who asked: the uid, and the name NSS gives for it (the wrapper reads /etc/passwd).
            EXPECT_EQ(recs[i]["user"]["id"], std::to_string(::getuid()));
            const passwd* pw = ::getpwuid(::getuid());
            EXPECT_EQ(recs[i]["user"]["name"], pw != nullptr ? pw->pw_name : "");
        }
        EXPECT_EQ(recs[0]["diag"]["decision"], c.decision);
        EXPECT_EQ(recs[0]["diag"]["reason"], c.reason);
        if (c.actions.size() == 2) {
            const auto& res = recs[1]["diag"]["result"];
            EXPECT_EQ(res["exit_status"], c.exit);
            EXPECT_EQ(res["timed_out"], c.request == "spin");
            EXPECT_EQ(res["output_capped"], c.request == "flood");
            if (c.request == "flood") {
                EXPECT_EQ(res["stdout"]["bytes"], 4096);
            }
            if (c.exit > 128) {
                EXPECT_EQ(res["signal"], c.exit - 128);
            }
            EXPECT_TRUE(recs[0]["diag"].contains("confinement"));
        }
    }
}

TEST_F(Audit, TwoHundredConcurrentRequestsLoseAndInterleaveNothing) {
    const auto p = write_policy(policy(kRules));
    constexpr int kRequests = 200;
    std::vector<pid_t> pids;
    for (int i = 0; i < kRequests; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            const std::string soc = "SSH_ORIGINAL_COMMAND=true";
            char* argv[] = {const_cast<char*>(DIAG_WRAPPER_BIN), const_cast<char*>("--policy"),
                            const_cast<char*>(p.c_str()), nullptr};
            char* envp[] = {const_cast<char*>(soc.c_str()), nullptr};
            ::execve(argv[0], argv, envp);
            ::_exit(127);
        }
        ASSERT_GT(pid, 0);
        pids.push_back(pid);
    }
    int failures = 0;
    for (pid_t pid : pids) {
        int st = 0;
        ::waitpid(pid, &st, 0);
        failures += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child of ours left, zombie or not
    // Every line is one whole record (audit_records() parses each line; a torn line would throw).
    std::ifstream in(audit_);
    std::string line;
    size_t lines = 0;
    while (std::getline(in, line)) {
        ++lines;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << "line " << lines << " is not one JSON object: " << line.substr(0, 200);
    }
    EXPECT_EQ(lines, 2u * kRequests);
    const auto requests = by_request();
    EXPECT_EQ(requests.size(), static_cast<size_t>(kRequests));
    for (const auto& [id, recs] : requests) {
        ASSERT_EQ(recs.size(), 2u) << id;
        EXPECT_EQ(recs[0]["event"]["action"], "decision");
        EXPECT_EQ(recs[1]["event"]["action"], "end");
    }
}

TEST_F(Audit, FullFilesystemMeansNothingRuns) {
    const std::string mnt = dir_ + "/full";
    std::filesystem::create_directories(mnt);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16k") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)";
    }
    {
        // Fill it completely.
        std::ofstream fill(mnt + "/fill");
        const std::string block(4096, 'x');
        for (int i = 0; i < 64 && fill; ++i) {
            fill << block << std::flush;
        }
    }
    std::string text = policy(kRules);
    text.replace(text.find(audit_), audit_.size(), mnt + "/audit.jsonl");
    const auto p = write_policy(text);
    auto r = run_soc(p, "marker");
    ::umount2(mnt.c_str(), MNT_DETACH);
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");  // the marker never ran
}

TEST_F(Audit, UnwritableAuditFileMeansNothingRuns) {
    std::string text = policy(kRules);
    const auto p = write_policy(text);
    // As root the mode does not stop us: make the path a directory instead, which no one can
    // append to.
    std::filesystem::remove(audit_);
    std::filesystem::create_directories(audit_);
    auto r = run_soc(p, "marker");
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("diag-wrapper: error: audit file"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace diag::testing
