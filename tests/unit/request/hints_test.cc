// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/hints.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/unit/policy/policy_text.h"
#include "wrapper/policy/loader.h"
#include "wrapper/request/matcher.h"

namespace diag::hints {
namespace {

using Argv = std::vector<std::string>;

// head and tail as the shipped policy has them, and a few rules for the other hints.
policy::Policy load(const std::string& rules) {
    auto r = policy_loader::test::load_text(policy_loader::test::kHead + rules);
    if (!r.ok()) {
        ADD_FAILURE() << r.error().describe();
        std::abort();
    }
    return std::move(r).value();
}

const policy::Policy& shipped_like() {
    static const policy::Policy p = load(R"(
[command.head]
match = ["head"]
description = "d"
option = [
    { names = ["-n", "--lines"], type = "int", min = 0, max = 1000 },
    { names = ["-c", "--bytes"], type = "int" },
    { names = ["-q", "--quiet", "--silent"], type = "flag" },
    { names = ["-v", "--verbose"], type = "flag" },
]
positional = [{ type = "path", min = 1, max = 32 }]

[command.tail]
match = ["tail"]
description = "d"
option = [
    { names = ["-n", "--lines"], type = "int" },
    { names = ["-c", "--bytes"], type = "int" },
    { names = ["-q", "--quiet"], type = "flag" },
]
positional = [{ type = "path", min = 1, max = 32 }]

[command.uptime]
match = ["uptime"]
description = "d"

[command.ps]
match = ["ps"]
description = "d"
option = [{ names = ["-o", "--format"], type = "enum", values = ["pid", "comm", "args", "user", "pcpu", "pmem", "rss", "etime"] }]

[command.ip]
match = ["ip", "addr"]
description = "d"
)");
    return p;
}

Error refusal(const Argv& argv, const Available& available = pinned_available) {
    auto m = matcher::match(shipped_like(), argv, available);
    EXPECT_FALSE(m.ok()) << argv[0];
    return m.ok() ? Error{} : std::move(m).error();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Hints, DashNumberNamesDashN) {
    const Error e = refusal({"head", "-20", "/etc/os-release"});
    EXPECT_EQ(e.reason, "unknown-option");
    EXPECT_EQ(e.msg, "'-2' is not an allowed option of head; the allowed form is head -n 20 (rule head)");
    // Also tail, whose -n has no bounds.
    EXPECT_TRUE(contains(refusal({"tail", "-100", "/x"}).msg, "the allowed form is tail -n 100")) << e.msg;
}

TEST(Hints, DashNumberOutsideTheLimitsIsNotSuggested) {
    const Error e = refusal({"head", "-5000", "/x"});
    EXPECT_EQ(e.reason, "unknown-option");
    EXPECT_FALSE(contains(e.msg, "allowed form")) << e.msg;
    EXPECT_TRUE(contains(e.msg, "allowed: -n/--lines N")) << e.msg;
}

TEST(Hints, FollowingIsRefusedWithTheLastLinesForm) {
    for (const Argv& argv : {Argv{"tail", "-f", "/x"}, Argv{"tail", "-F", "/x"}, Argv{"tail", "--follow", "/x"},
                             Argv{"tail", "--follow=name", "/x"}, Argv{"tail", "-qf", "/x"}}) {
        const Error e = refusal(argv);
        SCOPED_TRACE(argv[1]);
        EXPECT_EQ(e.reason, "unknown-option");
        EXPECT_TRUE(contains(e.msg, "following is not allowed (a request must end): tail -n N prints the last N lines"))
            << e.msg;
    }
}

TEST(Hints, UnknownOptionListsTheRulesOptionsOnOneLine) {
    const Error e = refusal({"head", "-z", "/x"});
    EXPECT_EQ(e.msg,
              "'-z' is not an allowed option of head; allowed: -n/--lines N, -c/--bytes N, -q/--quiet/--silent, "
              "-v/--verbose (rule head)");
    EXPECT_EQ(e.msg.find('\n'), std::string::npos);
    // A long enumeration is shortened: `help ps` lists it.
    EXPECT_TRUE(contains(refusal({"ps", "-e"}).msg, "allowed: -o/--format {...}")) << refusal({"ps", "-e"}).msg;
    EXPECT_TRUE(contains(refusal({"uptime", "-p"}).msg, "; uptime takes no options"));
}

TEST(Hints, AbbreviatedLongOptionNamesItsFullSpelling) {
    EXPECT_TRUE(contains(refusal({"head", "--lin", "5", "/x"}).msg,
                         "(options must be spelled in full); the full spelling is --lines"));
    EXPECT_TRUE(contains(refusal({"head", "--q", "/x"}).msg,
                         "(options must be spelled in full); the full spelling is --quiet"));
    // Two spellings start with it: neither is named.
    const auto p = load(R"([command.two]
match = ["two"]
description = "d"
option = [{ names = ["--alpha"], type = "flag" }, { names = ["--also"], type = "flag" }]
)");
    auto m = matcher::match(p, {"two", "--al"});
    ASSERT_FALSE(m.ok());
    EXPECT_TRUE(contains(m.error().msg, "(options must be spelled in full); allowed: --alpha, --also"))
        << m.error().msg;
}

TEST(Hints, OptionListIsBounded) {
    std::string options;
    for (int i = 0; i < 60; ++i) {
        options += "{ names = [\"--option-number-" + std::to_string(i) + "\"], type = \"int\" },\n";
    }
    const auto p = load("[command.big]\nmatch = [\"big\"]\ndescription = \"d\"\noption = [\n" + options + "]\n");
    const std::string list = option_list(p.commands[0]);
    EXPECT_LE(list.size(), kMaxOptionListBytes + 40);
    EXPECT_TRUE(contains(list, "more (help big)")) << list;
    auto m = matcher::match(p, {"big", "--nope"});
    ASSERT_FALSE(m.ok());
    EXPECT_LE(m.error().msg.size(), 400u);
}

TEST(Hints, EditDistance) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("head", "head"), 0u);
    EXPECT_EQ(edit_distance("hed", "head"), 1u);
    EXPECT_EQ(edit_distance("tial", "tail"), 2u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(Hints, UnknownCommandNamesTheClosestAllowedCommands) {
    EXPECT_EQ(refusal({"hed", "/x"}).msg, "'hed' is not an allowed command; closest: head (run 'help' for the list)");
    EXPECT_EQ(refusal({"tial"}).msg, "'tial' is not an allowed command; closest: tail (run 'help' for the list)");
    // Nothing near: the message as before.
    EXPECT_EQ(refusal({"systemctl"}).msg, "'systemctl' is not an allowed command (run 'help' for the list)");
    // Never a distance of the word's length or more ("x" is not near "ip").
    EXPECT_EQ(refusal({"x"}).msg, "'x' is not an allowed command (run 'help' for the list)");
    // Nearest first, at most kMaxCommandSuggestions.
    const auto near = closest_commands(shipped_like(), "pss", pinned_available);
    ASSERT_FALSE(near.empty());
    EXPECT_EQ(near.front(), "ps");
    EXPECT_LE(near.size(), kMaxCommandSuggestions);
}

TEST(Hints, UnavailableCommandsAreNeverSuggested) {
    const Available none_but_tail = [](const policy::Command& c) { return c.id == "tail"; };
    EXPECT_EQ(refusal({"hed"}, none_but_tail).msg, "'hed' is not an allowed command (run 'help' for the list)");
    policy::Policy p = shipped_like();
    p.commands[0].unavailable = "'head' not found in the search path";
    EXPECT_TRUE(closest_commands(p, "hed", pinned_available).empty());
    EXPECT_FALSE(available_on_host(p.commands[0], p.search_path));
    // A program that is in no directory of the search path is unavailable, pinned or not.
    policy::Command missing;
    missing.program = "no-such-program-anywhere";
    EXPECT_FALSE(available_on_host(missing, {"/usr/bin", "/bin"}));
}

TEST(Hints, EchoedClientTextIsPrintable) {
    for (const std::string& word : {std::string("he\x1b]0;x\x07"), std::string("he\xe2\x80\xae"),  // ESC, OSC, U+202E
                                    std::string("he\r\nd"), std::string(300, 'h')}) {
        const Error cmd = refusal({word});
        const Error opt = refusal({"head", "--" + word, "/x"});
        for (const std::string& msg : {cmd.msg, opt.msg}) {
            EXPECT_EQ(msg.find('\x1b'), std::string::npos) << msg;
            EXPECT_EQ(msg.find('\r'), std::string::npos) << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
            EXPECT_EQ(msg.find("\xe2\x80\xae"), std::string::npos) << msg;
            EXPECT_LE(msg.size(), 500u) << msg;
        }
    }
}

}  // namespace
}  // namespace diag::hints
