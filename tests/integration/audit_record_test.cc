// SPDX-License-Identifier: Apache-2.0
// The record itself (issue #12): bounded whatever the client sends, filter fields first, fitting
// the datagram sinks, no sensitive value in any field, and refused callers of another account.
#include <sys/socket.h>
#include <sys/un.h>

#include <string>
#include <vector>

#include "tests/helpers/policies.h"
#include "tests/integration/harness.h"
#include "wrapper/base/encoding.h"
#include "wrapper/base/sha256.h"
#include "wrapper/record/bound.h"

namespace diag::testing {
namespace {

constexpr const char* kPinRule = R"toml(
[command.pin]
match = ["pin"]
program = "echo"
description = "Takes a sensitive number (test only)"
[[command.pin.positional]]
type = "int"
sensitive = true
)toml";

// A path the policy marks sensitive: its canonical form, the symlinks followed and the argument
// the child is given all come from it.
constexpr const char* kSecretPathRule = R"toml(
[command.spath]
match = ["spath"]
program = "cat"
description = "Reads a file whose name is sensitive (test only)"
[[command.spath.positional]]
type = "path"
sensitive = true
)toml";

// An int option -n beside a sensitive argument: a refused `secho -NUM` is told `secho -n NUM`.
constexpr const char* kSechoRule = R"toml(
[command.secho]
match = ["secho"]
program = "echo"
description = "Echoes a sensitive word (test only)"
option = [{ names = ["-n"], type = "int" }]
[[command.secho.positional]]
type = "string"
sensitive = true
)toml";

std::string commands() { return policies::rules({"echo"}) + kPinRule + kSecretPathRule + kSechoRule; }

// 63 arguments of 63 two-byte characters: under the tokenizer's 8 KiB, but each character costs 6
// bytes as JSON, three times over (command line, argv, executed argv).
std::string wide_request() {
    std::string arg;
    for (int i = 0; i < 63; ++i) {
        arg += "\xc3\xa9";  // U+00E9
    }
    std::string r = "echo";
    for (int i = 0; i < 63; ++i) {
        r += " " + arg;
    }
    return r;
}

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) {
        out.push_back(l);
    }
    return out;
}

// Every field an auditor filters on precedes the client-controlled bulk of the line.
void expect_filter_fields_first(const std::string& line) {
    size_t bulk = line.size();
    for (const char* k : {"\"command_line\"", "\"argv\"", "\"args\""}) {
        bulk = std::min(bulk, line.find(k));
    }
    for (const char* k :
         {"\"@timestamp\"", "\"decision\"", "\"rule\"", "\"reason\"", "\"request_id\"", "\"user\"", "\"source\""}) {
        const size_t at = line.find(k);
        const bool optional = std::string(k) == "\"reason\"" || std::string(k) == "\"rule\"";  // not on every record
        if (optional && at == std::string::npos) {
            continue;
        }
        ASSERT_NE(at, std::string::npos) << k;
        EXPECT_LT(at, bulk) << k << " comes after the request in: " << line.substr(0, 300);
        EXPECT_LT(at, size_t{2048}) << k;
    }
}

// A datagram socket of our own, standing in for journald or /dev/log.
class Receiver {
  public:
    explicit Receiver(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    }
    ~Receiver() { ::close(fd_); }
    [[nodiscard]] bool bound() const { return bound_; }
    std::vector<std::string> all() {
        std::vector<std::string> out;
        std::string buf(1 << 20, '\0');
        for (ssize_t n; (n = ::recv(fd_, buf.data(), buf.size(), 0)) >= 0;) {
            out.push_back(buf.substr(0, static_cast<size_t>(n)));
        }
        return out;
    }

  private:
    std::string path_;
    int fd_ = -1;
    bool bound_ = false;
};

class AuditRecord : public WrapperFixture {
  protected:
    std::string with_sinks(const std::string& sinks, const std::string& extra_audit) {
        std::string text = policy(commands());
        const std::string from = "sinks = [\"file\"]\n";
        text.replace(text.find(from), from.size(), "sinks = " + sinks + "\n" + extra_audit);
        return write_policy(text);
    }
};

TEST_F(AuditRecord, OversizedRequestGetsABoundedRecordWithFilterFieldsFirst) {
    const auto p = write_policy(policy(commands()));
    const std::string request = wide_request();
    auto r = run_soc(p, request);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // Over the tokenizer's limit: refused, and the record still bounded.
    const std::string huge = "echo " + std::string(100000, 'x');
    auto refused = run_soc(p, huge);
    EXPECT_DENIED(refused, "parse-limit");
    const auto lines = lines_of(audit_);
    ASSERT_EQ(lines.size(), 3u);
    for (const auto& l : lines) {
        EXPECT_LE(l.size(), audit_bound::kMaxRecordBytes);
        expect_filter_fields_first(l);
    }
    const auto decision = nlohmann::json::parse(lines[0]);
    bool request_noted = false;
    for (const auto& t : decision["diag"]["truncated"]) {
        if (t["field"] == "process.command_line") {
            request_noted = true;
            EXPECT_EQ(t["length"], request.size());
            EXPECT_EQ(t["sha256"], sha256_hex(request));
        }
    }
    EXPECT_TRUE(request_noted) << lines[0].substr(0, 2000);
    // The kept prefix is the request's first bytes.
    const std::string kept = decision["process"]["command_line"];
    EXPECT_GT(kept.size(), 100u);
    EXPECT_EQ(request.compare(0, kept.size(), kept), 0);
    const auto limit = nlohmann::json::parse(lines[2]);
    EXPECT_EQ(limit["diag"]["reason"], "parse-limit");
    EXPECT_EQ(limit["diag"]["truncated"][0]["length"], huge.size());
    EXPECT_EQ(limit["diag"]["truncated"][0]["sha256"], sha256_hex(huge));
}

TEST_F(AuditRecord, SyslogSinkGetsTheSameLineWithinItsCap) {
    Receiver syslog(dir_ + "/log.sock");
    ASSERT_TRUE(syslog.bound());
    const auto p = with_sinks("[\"file\", \"syslog\"]", "syslog_socket = \"" + dir_ + "/log.sock\"\n");
    auto r = run_soc(p, wide_request());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto got = syslog.all();
    const auto lines = lines_of(audit_);
    ASSERT_EQ(got.size(), 2u);
    ASSERT_EQ(lines.size(), 2u);
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_LE(got[i].size(), size_t{8192});
        EXPECT_EQ(got[i].rfind("<8", 0), 0u) << got[i].substr(0, 40);  // authpriv
        const size_t body = got[i].find("]: ");
        ASSERT_NE(body, std::string::npos);
        // One line for every sink: the chain hashes the same bytes wherever it is read.
        EXPECT_EQ(got[i].substr(body + 3), lines[i]);
        expect_filter_fields_first(lines[i]);
    }
}

TEST_F(AuditRecord, JournaldSinkGetsARecordThatFits) {
    Receiver journal(dir_ + "/journal.sock");
    ASSERT_TRUE(journal.bound());
    const auto p = with_sinks("[\"journald\"]", "journald_socket = \"" + dir_ + "/journal.sock\"\n");
    auto r = run_soc(p, wide_request());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto got = journal.all();
    ASSERT_EQ(got.size(), 2u);
    ASSERT_EQ(got[0].rfind("MESSAGE={", 0), 0u);
    const std::string message = got[0].substr(8, got[0].find('\n') - 8);
    EXPECT_LE(message.size(), audit_bound::kMaxRecordBytes);
    expect_filter_fields_first(message);
    EXPECT_EQ(nlohmann::json::parse(message)["diag"]["decision"], "allow");
    EXPECT_NE(got[0].find("\nDIAG_DECISION=allow\n"), std::string::npos);
}

TEST_F(AuditRecord, SensitiveValuesNeverReachTheMessage) {
    const auto p = write_policy(policy(commands()));
    const std::string secret = "hunter2-" + std::to_string(::getpid());
    auto r = run_soc(p, "pin " + secret);  // not an int: refused, and the message names the argument
    EXPECT_DENIED(r, "bad-value");
    std::ifstream in(audit_);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(secret), std::string::npos) << all;
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_NE(recs[0]["diag"]["message"].get<std::string>().find("[redacted]"), std::string::npos);
}

// Review finding: a sensitive path argument was hidden as typed, but its canonical form (which
// names the same file) stayed in diag.paths and in the executed argv, and the symlinks followed
// to it in diag.paths.hops.
TEST_F(AuditRecord, SensitivePathNeverReachesTheRecordInAnyForm) {
    const auto p = write_policy(policy(commands()));
    const std::string secret = "token-" + std::to_string(::getpid());
    write(dir_ + "/pub/" + secret + ".txt", "public-content\n", 0644);
    std::filesystem::create_symlink(dir_ + "/pub/" + secret + ".txt", dir_ + "/pub/lnk");
    std::filesystem::create_symlink(dir_ + "/pub/sub/../" + secret + ".txt", dir_ + "/pub/" + secret + "-hop");
    for (const std::string& arg :
         {dir_ + "/pub/lnk", dir_ + "/pub/sub/../" + secret + ".txt", dir_ + "/pub/" + secret + "-hop"}) {
        auto r = run_soc(p, "spath " + arg);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "public-content\n");
    }
    std::ifstream in(audit_);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(secret), std::string::npos) << all;
    EXPECT_EQ(all.find("/pub/lnk"), std::string::npos) << all;
}

// Review finding (issue #14): a sensitive path argument written as a glob was hidden as typed
// (the pattern), but its match, the very name the policy calls sensitive, stayed in diag.paths
// (input and resolved) and in the executed argv.
TEST_F(AuditRecord, SensitivePathGivenAsAGlobNeverReachesTheRecord) {
    const auto p = write_policy(policy(commands()));
    const std::string secret = "token-" + std::to_string(::getpid());
    write(dir_ + "/pub/" + secret + ".txt", "public-content\n", 0644);
    auto r = run_soc(p, "spath " + dir_ + "/pub/token-*.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-content\n");
    // A withheld match is named in diag.withheld: the same name, the same secret.
    const std::string other = "token-w" + std::to_string(::getpid());
    std::filesystem::create_symlink(dir_ + "/secret/canary.txt", dir_ + "/pub/" + other + ".txt");
    auto w = run_soc(p, "spath " + dir_ + "/pub/token-*.txt");
    EXPECT_EQ(w.out, "public-content\n") << w.err;
    std::ifstream in(audit_);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(secret), std::string::npos) << all;
    EXPECT_EQ(all.find(other), std::string::npos) << all;
}

// Review finding: the "-NUM" hint wrote a sensitive argument's digits into the message
// (`secho -20491` -> "... the allowed form is secho -n 20491"), and a sensitive token longer than
// the 80 bytes a message echoes left its first 80 bytes there; neither is a whole token.
TEST_F(AuditRecord, SensitiveValuesNeverReachTheMessageOfAHint) {
    const auto p = write_policy(policy(commands()));
    const std::string digits = "73591" + std::to_string(::getpid() % 1000 + 1000);
    auto r = run_soc(p, "secho -" + digits);
    EXPECT_DENIED(r, "unknown-option");
    EXPECT_NE(r.err.find("secho -n " + digits), std::string::npos) << r.err;  // the client sent it
    const std::string long_secret = "hunter4-" + std::to_string(::getpid()) + std::string(100, 'q');
    auto r2 = run_soc(p, "secho --" + long_secret);
    EXPECT_DENIED(r2, "unknown-option");
    std::ifstream in(audit_);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(digits), std::string::npos) << all;
    EXPECT_EQ(all.find(long_secret.substr(0, 16)), std::string::npos) << all;
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0]["diag"]["message"], "unknown-option [redacted]");
    EXPECT_EQ(recs[1]["diag"]["message"], "unknown-option [redacted]");
}

// Review finding: a request that did not tokenize kept its raw text in the record, secret and
// all (`pin SECRET;`, an unclosed quote, a control byte, invalid UTF-8).
TEST_F(AuditRecord, SensitiveValuesNeverReachTheRecordOfARequestThatDidNotTokenize) {
    const auto p = write_policy(policy(commands()));
    const std::string secret = "hunter3-" + std::to_string(::getpid());
    for (const std::string& req :
         {"pin " + secret + ";", "pin '" + secret, "pin " + secret + "\x01", "pin " + secret + "\xff"}) {
        auto r = run_soc(p, req);
        EXPECT_EQ(r.exit_code, 126) << r.err;
    }
    std::ifstream in(audit_);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(secret), std::string::npos) << all;
    EXPECT_EQ(all.find(util::base64_encode(" " + secret)), std::string::npos);
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 4u);
    EXPECT_EQ(recs[0]["process"]["command_line"], "pin [redacted]");
}

TEST_F(AuditRecord, CallerOfAnotherAccountIsRefusedWithARecord) {
    std::string text = policy(commands());
    text.replace(text.find("[settings]\n"), 11, "[settings]\naccount = \"nobody\"\n");
    const auto p = write_policy(text);
    auto r = run_soc(p, "echo hi");  // we are root, not nobody
    EXPECT_DENIED(r, "wrong-account");
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["diag"]["decision"], "deny");
    EXPECT_EQ(recs[0]["diag"]["reason"], "wrong-account");
    EXPECT_EQ(recs[0]["diag"]["origin"]["account_checked"], true);
    EXPECT_EQ(recs[0]["diag"]["origin"]["account_mismatch"]["expected"], "nobody");
    EXPECT_EQ(recs[0]["diag"]["origin"]["account_mismatch"]["uid"], 0);
}

TEST_F(AuditRecord, RecordSaysWhetherTheAccountWasChecked) {
    std::string text = policy(commands());
    text.replace(text.find("[settings]\n"), 11, "[settings]\naccount = \"root\"\n");
    auto r = run_soc(write_policy(text, "checked.toml"), "echo hi");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto r2 = run_soc(write_policy(policy(commands())), "echo hi");
    EXPECT_EQ(r2.exit_code, 0) << r2.err;
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 4u);
    EXPECT_EQ(recs[0]["diag"]["origin"]["account_checked"], true);
    EXPECT_EQ(recs[2]["diag"]["origin"]["account_checked"], false);
    // Not started by sshd: nothing vouches for SSH_CONNECTION.
    EXPECT_EQ(recs[0]["diag"]["origin"]["root_sshd"], false);
}

}  // namespace
}  // namespace diag::testing
