// SPDX-License-Identifier: Apache-2.0
// The shipped policy/default.toml as the loader and the matcher read it: its pipeline filters load
// as filters, accept what agents type after `|`, and refuse every form that would open, write or
// run something. (tests/integration/default_policy_test.cc runs it for real.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/policy/shipped_policy.h"

namespace diag::policy_loader {
namespace {

using test::Argv;
using test::filters_only;
using test::match;
using test::shipped;

TEST(DefaultPolicy, ShipsTheFilterRulesAndNoOthers) {
    std::set<std::string> ids;
    for (const auto& c : shipped().commands) {
        if (c.filter) {
            ids.insert(c.id);
        }
    }
    EXPECT_EQ(ids, (std::set<std::string>{"grep-filter", "grep-e-filter", "head-filter", "tail-filter", "wc-filter",
                                          "sort-filter", "uniq-filter", "cut-filter", "tr-filter"}));
    // The file-reading rules stay what they were.
    for (const auto& c : shipped().commands) {
        if (c.id == "grep" || c.id == "head" || c.id == "tail" || c.id == "wc" || c.id == "cat") {
            EXPECT_FALSE(c.filter) << c.id;
        }
    }
}

TEST(DefaultPolicy, FiltersAcceptWhatAgentsTypeAfterAPipe) {
    const std::vector<std::tuple<std::string, std::string, Argv>> accepted = {
        {"grep -i error", "grep-filter", {"-i", "--", "error"}},
        {"grep -v -c sshd", "grep-filter", {"-v", "-c", "--", "sshd"}},
        {"grep -E 'fail(ed|ure)'", "grep-filter", {"-E", "--", "fail(ed|ure)"}},
        {"grep -A 3 -m 10 panic", "grep-filter", {"-A", "3", "-m", "10", "--", "panic"}},
        {"grep -e -v -e timeout", "grep-e-filter", {"-e", "-v", "-e", "timeout"}},
        {"head -n 20", "head-filter", {"-n", "20"}},
        {"head -c 4096", "head-filter", {"-c", "4096"}},
        {"tail -n 50", "tail-filter", {"-n", "50"}},
        {"tail -n +5", "tail-filter", {"-n", "+5"}},
        {"wc -l", "wc-filter", {"-l"}},
        {"sort", "sort-filter", {}},
        {"sort -rn", "sort-filter", {"-r", "-n"}},
        {"sort -t: -k3,3n", "sort-filter", {"-t", ":", "-k", "3,3n"}},
        {"sort -h -k 5", "sort-filter", {"-h", "-k", "5"}},
        {"uniq -c", "uniq-filter", {"-c"}},
        {"uniq -d -f 2", "uniq-filter", {"-d", "-f", "2"}},
        {"cut -d: -f1", "cut-filter", {"-d", ":", "-f", "1"}},
        {"cut -d ' ' -f 1,3-5,7-", "cut-filter", {"-d", " ", "-f", "1,3-5,7-"}},
        {"cut -c1-80", "cut-filter", {"-c", "1-80"}},
        {"tr -s ' '", "tr-filter", {"-s", "--", " "}},
        {"tr a-z A-Z", "tr-filter", {"--", "a-z", "A-Z"}},
        {"tr -d '\\r'", "tr-filter", {"-d", "--", "\\r"}},
    };
    for (const auto& [request, id, args] : accepted) {
        auto m = match(filters_only(), request);
        ASSERT_TRUE(m.ok()) << request << ": " << m.error().reason << ": " << m.error().msg;
        EXPECT_EQ(m->command->id, id) << request;
        EXPECT_EQ(m->exec_args, args) << request;
        EXPECT_TRUE(m->paths.empty()) << request;
        // In the whole policy a filter form still finds its filter rule.
        auto all = match(shipped(), request);
        ASSERT_TRUE(all.ok()) << request << ": " << all.error().msg;
        EXPECT_EQ(all->command->id, id) << request;
    }
}

// Time and identity probes (issue #16): the read forms work; setting the clock or the host name,
// and reading a file named in the request, are refused.
TEST(DefaultPolicy, TimeAndIdentityProbesReadOnly) {
    for (const char* ok :
         {"date", "date -u", "date -u +%FT%T%z", "date -d '1 hour ago' +%s", "date -R", "nproc", "nproc --all",
          "whoami", "hostname", "hostname -f", "hostname -I", "lscpu", "lscpu -J", "lscpu -e"}) {
        auto m = match(shipped(), ok);
        EXPECT_TRUE(m.ok()) << ok << ": " << (m.ok() ? "" : m.error().msg);
    }
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"date -s 12:00", "unknown-option"},        {"date --set=12:00", "unknown-option"},
        {"date -f /etc/shadow", "unknown-option"},  {"date --file=/etc/shadow", "unknown-option"},
        {"date -r /etc/shadow", "unknown-option"},  {"date 010112002026", "bad-value"},
        {"hostname evil", "positional-count"},      {"hostname -F /etc/hostname", "unknown-option"},
        {"hostname -b x", "unknown-option"},        {"lscpu -s /tmp", "unknown-option"},
        {"lscpu --sysroot=/tmp", "unknown-option"}, {"whoami x", "positional-count"},
    };
    for (const auto& [request, reason] : refused) {
        auto m = match(shipped(), request);
        ASSERT_FALSE(m.ok()) << request;
        EXPECT_EQ(m.error().reason, reason) << request << ": " << m.error().msg;
        // -f means a file to date and hostname, not following: no follow hint.
        EXPECT_EQ(m.error().msg.find("following"), std::string::npos) << m.error().msg;
    }
}

TEST(DefaultPolicy, FiltersRefuseFileOperandsAndEveryOptionThatOpensWritesOrRuns) {
    const std::vector<std::pair<std::string, std::string>> refused = {
        // a file operand, in each form
        // (grep has two filter rules; which one's refusal is reported is the matcher's choice)
        {"grep error /etc/shadow", ""},
        {"grep -e error /etc/shadow", "positional-count"},
        {"head -n 1 /etc/shadow", "positional-count"},
        {"tail /etc/shadow", "positional-count"},
        {"wc -l /etc/shadow", "positional-count"},
        {"sort /etc/shadow", "positional-count"},
        {"uniq in out", "positional-count"},
        {"cut -f1 /etc/passwd", "positional-count"},
        {"tr a b /etc/shadow", "positional-count"},
        // options that read, write, run or never end
        {"grep -f /etc/shadow", "unknown-option"},
        {"grep --file=/etc/shadow", "unknown-option"},
        {"grep -r secret", "unknown-option"},
        {"grep -R secret", "unknown-option"},
        {"grep -d recurse secret", "unknown-option"},
        {"grep --exclude-from=/etc/shadow x", "unknown-option"},
        {"sort -o /tmp/out", "unknown-option"},
        {"sort --output=/tmp/out", "unknown-option"},
        {"sort -T /tmp", "unknown-option"},
        {"sort --compress-program=sh", "unknown-option"},
        {"sort --compress=sh", "unknown-option"},
        {"sort --files0-from=-", "unknown-option"},
        {"sort --random-source=/etc/shadow", "unknown-option"},
        {"sort -R", "unknown-option"},
        {"wc --files0-from=-", "unknown-option"},
        {"tail -f", "unknown-option"},
        {"tail -F", "unknown-option"},
        {"tail --follow=name", "unknown-option"},
        {"head -20", "unknown-option"},
        // values that would smuggle something in
        {"sort -k 1R", "bad-value"},
        {"sort -t ab", "bad-value"},
        {"cut -f 1;2", "parse-metachar"},
        {"cut -d ab -f1", "bad-value"},
        {"head -n 99999999999", "bad-value"},
        {"grep -- -e", ""},
        // programs that are not filters at all
        {"cat", "unknown-command"},
        {"awk 1", "unknown-command"},
        {"sed p", "unknown-command"},
        {"tee /tmp/x", "unknown-command"},
        {"xargs cat", "unknown-command"},
        {"sh -c id", "unknown-command"},
    };
    for (const auto& [request, reason] : refused) {
        auto m = match(filters_only(), request);
        ASSERT_FALSE(m.ok()) << request << " matched " << m->command->id;
        EXPECT_EQ(m.error().code, ErrorCode::kDenied) << request;
        if (!reason.empty()) {
            EXPECT_EQ(m.error().reason, reason) << request << ": " << m.error().msg;
        }
    }
}

// The rules that walk trees skip the denied subtrees (adr/0016), and no form of them follows a
// symlink out of the tree: the pruning holds only along real directories.
TEST(DefaultPolicy, TreeRulesPruneAndNeverFollowSymlinks) {
    for (const char* id : {"find", "grep", "grep-e", "du"}) {
        const auto& cs = shipped().commands;
        const auto it = std::find_if(cs.begin(), cs.end(), [&](const policy::Command& c) { return c.id == id; });
        ASSERT_NE(it, cs.end()) << id;
        EXPECT_NE(it->prune, policy::Prune::kNone) << id;
    }
    for (const std::string req :
         {"find -L /etc -name x", "find /etc -follow", "find -H /etc", "find /etc -depth", "find /etc -delete",
          "grep -R x /etc", "grep --dereference-recursive x /etc", "du -L /var", "du --dereference /var", "du -D /var",
          "du -H /var", "du --exclude=x /var", "ls -RL /etc", "ls -L /etc"}) {
        auto m = match(shipped(), req);
        ASSERT_FALSE(m.ok()) << req;
        EXPECT_EQ(m.error().reason, "unknown-option") << req;
    }
}

}  // namespace
}  // namespace diag::policy_loader
