// SPDX-License-Identifier: Apache-2.0
// Sensitive arguments in the audit record (adr/0008): what is hidden, and what the record keeps
// of it. The records the wrapper writes are checked end to end in
// tests/integration/audit_record_test.cc.
#include "wrapper/record/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wrapper/base/sha256.h"

namespace diag::redact {
namespace {

using nlohmann::json;

json record_for(const std::vector<std::string>& argv) {
    json rec;
    rec["process"]["command_line"] = "as sent";
    rec["process"]["command_line_b64"] = "YXMgc2VudA==";
    rec["process"]["args"] = json::array({"/usr/bin/tool"});
    for (size_t i = 1; i < argv.size(); ++i) {
        rec["process"]["args"].push_back(argv[i]);
    }
    rec["diag"]["argv"] = argv;
    return rec;
}

TEST(Redact, HidesTheValueAndAnOptionCarryingIt) {
    const Redaction r{{"s3cret"}, false};
    EXPECT_TRUE(hides(r, "s3cret", 2));
    EXPECT_TRUE(hides(r, "--token=s3cret", 1));
    EXPECT_TRUE(hides(r, "-ts3cret", 1));
    EXPECT_FALSE(hides(r, "xs3cret", 1));  // not an option: another value
    EXPECT_FALSE(hides(r, "--token", 1));
}

TEST(Redact, AllButFirstHidesEveryArgumentAfterTheFirst) {
    const Redaction r{{}, true};
    EXPECT_FALSE(hides(r, "tool", 0));
    EXPECT_TRUE(hides(r, "anything", 1));
}

TEST(Redact, EmptyValuesHideNothing) {
    const Redaction r{{""}, false};
    EXPECT_FALSE(hides(r, "", 1));
    EXPECT_FALSE(hides(r, "-t", 1));
}

TEST(Redact, ApplyKeepsHashAndLengthInsteadOfTheValue) {
    const std::vector<std::string> argv = {"tool", "--token=s3cret", "plain"};
    json rec = record_for(argv);
    apply(rec, Redaction{{"s3cret"}, false}, argv);
    EXPECT_EQ(rec["diag"]["argv"], json({"tool", "[redacted]", "plain"}));
    EXPECT_EQ(rec["process"]["args"], json({"/usr/bin/tool", "[redacted]", "plain"}));
    EXPECT_EQ(rec["process"]["command_line"], "tool '[redacted]' plain");
    EXPECT_EQ(rec["process"]["command_line_redacted"], true);
    EXPECT_FALSE(rec["process"].contains("command_line_b64"));
    ASSERT_EQ(rec["diag"]["sensitive"].size(), 1U);
    EXPECT_EQ(rec["diag"]["sensitive"][0]["argv_index"], 1);
    EXPECT_EQ(rec["diag"]["sensitive"][0]["sha256"], sha256_hex("--token=s3cret"));
    EXPECT_EQ(rec["diag"]["sensitive"][0]["length"], std::string("--token=s3cret").size());
}

TEST(Redact, ApplyWithNothingToHideLeavesTheRecord) {
    const std::vector<std::string> argv = {"tool", "plain"};
    json rec = record_for(argv);
    const json before = rec;
    apply(rec, Redaction{}, argv);
    EXPECT_EQ(rec, before);
}

TEST(Redact, InTextReplacesTheLongestValueFirst) {
    const Redaction r{{"ab", "abcd"}, false};
    EXPECT_EQ(in_text(r, {}, "x abcd y ab"), "x [redacted] y [redacted]");
}

TEST(Redact, InTextHidesTheArgumentsAllButFirstHides) {
    const Redaction r{{}, true};
    EXPECT_EQ(in_text(r, {"tool", "pa55"}, "tool: bad value pa55"), "tool: bad value [redacted]");
}

TEST(Redact, DerivedHidesMessageDenyEntryAndPaths) {
    json rec;
    rec["diag"]["message"] = "bad value s3cret";
    rec["diag"]["deny_entry"] = "/s3cret";
    rec["diag"]["paths"] = json::array({{{"input", "/tmp/s3cret"}, {"hops", json::array({"/s3cret"})}}});
    rec["diag"]["rule"] = "s3cret";  // not derived from the request
    derived(rec, Redaction{{"s3cret"}, false}, {});
    EXPECT_EQ(rec["diag"]["message"], "bad value [redacted]");
    EXPECT_EQ(rec["diag"]["deny_entry"], "/[redacted]");
    EXPECT_EQ(rec["diag"]["paths"][0]["input"], "/tmp/[redacted]");
    EXPECT_EQ(rec["diag"]["paths"][0]["hops"][0], "/[redacted]");
    EXPECT_EQ(rec["diag"]["rule"], "s3cret");
}

// Review finding: a hint rewrites an argument (`-20491` -> "-n 20491") and the message cuts a
// long one at 80 bytes; neither is a whole token, so replacing tokens left the secret's text in
// the message. When every argument is hidden, nothing of the message derived from them is kept.
TEST(Redact, AllButFirstKeepsOnlyTheReasonOfTheMessage) {
    const std::string long_secret(120, 'q');
    const std::vector<std::string> argv = {"echo", "-20491", long_secret};
    json rec;
    rec["diag"]["reason"] = "unknown-option";
    rec["diag"]["message"] =
        "'-2' is not an option of echo; the allowed form is echo -n 20491 (" + long_secret.substr(0, 80) + "...)";
    derived(rec, Redaction{{}, true}, argv);
    EXPECT_EQ(rec["diag"]["message"], "unknown-option [redacted]");
}

TEST(Redact, UntokenizedKeepsTheFirstWordAndTheHashOfTheRequest) {
    const std::string raw = "tool --token 's3cret";
    json rec = record_for({});
    untokenized(rec, "tool", raw);
    EXPECT_EQ(rec["process"]["command_line"], "tool [redacted]");
    EXPECT_EQ(rec["process"]["command_line_redacted"], true);
    EXPECT_FALSE(rec["process"].contains("command_line_b64"));
    EXPECT_EQ(rec["diag"]["sensitive"],
              json::array({{{"request", true}, {"sha256", sha256_hex(raw)}, {"length", raw.size()}}}));
}

TEST(Redact, ShellQuoteQuotesOnlyWhatNeedsIt) {
    EXPECT_EQ(shell_quote("/var/log/syslog"), "/var/log/syslog");
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    // Printed safely: the backslash of the quoting is shown escaped (text_safety).
    EXPECT_EQ(shell_quote("it's"), "'it'\\\\''s'");
}

}  // namespace
}  // namespace diag::redact
