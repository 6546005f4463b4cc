// SPDX-License-Identifier: Apache-2.0
// The built diag-audit on the recorded fixture (plain and gzip), a fake journalctl, a growing and
// rotating file for follow, and the records the real diag-wrapper writes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

const std::string kDir = std::string(DIAG_SOURCE_DIR) + "/tests/testdata/audit";
const std::string kFixture = kDir + "/fixture.jsonl";
const std::string kFixtureGz = kDir + "/fixture.jsonl.gz";
const std::string kPolicy = kDir + "/policy.toml";
const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "LC_ALL=C"};

// DIAG_AUDIT_UNDER_TEST runs these tests against another diag-audit build (an older release, to
// show that a regression test fails there).
std::string audit_bin() {
    const char* other = std::getenv("DIAG_AUDIT_UNDER_TEST");
    return other != nullptr && *other != '\0' ? other : DIAG_AUDIT_BIN;
}

RunResult audit(const std::vector<std::string>& args, const std::vector<std::string>& env = kEnv) {
    std::vector<std::string> argv = {audit_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, env);
}

std::vector<std::string> fixture_lines() {
    std::ifstream in(kFixture);
    std::vector<std::string> lines;
    std::string l;
    while (std::getline(in, l)) {
        lines.push_back(l);
    }
    return lines;
}

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// No byte a terminal acts on: C0 other than newline, DEL, and the UTF-8 forms of C1 (C2 80..9F)
// and of U+2028..U+202E / U+2066..U+2069 (E2 80 A8..AE, E2 81 A6..A9).
bool has_raw_control(const std::string& s) {
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const auto n1 = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
        const auto n2 = i + 2 < s.size() ? static_cast<unsigned char>(s[i + 2]) : 0;
        if ((c < 0x20 && c != '\n' && !(c == '\r' && n1 == '\n')) || c == 0x7F ||
            (c == 0xC2 && n1 >= 0x80 && n1 <= 0x9F) || (c == 0xE2 && n1 == 0x80 && n2 >= 0xA8 && n2 <= 0xAE) ||
            (c == 0xE2 && n1 == 0x81 && n2 >= 0xA6 && n2 <= 0xA9)) {
            return true;
        }
    }
    return false;
}

class DiagAudit : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diag-audit-it.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
        const std::string p = dir_ + "/" + name;
        std::ofstream(p, std::ios::binary) << text;
        ::chmod(p.c_str(), mode);
        return p;
    }
    void append(const std::string& path, const std::string& text) const {
        std::ofstream(path, std::ios::binary | std::ios::app) << text;
    }

    std::string dir_;
};

TEST_F(DiagAudit, SearchReadsPlainAndGzipAlike) {
    const RunResult plain = audit({"--file", kFixture, "search", "--format", "json"});
    const RunResult gz = audit({"--file", kFixtureGz, "search", "--format", "json"});
    EXPECT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(gz.exit_code, 0) << gz.err;
    EXPECT_EQ(count_lines(plain.out), 21u);
    EXPECT_EQ(plain.out, gz.out);
    EXPECT_NE(plain.err.find("diag-audit: warning: 3 line(s) skipped (not JSON objects)"), std::string::npos)
        << plain.err;
    // Both at once: the same requests, joined once.
    const RunResult both = audit({"--file", kFixture, "--file", kFixtureGz, "search", "--format", "csv"});
    EXPECT_EQ(both.exit_code, 0);
    EXPECT_EQ(count_lines(both.out), 1u + 21u + 1u);  // header, requests, the id-less record twice
}

TEST_F(DiagAudit, SearchFiltersAndExitCodes) {
    RunResult r =
        audit({"--file", kFixture, "search", "--decision", "deny", "--source", "2001:db8::/32", "-o", "text"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              "2026-11-23 14:13:05Z oncall-alice (SHA256:9yQvC0Kp\xe2\x80\xa6) from 2001:db8::17 on web-17 was denied "
              "`rm -rf /var/tmp/x`: unknown-command; request 01a208c0-d\n"
              "2026-11-23 14:15:30Z oncall-alice (SHA256:9yQvC0Kp\xe2\x80\xa6) from 2001:db8::17 on db-3 was denied "
              "`cat a;b`: parse-metachar; request 01a208c3-0\n");
    r = audit({"--file", kFixtureGz, "search", "--incomplete"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(count_lines(r.out), 2u);  // header and R9
    EXPECT_NE(r.out.find("no end"), std::string::npos) << r.out;
    r = audit({"--file", kFixture, "search", "--rule", "no-such-rule"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    r = audit({"--file", kFixture, "search", "--since", "yesterday-ish"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("diag-audit: error: ", 0), 0u) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u);
    r = audit({"--file", dir_ + "/missing.jsonl", "search"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "diag-audit: error: open(" + dir_ + "/missing.jsonl): No such file or directory\n");
}

TEST_F(DiagAudit, NoRawControlBytesInAnyFormat) {
    for (const char* f : {"table", "text", "json", "csv"}) {
        const RunResult r = audit({"--file", kFixture, "search", "--format", f});
        EXPECT_EQ(r.exit_code, 0);
        EXPECT_FALSE(has_raw_control(r.out)) << f;
        EXPECT_FALSE(has_raw_control(r.err)) << f;
    }
    for (const char* id : {"01a208c7", "01a208c8-1", "01a208c8-f", "01a208c9", "01a208ca"}) {
        const RunResult r = audit({"--file", kFixture, "show", id});
        EXPECT_EQ(r.exit_code, 0) << id << r.err;
        EXPECT_FALSE(has_raw_control(r.out)) << id;
    }
    const RunResult rep = audit({"--file", kFixture, "report"});
    EXPECT_FALSE(has_raw_control(rep.out));
    // A hostile file name reaches stderr escaped.
    const RunResult bad = audit({"--file", dir_ + "/\x1b[31mx\xc2\x9b", "search"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_FALSE(has_raw_control(bad.err)) << bad.err;
    EXPECT_NE(bad.err.find("\\x1b[31mx\\u{009B}"), std::string::npos) << bad.err;
}

TEST_F(DiagAudit, ShowByPrefix) {
    RunResult r = audit({"--file", kFixtureGz, "show", "01a208c5-5"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("request   01a208c5-55c0-725e-933b-f8a5fb556a14\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  2026-11-23 14:18:00.000000Z  decision: allow (allowed) (rule find)\n"
                         "  2026-11-23 14:18:30.004000Z  end (+30004 ms): timed out (signal 9), 1048576 bytes, "
                         "30002 ms, output capped\n"),
              std::string::npos)
        << r.out;
    r = audit({"--file", kFixture, "show", "01a208c"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("ambiguous"), std::string::npos);
    r = audit({"--file", kFixture, "show", "0000"});
    EXPECT_EQ(r.exit_code, 1);
}

TEST_F(DiagAudit, ReportWithPolicy) {
    const RunResult r = audit({"--file", kFixture, "report", "--since", "2026-11-23T00:00:00Z", "--policy", kPolicy});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("requests  18 (1 incomplete: no end record)\n", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("by decision\n  10  allow\n   7  deny\n   1  error\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("rules never used (" + kPolicy + ")\n  cat\n  free\n  ls\n"), std::string::npos) << r.out;
    const RunResult j = audit({"--file", kFixtureGz, "report", "--format", "json"});
    EXPECT_EQ(j.exit_code, 0);
    const auto parsed = nlohmann::json::parse(j.out);
    EXPECT_EQ(parsed["requests"], 21);
    EXPECT_EQ(parsed["keys_first_seen"].size(), 4u);
    EXPECT_TRUE(parsed["unused_rules"].is_null());
}

// A background diag-audit whose output the test reads as it comes.
class Background {
  public:
    explicit Background(const std::vector<std::string>& args) {
        int out[2];
        if (::pipe(out) != 0) {
            return;
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            std::vector<std::string> argv = {audit_bin()};
            argv.insert(argv.end(), args.begin(), args.end());
            std::vector<char*> a;
            for (auto& s : argv) a.push_back(s.data());
            a.push_back(nullptr);
            char env0[] = "PATH=/usr/bin:/bin";
            char* env[] = {env0, nullptr};
            ::execve(a[0], a.data(), env);
            ::_exit(127);
        }
        ::close(out[1]);
        out_ = out[0];
    }
    ~Background() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) {
            ::close(out_);
        }
    }
    // Reads until `out` holds `lines` lines or 10 s pass.
    const std::string& wait_lines(size_t lines) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (count_lines(text_) < lines && std::chrono::steady_clock::now() < deadline) {
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) {
                char buf[4096];
                const ssize_t n = ::read(out_, buf, sizeof buf);
                if (n <= 0) {
                    break;
                }
                text_.append(buf, static_cast<size_t>(n));
            }
        }
        return text_;
    }
    // Exit status, or -1 if it did not exit within 10 s.
    int wait_exit() {
        for (int i = 0; i < 100; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return -1;
    }
    void signal(int sig) const { ::kill(pid_, sig); }

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string text_;
};

TEST_F(DiagAudit, FollowPrintsAppendedRecordsAcrossTruncationAndRotation) {
    const auto lines = fixture_lines();
    const std::string log = write("audit.jsonl", lines[1] + "\n" + lines[2] + "\n");  // R1 decision + end
    Background bg({"--file", log, "follow", "--lines", "1", "--count", "5", "--format", "text"});
    // The header-less text format: the backlog's last record (R1's end) first.
    EXPECT_NE(bg.wait_lines(1).find("ran `uname -a` (rule uname): exit 0"), std::string::npos) << bg.wait_lines(1);
    append(log, lines[3] + "\n");  // R2 decision
    EXPECT_NE(bg.wait_lines(2).find("started `uname -a` (rule uname); request 01a208be-7608"), std::string::npos)
        << bg.wait_lines(2);
    // Truncated in place (copytruncate), then written again from the start.
    ::truncate(log.c_str(), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    append(log, lines[4] + "\n");  // R2 end, joined with the decision seen before
    EXPECT_NE(bg.wait_lines(3).find("ran `uname -a` (rule uname): exit 0, 87 bytes, 3 ms; request 01a208be-7608"),
              std::string::npos)
        << bg.wait_lines(3);
    // Rotated: renamed away and a new file created.
    std::filesystem::rename(log, log + ".1");
    write("audit.jsonl", lines[5] + "\n" + lines[13] + "\n");  // R3 (deny), R9 (allow)
    const std::string out = bg.wait_lines(5);
    EXPECT_EQ(bg.wait_exit(), 0);  // --count 5 reached
    EXPECT_NE(out.find("was denied `cat /etc/shadow`: path-denied"), std::string::npos) << out;
    EXPECT_NE(out.find("started `tail -n 100 /var/log/syslog`"), std::string::npos) << out;
    EXPECT_EQ(count_lines(out), 5u) << out;
}

TEST_F(DiagAudit, FollowTableStopsOnSigterm) {
    const std::string log = write("audit.jsonl", "");
    Background bg({"--file", log, "follow"});
    EXPECT_EQ(bg.wait_lines(1).rfind("TIME  ", 0), 0u);
    append(log, fixture_lines()[6] + "\n");  // R4's decision
    EXPECT_NE(bg.wait_lines(2).find("allow     started"), std::string::npos) << bg.wait_lines(2);
    bg.signal(SIGTERM);
    EXPECT_EQ(bg.wait_exit(), 0);
}

TEST_F(DiagAudit, FollowRefusesGzip) {
    const RunResult r = audit({"--file", kFixtureGz, "follow", "--count", "1"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("follow reads plain files"), std::string::npos) << r.err;
}

// A fake journalctl on PATH: checks its fixed argv and prints `entries`.
std::string fake_journalctl(const std::string& dir, const std::string& entries, const std::string& tail) {
    std::ofstream(dir + "/entries.json") << entries;
    const std::string script = dir + "/journalctl";
    std::ofstream(script)
        << "#!/bin/sh\n"
           "[ \"$1 $2 $3 $4 $5 $#\" = \"-o json SYSLOG_IDENTIFIER=diag-wrapper --no-pager --all 5\" ] || "
           "{ echo \"bad argv: $*\" >&2; exit 3; }\n"
           "/bin/cat " +
               dir + "/entries.json\n" + tail;
    ::chmod(script.c_str(), 0755);
    return "PATH=" + dir + ":/usr/bin:/bin";
}

TEST_F(DiagAudit, JournalRecordsComeFromMessage) {
    std::string entries;
    const auto lines = fixture_lines();
    for (size_t i = 0; i < 6; ++i) {  // R0 end, R1, R2, R3
        entries += nlohmann::json({{"SYSLOG_IDENTIFIER", "diag-wrapper"},
                                   {"MESSAGE", lines[i]},
                                   {"_EXE", "/usr/bin/diag-wrapper"},
                                   {"_UID", "998"},
                                   {"_PID", std::to_string(4000 + i)}})
                       .dump() +
                   "\n";
    }
    // journald keeps a MESSAGE that is not UTF-8 as a byte array; this one is R5's decision.
    nlohmann::json bytes = nlohmann::json::array();
    for (const char c : lines[7]) {
        bytes.push_back(static_cast<unsigned char>(c));
    }
    entries += nlohmann::json(
                   {{"MESSAGE", bytes}, {"_EXE", "/nix/store/x-diag-wrapper-0.1.0/bin/diag-wrapper"}, {"_UID", "998"}})
                   .dump() +
               "\n";
    entries += "{\"MESSAGE\":\"not a record\",\"_EXE\":\"/usr/bin/diag-wrapper (deleted)\",\"_UID\":\"998\"}\n";
    // Any local process may send SYSLOG_IDENTIFIER=diag-wrapper: journald's _EXE tells them apart.
    entries +=
        nlohmann::json({{"MESSAGE", lines[9]}, {"_EXE", "/home/eve/diag-wrapper.sh"}, {"_UID", "1000"}}).dump() + "\n";
    entries += nlohmann::json({{"MESSAGE", lines[9]}}).dump() + "\n";
    const std::string path = fake_journalctl(dir_, entries, "echo 'Hint: you are not in group systemd-journal' >&2\n");
    const RunResult r = audit({"--journal", "--uid", "998", "search", "-o", "csv"}, {path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 1u + 5u) << r.out;  // header, R1, R0, R2, R3, R5
    EXPECT_NE(r.out.find("rm -rf /var/tmp/x"), std::string::npos);
    EXPECT_NE(r.err.find("diag-audit: warning: journalctl: Hint: you are not in group systemd-journal\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(
        r.err.find("1 line(s) skipped (not JSON objects): journal:8 _EXE=/usr/bin/diag-wrapper (deleted) _UID=998"),
        std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("diag-audit: warning: 2 journal entries with SYSLOG_IDENTIFIER=diag-wrapper were not sent by "
                         "diag-wrapper as the diag account and are not records:\n"
                         "diag-audit: warning: untrusted journal entry: journal:9 _EXE=/home/eve/diag-wrapper.sh "
                         "_UID=1000: _UID=1000, not the diag account's 998\n"
                         "diag-audit: warning: untrusted journal entry: journal:10: _UID=(none), not the diag "
                         "account's 998\n"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("journalctl -u ssh"), std::string::npos) << r.out;  // R6, only from the forged entries
    const RunResult show = audit({"--journal", "--uid", "998", "show", "01a208be-7"}, {path});
    EXPECT_NE(show.out.find("decision record (journal:4 _EXE=/usr/bin/diag-wrapper _UID=998 _PID=4003)"),
              std::string::npos)
        << show.out;
}

TEST_F(DiagAudit, JournalUnavailableIsAnErrorNotAnEmptyResult) {
    RunResult r = audit({"--journal", "--uid", "998", "search"}, {"PATH=" + dir_});  // no journalctl at all
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "diag-audit: error: journalctl not found: cannot read the journal\n");
    std::string path =
        fake_journalctl(dir_, "", "echo 'No journal files were found.' >&2\necho '-- No entries --' >&2\n");
    r = audit({"--journal", "--uid", "998", "report"}, {path});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "diag-audit: error: journald is unavailable: No journal files were found.\n");
    path = fake_journalctl(dir_, "", "echo 'Failed to open journal' >&2\nexit 1\n");
    r = audit({"--journal", "--uid", "998", "search"}, {path});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "diag-audit: error: journalctl exited with status 1: Failed to open journal\n");
}

// A journalctl that prints what the real one (systemd 252) prints for `-o json`: a field of 4096
// bytes or more as null unless --all is given, a value that is not UTF-8 as an array of bytes,
// and a __CURSOR for every entry. Its argv is not checked, so an older diag-audit runs on it too.
struct JournalEntryJson {
    std::string message;  // the whole MESSAGE
    std::string uid = "998";
    std::string exe = "/usr/bin/diag-wrapper";
    bool twice = false;  // MESSAGE sent twice: journalctl prints an array of two values
};
std::string journalctl_like(const std::string& dir, const std::vector<JournalEntryJson>& entries) {
    std::string full;
    std::string cut;
    for (size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        nlohmann::json j = {{"__CURSOR", "s=5e1f;i=" + std::to_string(0x100 + i) + ";b=b007;m=1;t=2;x=3"},
                            {"SYSLOG_IDENTIFIER", "diag-wrapper"},
                            {"_UID", e.uid},
                            {"_EXE", e.exe},
                            {"_PID", std::to_string(5000 + i)}};
        j["MESSAGE"] = e.twice ? nlohmann::json::array({e.message, e.message}) : nlohmann::json(e.message);
        full += j.dump() + "\n";
        if (e.message.size() >= 4096) {
            j["MESSAGE"] = nullptr;
        }
        cut += j.dump() + "\n";
    }
    std::ofstream(dir + "/full.json") << full;
    std::ofstream(dir + "/cut.json") << cut;
    const std::string script = dir + "/journalctl";
    std::ofstream(script) << "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = --all ] && exec /bin/cat " << dir
                          << "/full.json; done\nexec /bin/cat " << dir << "/cut.json\n";
    ::chmod(script.c_str(), 0755);
    return "PATH=" + dir + ":/usr/bin:/bin";
}

// Issue #12: the tokenizer collapses blanks but the record keeps the raw request, so
// `uname<3300 spaces>-a` runs and its records are over 4096 bytes. Without --all journalctl
// printed their MESSAGE as null and both records vanished from every command.
TEST_F(DiagAudit, JournalLongRequestIsNotHidden) {
    const auto lines = fixture_lines();
    auto decision = nlohmann::json::parse(lines[3]);  // R2: allowed uname -a, decision then end
    auto end = nlohmann::json::parse(lines[4]);
    const std::string cmd = "uname" + std::string(3300, ' ') + "-a";
    decision["process"]["command_line"] = cmd;
    end["process"]["command_line"] = cmd;
    auto lone = nlohmann::json::parse(lines[5]);  // R3: its decision alone, as if the end were lost
    lone["process"]["command_line"] = "cat" + std::string(5000, ' ') + "/etc/hostname";
    lone["diag"]["decision"] = "allow";
    lone["diag"]["reason"] = "allowed";
    const std::string path = journalctl_like(dir_, {{decision.dump()}, {end.dump()}, {lone.dump()}});
    const std::vector<std::string> uid = {"--journal", "--uid", "998"};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.begin(), uid.begin(), uid.end());
        return audit(args, {path});
    };
    RunResult r = with({"search", "-o", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 2u) << r.out << r.err;
    EXPECT_NE(r.out.find("uname" + std::string(3300, ' ') + "-a"), std::string::npos);
    EXPECT_EQ(r.err, "");
    r = with({"search", "--incomplete", "-o", "text"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 1u) << r.out;
    EXPECT_NE(r.out.find("/etc/hostname"), std::string::npos) << r.out;
    r = with({"show", decision["diag"]["request_id"].get<std::string>()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("exit 0"), std::string::npos) << r.out;
    r = with({"report", "-o", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out).value("requests", -1), 2) << r.out;
}

// An entry of diag-wrapper whose MESSAGE cannot be read is reported with its cursor, and the
// command exits 3: the request in it is unknown, so neither "nothing found" nor "complete" holds.
TEST_F(DiagAudit, JournalUnreadableEntryIsReportedWithItsCursor) {
    const auto lines = fixture_lines();
    const std::string path = journalctl_like(dir_, {{lines[3]}, {lines[5], "998", "/usr/bin/diag-wrapper", true}});
    for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
             {"search"}, {"search", "--incomplete"}, {"report"}, {"show", "01a208be-7"}}) {
        std::vector<std::string> args = {"--journal", "--uid", "998"};
        args.insert(args.end(), cmd.begin(), cmd.end());
        const RunResult r = audit(args, {path});
        EXPECT_EQ(r.exit_code, 3) << cmd[0] << ": " << r.err;
        EXPECT_NE(r.err.find("diag-audit: warning: unreadable journal entry of diag-wrapper, not shown: journal:2 "
                             "_EXE=/usr/bin/diag-wrapper _UID=998 _PID=5001 __CURSOR=s=5e1f;i=257;b=b007;m=1;t=2;x=3: "
                             "MESSAGE is not one value"),
                  std::string::npos)
            << cmd[0] << ": " << r.err;
    }
}

// Issue #12: any local account can run the world-executable wrapper, so _EXE alone does not make
// an entry a record; journald's _UID must be the diag account's too. Forged entries are reported
// with cursor and their real _UID, never shown and never dropped silently.
TEST_F(DiagAudit, JournalTrustsOnlyTheDiagAccount) {
    const auto lines = fixture_lines();
    const std::string path = journalctl_like(dir_, {{lines[3]}, {lines[9], "1000"}});
    RunResult r = audit({"--journal", "--uid", "998", "search", "-o", "csv"}, {path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("journalctl -u ssh"), std::string::npos) << r.out;  // R6, forged by uid 1000
    EXPECT_NE(r.err.find("untrusted journal entry: journal:2 _EXE=/usr/bin/diag-wrapper _UID=1000 _PID=5001 "
                         "__CURSOR=s=5e1f;i=257;b=b007;m=1;t=2;x=3: _UID=1000, not the diag account's 998"),
              std::string::npos)
        << r.err;
    // The account by name, from the passwd file; an unknown one is a usage error, not "trust all".
    r = audit({"--journal", "--account", "no-such-account-here", "search"}, {path});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("account 'no-such-account-here' is not in /etc/passwd"), std::string::npos) << r.err;
    r = audit({"--journal", "--account", "root", "search", "-o", "csv"}, {path});
    EXPECT_EQ(r.exit_code, 1) << r.err;  // root (uid 0) sent none of them
    EXPECT_NE(r.err.find("_UID=998, not the diag account's 0"), std::string::npos) << r.err;
}

// Issue #12: invisible characters printed raw let `cat /etc/sha<U+00AD>dow` read as
// `cat /etc/shadow`, a lookalike backquote closed the quoting, and ;= cells reached spreadsheets.
TEST_F(DiagAudit, NoInvisibleOrLookalikeCharacterIsPrintedRaw) {
    const auto lines = fixture_lines();
    auto a = nlohmann::json::parse(lines[5]);  // R3: denied cat /etc/shadow
    a["process"]["command_line"] =
        "cat /etc/sha\xc2\xad"
        "dow";
    auto b = nlohmann::json::parse(lines[9]);
    b["process"]["command_line"] = "id \xcb\x8b: exit 0 \xef\xbd\x80 x\xf3\xa0\x81\x81";
    auto c = nlohmann::json::parse(lines[3]);
    c["process"]["command_line"] = ";=cmd|' /C calc'!A0";
    const std::string file = write("spoof.jsonl", a.dump() + "\n" + b.dump() + "\n" + c.dump() + "\n");
    RunResult r = audit({"--file", file, "search", "-o", "text"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("`cat /etc/sha\\u{00AD}dow`"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("`id \\u{02CB}: exit 0 \\u{FF40} x\\u{E0041}`"), std::string::npos) << r.out;
    r = audit({"--file", file, "search", "-o", "csv"});
    EXPECT_NE(r.out.find(",\"';=cmd|' /C calc'!A0\","), std::string::npos) << r.out;
}

TEST_F(DiagAudit, FollowJournalStopsJournalctlAtCount) {
    const auto lines = fixture_lines();
    // A forged entry first (R6's decision, sent by another program), then R2 decision, R2 end, R3.
    std::string entries = nlohmann::json({{"MESSAGE", lines[9]}, {"_EXE", "/tmp/forger"}}).dump() + "\n";
    for (size_t i = 3; i < 6; ++i) {
        entries +=
            nlohmann::json({{"MESSAGE", lines[i]}, {"_EXE", "/usr/bin/diag-wrapper"}, {"_UID", "998"}}).dump() + "\n";
    }
    std::ofstream(dir_ + "/entries.json") << entries;
    const std::string script = dir_ + "/journalctl";
    // journalctl -f: the entries, then it keeps running until diag-audit stops it.
    // Its pid first (diag-audit may stop it as soon as the entries are out), then the entries.
    const std::string body =
        "[ \"$*\" = \"-o json SYSLOG_IDENTIFIER=diag-wrapper --no-pager --all -f -n 2\" ] || "
        "{ echo \"bad argv: $*\" >&2; exit 3; }\n"
        "echo $$ > " +
        dir_ +
        "/pid\n"
        "/bin/cat " +
        dir_ +
        "/entries.json\n"
        "exec /bin/sleep 60\n";
    std::ofstream(script) << "#!/bin/sh\n" << body;
    ::chmod(script.c_str(), 0755);
    const auto start = std::chrono::steady_clock::now();
    const RunResult r = audit({"--journal", "--uid", "998", "follow", "--lines", "2", "--count", "3", "-o", "text"},
                              {"PATH=" + dir_ + ":/usr/bin:/bin"});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(count_lines(r.out), 3u) << r.out << r.err;
    EXPECT_NE(r.out.find("started `uname -a`"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("ran `uname -a` (rule uname): exit 0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("was denied `cat /etc/shadow`"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("journalctl -u ssh"), std::string::npos) << r.out;
    EXPECT_NE(
        r.err.find("diag-audit: warning: untrusted journal entry: journal:1 _EXE=/tmp/forger: _UID=(none), not the "
                   "diag account's 998\n"),
        std::string::npos)
        << r.err;
    std::ifstream pid_file(dir_ + "/pid");
    pid_t pid = 0;
    pid_file >> pid;
    ASSERT_GT(pid, 0);
    EXPECT_NE(::kill(pid, 0), 0);  // journalctl was stopped and reaped
}

// A request the client controls can be tens of kilobytes long; std::regex_search recursed once
// per character and diag-audit died of SIGSEGV (issue #12). Exit 0/1, never a signal.
TEST_F(DiagAudit, CommandSearchOnALongRequestDoesNotCrash) {
    const auto lines = fixture_lines();
    auto rec = nlohmann::json::parse(lines[3]);  // R2's decision, allowed uname -a
    rec["process"]["command_line"] = "uname" + std::string(40 * 1024, ' ') + "-a";
    auto aaa = nlohmann::json::parse(lines[7]);
    aaa["process"].erase("command_line_b64");
    aaa["process"]["command_line"] = std::string(40 * 1024, 'a');
    const std::string file = write("long.jsonl", rec.dump() + "\n" + aaa.dump() + "\n");
    const std::pair<const char*, int> cases[] = {
        {"^uname +-a$", 0}, {"(a|b)*c", 1}, {"^(a+)+$", 0}, {".*x", 1}, {"uname.*-a", 0},
    };
    for (const auto& [pattern, want] : cases) {
        const RunResult r = audit({"--file", file, "search", "--command", pattern, "-o", "json"});
        EXPECT_EQ(r.exit_code, want) << pattern << ": " << r.err;
    }
}

TEST_F(DiagAudit, UsageAndVersion) {
    RunResult r = audit({});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "diag-audit: error: no command (search, show, report or follow) (see diag-audit --help)\n");
    r = audit({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("usage: diag-audit", 0), 0u);
    r = audit({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("diag-audit ", 0), 0u);
}

// What the real wrapper writes, read back: the schema both sides agree on.
class DiagAuditWrapper : public WrapperFixture {
  protected:
    // Runs the shell script `inner` with a private systemd-journald (tests/helpers/
    // journald_sandbox.sh); exit 77 when this host cannot give it one.
    static RunResult with_private_journal(const std::string& inner) {
        return run_process({std::string(DIAG_SOURCE_DIR) + "/tests/helpers/journald_sandbox.sh", "/bin/sh", inner},
                           {"PATH=/usr/bin:/bin:/usr/sbin:/sbin"});
    }
};

TEST_F(DiagAuditWrapper, ReadsWhatTheWrapperWrites) {
    const auto p =
        write_policy(policy("[command.cat]\nmatch = [\"cat\"]\ndescription = \"Print files\"\n"
                            "positional = [{ type = \"path\", max = 2 }]\n"));
    const auto ok = run_soc(p, "cat " + dir_ + "/pub/readme.txt");
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    (void)run_soc(p, "cat " + dir_ + "/secret/canary.txt");
    (void)run_soc(p, "rm -rf /");
    RunResult r = audit({"--file", audit_, "search", "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    ASSERT_EQ(count_lines(r.out), 4u) << r.out;
    EXPECT_NE(r.out.find(",allow,allowed,cat,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(",192.0.2.7,50000,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(",0,,false,"), std::string::npos) << r.out;  // exit 0, no signal, not timed out
    EXPECT_NE(r.out.find(",deny,path-denied,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(",deny,unknown-command,"), std::string::npos) << r.out;
    r = audit({"--file", audit_, "search", "--incomplete"});
    EXPECT_EQ(r.exit_code, 1);  // the allowed request has its end record
    const std::string id = nlohmann::json::parse(
        audit({"--file", audit_, "search", "-o", "json", "--decision", "allow"}).out)["request_id"];
    r = audit({"--file", audit_, "show", id.substr(0, 20)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("end (+"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("): exit 0, 14 bytes"), std::string::npos) << r.out;  // "public-readme\n"
}

// The journal findings of issue #12 against a real systemd-journald (tests/helpers/
// journald_sandbox.sh: a private one in a mount namespace; skipped where that cannot run). The
// real wrapper logs `cat<3300 spaces>FILE` (a record over 4096 bytes) as root, and the same
// wrapper run by another account (nobody) logs a forged-looking entry: diag-audit --uid 0 must
// show the first, both of its records, and report the second as untrusted with its cursor.
TEST_F(DiagAuditWrapper, RealJournaldKeepsLongRequestsAndRejectsOtherAccounts) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root: a private journald runs in a mount namespace";
    }
    std::string text = policy(
        "[command.cat]\nmatch = [\"cat\"]\ndescription = \"Print files\"\n"
        "positional = [{ type = \"path\", max = 2 }]\n");
    text.replace(text.find("sinks = [\"file\"]"), 16, "sinks = [\"journald\"]");
    const auto p = write_policy(text);
    const std::string request = "cat" + std::string(3300, ' ') + dir_ + "/pub/readme.txt";
    const std::string inner = dir_ + "/inner.sh";
    write(inner,
          "#!/bin/sh\n"
          "export SSH_CONNECTION='192.0.2.7 50000 127.0.0.1 22' PATH=/usr/bin:/bin\n"
          "SSH_ORIGINAL_COMMAND='" +
              request + "' " DIAG_WRAPPER_BIN " --policy " + p + " >" + dir_ +
              "/w.out\n"
              "SSH_ORIGINAL_COMMAND='rm -rf /' setpriv --reuid=65534 --regid=65534 --clear-groups " DIAG_WRAPPER_BIN
              " --policy " +
              p +
              " 2>/dev/null\n"
              "n=0; until [ \"$(journalctl -o cat SYSLOG_IDENTIFIER=diag-wrapper | wc -l)\" -ge 3 ] || [ $n -ge 100 ]; "
              "do n=$((n + 1)); sleep 0.05; done\n"
              "for c in search 'search --incomplete'; do\n"
              "  " +
              audit_bin() +
              " --journal --uid 0 $c -o json; echo \"rc=$?\"\n"
              "done >" +
              dir_ + "/a.out 2>" + dir_ + "/a.err\n",
          0755);
    const RunResult r = with_private_journal(inner);
    if (r.exit_code == 77) {
        GTEST_SKIP() << "no private journald here: " << r.err;
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ifstream out_in(dir_ + "/a.out");
    const std::string out((std::istreambuf_iterator<char>(out_in)), std::istreambuf_iterator<char>());
    std::ifstream err_in(dir_ + "/a.err");
    const std::string err((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
    // search: the long request, allowed, joined with its end record (exit 0); --incomplete: none.
    const size_t first_rc = out.find("rc=");
    ASSERT_NE(first_rc, std::string::npos) << out << err;
    EXPECT_EQ(out.substr(first_rc, 5), "rc=0\n") << out << err;
    const auto row = nlohmann::json::parse(out.substr(0, first_rc), nullptr, false);
    ASSERT_TRUE(row.is_object()) << out;
    EXPECT_EQ(row["decision"]["process"]["command_line"], request);
    EXPECT_FALSE(row["end"].is_null()) << out;
    EXPECT_EQ(row["incomplete"], false);
    EXPECT_NE(out.find("rc=1\n", first_rc + 5), std::string::npos) << out;  // nothing incomplete
    // The other account's entry: not a record, reported with its cursor and real _UID.
    EXPECT_NE(err.find("untrusted journal entry: journal:"), std::string::npos) << err;
    EXPECT_NE(err.find("_UID=65534 _PID="), std::string::npos) << err;
    EXPECT_NE(err.find("__CURSOR=s="), std::string::npos) << err;
    EXPECT_NE(err.find(": _UID=65534, not the diag account's 0"), std::string::npos) << err;
    EXPECT_EQ(out.find("rm -rf"), std::string::npos) << out;
}

// diag-audit verify over a real journal: the wrapper's chained records are whole, and an entry
// another account sends under the wrapper's name (logger --journald, as any local account can)
// is reported and makes the trail not whole.
TEST_F(DiagAuditWrapper, VerifyOverARealJournalReportsAnotherAccountsEntry) {
    if (::geteuid() != 0 || ::access("/usr/bin/logger", X_OK) != 0) {
        GTEST_SKIP() << "needs root (a private journald in a mount namespace) and logger";
    }
    const std::string state = dir_ + "/chain";
    write(state, "", 0660);
    audit_extra_ = "chain = \"" + state + "\"\n";
    std::string text = policy(
        "[command.cat]\nmatch = [\"cat\"]\ndescription = \"Print files\"\n"
        "positional = [{ type = \"path\", max = 2 }]\n");
    text.replace(text.find("sinks = [\"file\"]"), 16, "sinks = [\"journald\"]");
    const auto p = write_policy(text);
    const std::string forged =
        "{\"@timestamp\":\"2026-12-06T00:00:01Z\",\"event\":{\"action\":\"decision\"},"
        "\"diag\":{\"request_id\":\"forged-1\",\"decision\":\"allow\",\"seq\":2}}";
    const std::string inner = dir_ + "/inner.sh";
    write(inner,
          "#!/bin/sh\n"
          "export SSH_CONNECTION='192.0.2.7 50000 127.0.0.1 22' PATH=/usr/bin:/bin\n"
          "for r in 'cat " +
              dir_ +
              "/pub/readme.txt' 'nosuch x'; do\n"
              "  SSH_ORIGINAL_COMMAND=\"$r\" " DIAG_WRAPPER_BIN " --policy " +
              p +
              " >/dev/null 2>&1\n"
              "done\n"
              "n=0; until [ \"$(journalctl -o cat SYSLOG_IDENTIFIER=diag-wrapper | wc -l)\" -ge 3 ] || [ $n -ge 100 ]; "
              "do n=$((n + 1)); sleep 0.05; done\n"
              "" +
              audit_bin() +
              " --journal --uid 0 verify; echo \"rc=$?\"\n"
              "printf 'SYSLOG_IDENTIFIER=diag-wrapper\\nMESSAGE=%s\\n' '" +
              forged + "' >" + dir_ +
              "/forged.entry\n"
              "setpriv --reuid=65534 --regid=65534 --clear-groups logger --journald=" +
              dir_ +
              "/forged.entry\n"
              "n=0; until [ \"$(journalctl -o cat SYSLOG_IDENTIFIER=diag-wrapper | wc -l)\" -ge 4 ] || [ $n -ge 100 ]; "
              "do n=$((n + 1)); sleep 0.05; done\n"
              "" +
              audit_bin() + " --journal --uid 0 verify; echo \"rc=$?\"\n",
          0755);
    ::chmod(dir_.c_str(), 0755);
    const RunResult r = with_private_journal(inner);
    if (r.exit_code == 77) {
        GTEST_SKIP() << "no private journald here: " << r.err;
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const size_t first = r.out.find("rc=");
    ASSERT_NE(first, std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.substr(first, 5), "rc=0\n") << r.out << r.err;  // the chained records, whole
    EXPECT_NE(r.out.substr(0, first).find("verify: 3 chained record(s)"), std::string::npos) << r.out;
    const std::string after = r.out.substr(first + 5);
    EXPECT_NE(after.find("rc=1\n"), std::string::npos) << r.out << r.err;
    EXPECT_NE(after.find("unchained"), std::string::npos) << r.out;
    EXPECT_NE(after.find("_UID=65534"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace diag::testing
