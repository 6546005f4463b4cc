// SPDX-License-Identifier: Apache-2.0
// match_stage(): the filter role, and where a glob word may stand (a path, a pattern-typed value)
// and where it is refused (the command word, subcommands, option names, other values).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/helpers/policies.h"
#include "tests/unit/policy/policy_text.h"
#include "wrapper/policy/loader.h"
#include "wrapper/request/command.h"
#include "wrapper/request/matcher.h"

namespace diag::matcher {
namespace {

using Argv = std::vector<std::string>;

// Rules only these tests use: a path option in short and long form, and a positional path
// followed by a string, so a glob there may match one path only.
const char* const kExtraRules = R"(
[command.sort]
match = ["sort"]
description = "sort"
[[command.sort.option]]
names = ["-T", "--temporary-directory"]
type = "path"
[[command.sort.option]]
names = ["-k"]
type = "int"
[[command.sort.positional]]
type = "path"
max = 1
[[command.sort.positional]]
type = "string"
min = 0
max = 1

[command.egrep]
match = ["egrep"]
description = "filter lines"
[[command.egrep.option]]
names = ["-i"]
type = "flag"
[[command.egrep.positional]]
type = "regex"
pattern = "[a-z.*?]+"

[command.wc]
match = ["wc"]
description = "count"
[[command.wc.option]]
names = ["-l"]
type = "flag"
)";

// matcher_commands.toml, cat.toml and the rules above; egrep and wc marked as filters.
const policy::Policy& test_policy() {
    static const policy::Policy p = [] {
        auto r = policy_loader::test::load_text(
            policy_loader::test::kHead + diag::testing::policies::rules({"matcher_commands", "cat"}) + kExtraRules);
        if (!r.ok()) {
            ADD_FAILURE() << r.error().describe();
            std::abort();
        }
        policy::Policy pol = std::move(r).value();
        for (auto& c : pol.commands) {
            c.filter = c.id == "egrep" || c.id == "wc";
        }
        return pol;
    }();
    return p;
}

// A word as the tokenizer gives it: `typed` as the request spelled it, where '*', '?' and '['
// are glob characters unless a backslash precedes them (as quoting would).
command::Word word(const std::string& typed) {
    command::Word w;
    for (size_t i = 0; i < typed.size(); ++i) {
        if (typed[i] == '\\' && i + 1 < typed.size()) {
            w.text += typed[++i];
            w.pattern += std::string("\\") + typed[i];
            continue;
        }
        w.glob = w.glob || command::kGlobChars.find(typed[i]) != std::string::npos;
        w.text += typed[i];
        w.pattern += typed[i];
    }
    if (!w.glob) {
        w.pattern = w.text;
    }
    return w;
}

command::Stage stage(const Argv& typed) {
    command::Stage s;
    for (const auto& t : typed) {
        s.push_back(word(t));
    }
    return s;
}

Result<Match> first(const Argv& typed) { return match_stage(test_policy(), stage(typed)); }
Result<Match> filter(const Argv& typed) {
    return match_stage(test_policy(), stage(typed), hints::pinned_available, Role::kFilter);
}

void expect_refused(const Result<Match>& r, const std::string& reason, const std::string& what) {
    ASSERT_FALSE(r.ok()) << what << " -> " << ::testing::PrintToString(r->exec_args);
    EXPECT_EQ(r.error().reason, reason) << what << ": " << r.error().msg;
}

TEST(StageMatch, FilterRoleTakesOnlyFilterRules) {
    auto wc = filter({"wc", "-l"});
    ASSERT_TRUE(wc.ok()) << wc.error().msg;
    EXPECT_EQ(wc->command->id, "wc");
    auto egrep = filter({"egrep", "-i", "err*"});
    ASSERT_TRUE(egrep.ok()) << egrep.error().msg;
    EXPECT_EQ(egrep->exec_args, (Argv{"-i", "--", "err*"}));

    for (const Argv& not_filter :
         {Argv{"cat", "/etc/hostname"}, Argv{"grep", "x"}, Argv{"sh", "-c", "id"}, Argv{"tee"}}) {
        auto r = filter(not_filter);
        expect_refused(r, "pipe-stage", not_filter[0]);
        if (!r.ok()) {
            // The refusal names what may follow '|'.
            EXPECT_NE(r.error().msg.find("(egrep, wc)"), std::string::npos) << r.error().msg;
        }
    }
    // The first stage takes any rule but a filter: its stdin would be /dev/null.
    EXPECT_TRUE(first({"cat", "/etc/hostname"}).ok());
    expect_refused(first({"wc", "-l"}), "pipe-stage", "wc -l");
    // A filter rule still refuses what it does not allow.
    expect_refused(filter({"egrep", "-z", "x"}), "unknown-option", "egrep -z");
    expect_refused(filter({"egrep", "x", "/etc/*"}), "positional-count", "egrep x /etc/*");
}

TEST(StageMatch, FilterRoleWithoutFilterRulesSaysNoneMay) {
    policy::Policy p = test_policy();
    for (auto& c : p.commands) {
        c.filter = false;
    }
    auto r = match_stage(p, stage({"wc"}), hints::pinned_available, Role::kFilter);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "pipe-stage");
    EXPECT_NE(r.error().msg.find("no command"), std::string::npos) << r.error().msg;
}

TEST(StageMatch, GlobInPathPositionalIsLeftForExpansion) {
    auto r = first({"cat", "-n", "/var/log/*.log", "/etc/host?"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(r->exec_args, (Argv{"-n", "--", "/var/log/*.log", "/etc/host?"}));
    ASSERT_EQ(r->paths.size(), 2U);
    EXPECT_TRUE(r->paths[0].glob);
    EXPECT_EQ(r->paths[0].pattern, "/var/log/*.log");
    EXPECT_EQ(r->paths[0].index, 2U);
    EXPECT_FALSE(r->paths[0].option_value);
    // cat takes 8 paths, 2 given: each glob may grow by the 6 left.
    EXPECT_EQ(r->paths[0].max_matches, 7U);
    EXPECT_EQ(r->paths[1].pattern, "/etc/host?");
}

TEST(StageMatch, GlobPatternKeepsQuotedCharactersEscaped) {
    auto r = first({"cat", "/srv/a\\*b*", "/srv/\\[x]"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(r->paths[0].input, "/srv/a*b*");
    EXPECT_EQ(r->paths[0].pattern, "/srv/a\\*b*");
    // `]` alone makes the word a glob word; the escaped `[` stays escaped.
    EXPECT_TRUE(r->paths[1].glob);
    EXPECT_EQ(r->paths[1].pattern, "/srv/\\[x]");
    // A plain word is no glob, even where it holds a quoted glob character.
    auto plain = first({"cat", "/srv/\\*"});
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain->paths[0].glob);
}

TEST(StageMatch, GlobInOptionValueDropsTheAttachedName) {
    auto lng = first({"sort", "--temporary-directory=/tmp/s*", "/x"});
    ASSERT_TRUE(lng.ok()) << lng.error().msg;
    ASSERT_EQ(lng->paths.size(), 2U);
    const PathRef& t = lng->paths[0];
    EXPECT_TRUE(t.glob);
    EXPECT_TRUE(t.option_value);
    EXPECT_EQ(t.max_matches, 1U);
    EXPECT_EQ(t.prefix, "--temporary-directory=");
    EXPECT_EQ(t.pattern, "/tmp/s*");
    EXPECT_EQ(lng->exec_args[t.index], "--temporary-directory=/tmp/s*");

    auto attached = first({"sort", "-T/tmp/s*", "/x"});
    ASSERT_TRUE(attached.ok()) << attached.error().msg;
    EXPECT_EQ(attached->paths[0].prefix, "");
    EXPECT_EQ(attached->paths[0].pattern, "/tmp/s*");
    EXPECT_EQ(attached->exec_args, (Argv{"-T", "/tmp/s*", "--", "/x"}));

    auto separate = first({"sort", "-T", "/tmp/s*", "/x"});
    ASSERT_TRUE(separate.ok()) << separate.error().msg;
    EXPECT_TRUE(separate->paths[0].option_value);
    EXPECT_EQ(separate->paths[0].pattern, "/tmp/s*");

    // A meta-path value in the words style (find -newer).
    auto newer = first({"find", "/var", "-newer", "/var/log/a*"});
    ASSERT_TRUE(newer.ok()) << newer.error().msg;
    EXPECT_TRUE(newer->paths[1].glob);
    EXPECT_TRUE(newer->paths[1].option_value);
}

TEST(StageMatch, PositionalFollowedByAnotherTakesOneMatch) {
    auto r = first({"sort", "/x/*", "key"});
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(r->paths[0].max_matches, 1U);
}

TEST(StageMatch, GlobInPatternTypedValuePassesLiterally) {
    // grep's pattern (string), find -name (string): the program matches them itself.
    auto grep = first({"grep", "err*", "/var/log/*.log"});
    ASSERT_TRUE(grep.ok()) << grep.error().msg;
    EXPECT_EQ(grep->exec_args, (Argv{"--", "err*", "/var/log/*.log"}));
    ASSERT_EQ(grep->paths.size(), 1U);
    EXPECT_TRUE(grep->paths[0].glob);
    auto find = first({"find", "/etc", "-name", "host*"});
    ASSERT_TRUE(find.ok()) << find.error().msg;
    EXPECT_EQ(find->exec_args, (Argv{"/etc", "-name", "host*"}));
    EXPECT_FALSE(find->paths[0].glob);
    // The value check still decides: this regex has no '*'; a unit pattern is a unit value.
    expect_refused(first({"sysctl", "net.*"}), "bad-value", "sysctl net.*");
    EXPECT_TRUE(first({"systemctl", "status", "ngin?"}).ok());
    expect_refused(first({"systemctl", "status", "ngin?/x"}), "bad-value", "systemctl status ngin?/x");
}

TEST(StageMatch, GlobElsewhereIsRefusedAsMetachar) {
    const std::vector<Argv> cases = {
        {"ca*", "/etc/hostname"},            // the command word
        {"c[a]t", "/etc/hostname"},          //
        {"systemctl", "stat*", "nginx"},     // a subcommand word
        {"ip", "a?dr"},                      // a subcommand word, words style
        {"ss", "-t*"},                       // an option name in a cluster
        {"ss", "--tc?"},                     // a long option name
        {"find", "/var", "-nam?", "x"},      // an option name, words style
        {"journalctl", "-n", "1*"},          // an int value
        {"journalctl", "-n1*"},              // an attached int value
        {"journalctl", "--lines=[1]"},       // a long attached int value
        {"journalctl", "-p", "err*"},        // an enum value
        {"journalctl", "--since", "1?:00"},  // a time value
        {"getent", "hosts", "web*"},         // a hostname
        {"sort", "-k", "?", "/x"},           // an int option value
    };
    for (const auto& c : cases) {
        expect_refused(first(c), "parse-metachar", ::testing::PrintToString(c));
    }
    auto r = first({"journalctl", "-n", "1*"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().msg.find("'1*'"), std::string::npos) << r.error().msg;
    EXPECT_NE(r.error().msg.find("path arguments"), std::string::npos) << r.error().msg;
}

TEST(StageMatch, GlobPositionalStartingWithDashIsNoOperand) {
    expect_refused(first({"cat", "--", "-*"}), "dash-positional", "cat -- -*");
    expect_refused(first({"cat", "-*"}), "parse-metachar", "cat -*");
}

TEST(StageMatch, PatternWithGlobBeforeTheValueFailsClosed) {
    // A word whose pattern holds a glob character in the option name it spells: never produced by
    // the tokenizer, refused all the same.
    command::Stage s = stage({"sort", "/x"});
    s.insert(s.begin() + 1, command::Word{"--temporary-directory=/tmp/s", "--temporary-director?=/tmp/s", true});
    auto r = match_stage(test_policy(), s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "parse-metachar");
}

TEST(StageMatch, ParsedRequestReachesThePathRefWithItsPattern) {
    auto stages = command::parse("cat '/srv/a*b'* /etc/host? | egrep -i 'err*' | wc -l");
    ASSERT_TRUE(stages.ok()) << stages.error().msg;
    ASSERT_EQ(stages->size(), 3U);
    auto cat = match_stage(test_policy(), (*stages)[0]);
    ASSERT_TRUE(cat.ok()) << cat.error().msg;
    ASSERT_EQ(cat->paths.size(), 2U);
    EXPECT_EQ(cat->paths[0].input, "/srv/a*b*");
    EXPECT_EQ(cat->paths[0].pattern, "/srv/a\\*b*");
    EXPECT_EQ(cat->paths[1].pattern, "/etc/host?");
    for (size_t i = 1; i < stages->size(); ++i) {
        auto f = match_stage(test_policy(), (*stages)[i], hints::pinned_available, Role::kFilter);
        ASSERT_TRUE(f.ok()) << i << ": " << f.error().msg;
        EXPECT_TRUE(f->command->filter);
    }
    // An unquoted glob in the filter's regex passes literally too; a cat after '|' does not.
    auto unquoted = command::parse("egrep err*");
    ASSERT_TRUE(unquoted.ok());
    EXPECT_TRUE(match_stage(test_policy(), (*unquoted)[0], hints::pinned_available, Role::kFilter).ok());
    auto piped_cat = command::parse("wc | cat /etc/*");
    ASSERT_TRUE(piped_cat.ok());
    expect_refused(match_stage(test_policy(), (*piped_cat)[1], hints::pinned_available, Role::kFilter), "pipe-stage",
                   "wc | cat");
}

TEST(StageMatch, PlainWordsMatchAsMatchDoes) {
    const std::vector<Argv> requests = {
        {"cat", "-n", "/etc/hostname"},
        {"journalctl", "-u", "nginx", "-n50"},
        {"systemctl", "status", "nginx"},
        {"find", "/var", "-name", "x"},
        {"ss", "-tlnp"},
    };
    for (const auto& argv : requests) {
        auto a = match(test_policy(), argv);
        auto b = first(argv);
        ASSERT_TRUE(a.ok()) << argv[0] << ": " << a.error().msg;
        ASSERT_TRUE(b.ok()) << argv[0] << ": " << b.error().msg;
        EXPECT_EQ(a->command, b->command);
        EXPECT_EQ(a->exec_args, b->exec_args);
        EXPECT_EQ(a->paths.size(), b->paths.size());
    }
    auto unknown = first({"hed"});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().reason, "unknown-command");
}

}  // namespace
}  // namespace diag::matcher
