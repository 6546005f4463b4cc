// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/matcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/helpers/policies.h"
#include "tests/unit/policy/policy_text.h"
#include "wrapper/policy/loader.h"
#include "wrapper/request/command.h"

namespace diag::matcher {
namespace {

using Argv = std::vector<std::string>;

const policy::Policy& test_policy() {
    static const policy::Policy p = [] {
        policy_loader::Options o;
        o.trusted_owner = ::getuid();
        // The rules: tests/testdata/policies/matcher_commands.toml.
        auto r = policy_loader::load_from_string(R"(version = 1
[settings]
search_path = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
[audit]
sinks = ["file"]
file = "/tmp/a"
)" + diag::testing::policies::rules({"matcher_commands"}),
                                                 "m.toml", o);
        if (!r.ok()) {
            ADD_FAILURE() << r.error().describe();
            std::abort();
        }
        return std::move(r).value();
    }();
    return p;
}

Result<Match> m(const std::string& request) {
    auto argv = command::tokenize(request);
    if (!argv.ok()) {
        return std::move(argv).error();
    }
    return match(test_policy(), *argv);
}

Argv args_of(const std::string& request) {
    auto r = m(request);
    if (!r.ok()) {
        ADD_FAILURE() << request << ": " << r.error().reason << ": " << r.error().msg;
        return {};
    }
    return r->exec_args;
}

TEST(Matcher, ExpandsGetoptClustersAndAttachedValues) {
    EXPECT_EQ(args_of("ss -tlnp"), (Argv{"-t", "-l", "-n", "-p"}));
    EXPECT_EQ(args_of("ss --tcp -ln"), (Argv{"--tcp", "-l", "-n"}));
    EXPECT_EQ(args_of("journalctl -u nginx -n50"), (Argv{"--no-pager", "-u", "nginx", "-n", "50"}));
    EXPECT_EQ(args_of("journalctl --unit=nginx.service --lines 5 --no-pager"),
              (Argv{"--no-pager", "--unit=nginx.service", "--lines=5", "--no-pager"}));
    EXPECT_EQ(args_of("journalctl -pwarning --since '2024-01-01 10:00'"),
              (Argv{"--no-pager", "-p", "warning", "--since=2024-01-01 10:00"}));
}

TEST(Matcher, ChoosesRuleBySubcommandAndAllowsPermutedOptions) {
    auto r = m("systemctl status nginx sshd");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->command->id, "systemctl-status");
    EXPECT_EQ(r->exec_args, (Argv{"status", "--no-pager", "--", "nginx", "sshd"}));
    auto s = m("systemctl show nginx");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->command->id, "systemctl-show");
}

TEST(Matcher, WordsStyleAndLayouts) {
    EXPECT_EQ(args_of("ip -br a"), (Argv{"-br", "a"}));
    EXPECT_EQ(args_of("ip addr show"), (Argv{"addr", "show"}));
    EXPECT_EQ(args_of("find /tmp -name '*.gz'"), (Argv{"/tmp", "-name", "*.gz"}));
    auto f = m("find -name x /tmp");  // options anywhere, start points first at exec
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->exec_args, (Argv{"/tmp", "-name", "x"}));
    ASSERT_EQ(f->paths.size(), 1u);
    EXPECT_EQ(f->paths[0].index, 0u);
    EXPECT_EQ(f->paths[0].use, path_resolve::Use::kTree);
}

TEST(Matcher, TypesPathArgumentsForTheResolver) {
    auto g = m("grep -r err /var/log");
    ASSERT_TRUE(g.ok());
    ASSERT_EQ(g->paths.size(), 1u);
    EXPECT_EQ(g->paths[0].use, path_resolve::Use::kTree);  // -r makes operands trees
    EXPECT_EQ(g->exec_args[g->paths[0].index], "/var/log");
    auto g2 = m("grep err /var/log/syslog");
    ASSERT_TRUE(g2.ok());
    EXPECT_EQ(g2->paths[0].use, path_resolve::Use::kContent);
    auto j = m("journalctl --file=/x/y");
    ASSERT_TRUE(j.ok());
    ASSERT_EQ(j->paths.size(), 1u);
    EXPECT_EQ(j->paths[0].prefix, "--file=");
    EXPECT_EQ(j->exec_args[j->paths[0].index], "--file=/x/y");
    auto f = m("find /tmp -newer /etc/passwd");
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->paths.size(), 2u);
    EXPECT_EQ(f->paths[1].use, path_resolve::Use::kMetadata);
}

TEST(Matcher, RefusesWithSpecificReasons) {
    struct Case {
        const char* request;
        const char* reason;
    } cases[] = {
        {"rm -rf /", "unknown-command"},
        {"/bin/sh -c id", "unknown-command"},
        {"env sudo id", "unknown-command"},  // docs/bypass-catalogue.md D.45: no exec wrappers
        {"FOO=1 ss", "unknown-command"},
        {"systemctl restart nginx", "unknown-subcommand"},
        {"systemctl", "unknown-subcommand"},
        {"ss -K", "unknown-option"},
        {"ss -tlnpK", "unknown-option"},  // docs/bypass-catalogue.md D.39: a cluster hides nothing
        {"ss --tc", "unknown-option"},    // docs/bypass-catalogue.md D.41: abbreviations refused
        {"ss --kill", "unknown-option"},
        {"journalctl --fil=/etc/shadow", "unknown-option"},
        {"journalctl -u", "option-value"},
        {"journalctl --no-pager=1", "option-value"},
        {"journalctl -n abc", "bad-value"},
        {"journalctl -n 99999", "bad-value"},
        {"journalctl -p emerg", "bad-value"},
        {"journalctl -u -nginx", "bad-value"},
        {"journalctl -u 'ngi/nx'", "bad-value"},
        {"journalctl --since '$(id)'", "bad-value"},
        {"journalctl nginx", "positional-count"},
        {"sysctl -n ../../etc/shadow", "bad-value"},  // procps turns the key into a /proc/sys path
        {"sysctl -n kernel/../../etc", "bad-value"},
        {"sysctl kernel.x=1", "bad-value"},
        {"sysctl", "positional-count"},
        {"systemctl show a b", "positional-count"},
        {"grep x -- -r", "dash-positional"},
        {"grep x -", "dash-positional"},
        {"grep -- -e /etc", "dash-positional"},
        {"ip addr flush dev eth0", "positional-count"},
        {"ip addr flush", "bad-value"},
        {"ip -force addr", "unknown-option"},
        {"ip -b addr", "unknown-option"},
        {"find / -exec /bin/sh '{}' +", "unknown-option"},
        {"find / -delete", "unknown-option"},
        {"getent hosts 'a b'", "bad-value"},
        {"getent passwd root", "unknown-subcommand"},
    };
    for (const auto& c : cases) {
        auto r = m(c.request);
        ASSERT_FALSE(r.ok()) << c.request;
        EXPECT_EQ(r.error().code, ErrorCode::kDenied) << c.request;
        EXPECT_EQ(r.error().reason, c.reason) << c.request << ": " << r.error().msg;
    }
}

TEST(Matcher, InsertsDoubleDashBeforePositionals) {
    auto r = m("grep x /etc/hostname");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exec_args, (Argv{"--", "x", "/etc/hostname"}));
}

TEST(Matcher, ValueTypes) {
    policy::ValueSpec host;
    host.type = policy::ValueType::kHostname;
    for (const char* ok : {"example.org", "web-02.cloonar.com", "localhost", "10.0.0.1", "::1", "a.b.c."}) {
        EXPECT_TRUE(check_value(host, ok, "h").ok()) << ok;
    }
    for (const char* bad : {"-oProxyCommand=x", "a..b", "", "a b", "x_y.com", "-a.com"}) {
        EXPECT_FALSE(check_value(host, bad, "h").ok()) << bad;
    }
    policy::ValueSpec dur;
    dur.type = policy::ValueType::kDuration;
    EXPECT_TRUE(check_value(dur, "5min", "d").ok());
    EXPECT_FALSE(check_value(dur, "5 min", "d").ok());
    // A unit name, or a pattern systemctl and journalctl -u match against loaded units.
    policy::ValueSpec unit;
    unit.type = policy::ValueType::kUnit;
    for (const char* ok : {"nginx.service", "podman-*", "sys-devices-*.device", "getty@tty[1-3].service", "a?b"}) {
        EXPECT_TRUE(check_value(unit, ok, "u").ok()) << ok;
    }
    for (const char* bad : {"-x", "a b", "a/b", "$(id)", "a;b", ""}) {
        EXPECT_FALSE(check_value(unit, bad, "u").ok()) << bad;
    }
}

// journalctl's -b as the shipped policy has it: a boot whose value is optional.
const policy::Policy& journal_policy() {
    static const policy::Policy p = [] {
        auto r = policy_loader::test::load_text(std::string(policy_loader::test::kHead) + R"(
[command.journalctl]
match = ["journalctl"]
description = "d"
option = [
    { names = ["-b", "--boot"], type = "boot", optional_value = true },
    { names = ["-n", "--lines"], type = "int", min = 0, max = 1000000 },
    { names = ["-k", "--dmesg"], type = "flag" },
    { names = ["-u", "--unit"], type = "unit" },
]
[command.count]
match = ["count"]
description = "d"
end_of_options = false
option = [{ names = ["-s", "--skip"], type = "boot", optional_value = true }]
positional = [{ type = "string", min = 0, max = 2 }]
)");
        if (!r.ok()) {
            ADD_FAILURE() << r.error().describe();
            std::abort();
        }
        return std::move(r).value();
    }();
    return p;
}

Result<Match> jm(const Argv& argv) { return match(journal_policy(), argv); }

TEST(Matcher, BootOffsetIsTheNextWordWhenItIsOne) {
    const std::string id = "0123456789abcdef0123456789abcdef";
    const std::vector<std::pair<Argv, Argv>> cases = {
        {{"journalctl", "-b", "-1"}, {"-b-1"}},
        {{"journalctl", "-b", "0"}, {"-b0"}},
        {{"journalctl", "-b", "+2", "-n", "5"}, {"-b+2", "-n", "5"}},
        {{"journalctl", "-b"}, {"-b"}},
        {{"journalctl", "-b", "-n", "5"}, {"-b", "-n", "5"}},
        {{"journalctl", "-b", "-k"}, {"-b", "-k"}},
        {{"journalctl", "--boot=-1"}, {"--boot=-1"}},
        {{"journalctl", "--boot", "-1"}, {"--boot=-1"}},
        {{"journalctl", "--boot"}, {"--boot"}},
        {{"journalctl", "-b-1"}, {"-b-1"}},
        {{"journalctl", "-kb", "-3"}, {"-k", "-b-3"}},
        {{"journalctl", "-b", id}, {"-b" + id}},
        {{"journalctl", "-b", id + "-1"}, {"-b" + id + "-1"}},
        {{"journalctl", "--boot=" + id + "+4"}, {"--boot=" + id + "+4"}},
    };
    for (const auto& [argv, want] : cases) {
        auto r = jm(argv);
        ASSERT_TRUE(r.ok()) << argv[1] << ": " << r.error().msg;
        EXPECT_EQ(r->exec_args, want) << argv[1];
    }
}

TEST(Matcher, BootOffsetNeverSmugglesAnOption) {
    const std::vector<std::pair<Argv, std::string>> refused = {
        // Not a boot: parsed as the option it is, and refused as one.
        {{"journalctl", "-b", "--file=/etc/shadow"}, "unknown-option"},
        {{"journalctl", "-b", "--file", "/etc/shadow"}, "unknown-option"},
        {{"journalctl", "-b", "-D", "/etc"}, "unknown-option"},
        {{"journalctl", "--boot", "--root=/"}, "unknown-option"},
        // Not a boot and not an option: a positional, which this rule has none of.
        {{"journalctl", "-b", "all"}, "positional-count"},
        {{"journalctl", "-b", "/etc/shadow"}, "positional-count"},
        // Attached values must be boots.
        {{"journalctl", "--boot=--file=/etc/shadow"}, "bad-value"},
        {{"journalctl", "-b--file=/etc/shadow"}, "bad-value"},
        {{"journalctl", "-bk"}, "bad-value"},
        {{"journalctl", "--boot=1234567"}, "bad-value"},
        {{"journalctl", "-b", "0123456789abcdef0123456789abcdeX"}, "positional-count"},
    };
    for (const auto& [argv, reason] : refused) {
        auto r = jm(argv);
        ASSERT_FALSE(r.ok()) << argv[1] << " " << (argv.size() > 2 ? argv[2] : "");
        EXPECT_EQ(r.error().reason, reason) << r.error().msg;
    }
}

TEST(Matcher, OptionalValueKeepsItsLimitsAndIsNeverLeftAmbiguous) {
    EXPECT_EQ(jm({"count", "-s", "-3"})->exec_args, (Argv{"-s-3"}));
    EXPECT_EQ(jm({"count", "x"})->exec_args, (Argv{"x"}));
    // Of the shape but out of range: refused, not read as a positional.
    EXPECT_EQ(jm({"count", "-s", "1234567"}).error().reason, "bad-value");
    // A positional of the value's shape right after the bare option (no "--" here): the program
    // would take it as the value, so it is refused.
    auto r = jm({"count", "-s", "--", "4"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "option-value") << r.error().msg;
}

// Review finding: journalctl reads the word after a bare -b as the boot whenever it parses as one
// by journalctl's rules, which are not the matcher's (" 1", "0x1", "all"). No word that does not
// start with '-' may follow a bare optional-value option in the exec argv.
TEST(Matcher, NoWordFollowsABareOptionalValueOption) {
    for (const std::string& word : std::vector<std::string>{"x", "all", " 1", "0x1", "1e0"}) {
        auto r = jm({"count", "-s", word});
        ASSERT_FALSE(r.ok()) << word << ": " << ::testing::PrintToString(r->exec_args);
        EXPECT_EQ(r.error().reason, "option-value") << r.error().msg;
        auto r2 = jm({"count", word, "--skip"});  // options first: "--skip" then the word
        ASSERT_FALSE(r2.ok()) << word;
        EXPECT_EQ(r2.error().reason, "option-value") << r2.error().msg;
    }
    EXPECT_EQ(jm({"count", "-s-1", "x"})->exec_args, (Argv{"-s-1", "x"}));
    EXPECT_EQ(jm({"count", "-s"})->exec_args, (Argv{"-s"}));
}

// Review finding: journalctl reads a boot offset with leading zeros as octal (-b 010 is boot +8).
TEST(Matcher, BootOffsetRefusesLeadingZeros) {
    const std::string id = "0123456789abcdef0123456789abcdef";
    for (const std::string& v : std::vector<std::string>{"010", "-01", "+00", "00", id + "-01", id + "+010"}) {
        auto r = jm({"journalctl", "-b", v});
        ASSERT_FALSE(r.ok()) << v;
        EXPECT_EQ(r.error().reason, "bad-value") << v << ": " << r.error().msg;
        EXPECT_FALSE(jm({"journalctl", "--boot=" + v}).ok()) << v;
    }
    for (const std::string& v :
         std::vector<std::string>{"0", "-0", "+0", "10", "-100000", "999999", id + "-10", id + "+0"}) {
        auto r = jm({"journalctl", "-b", v});
        ASSERT_TRUE(r.ok()) << v << ": " << r.error().msg;
        EXPECT_EQ(r->exec_args, (Argv{"-b" + v}));
    }
}

}  // namespace
}  // namespace diag::matcher
