// SPDX-License-Identifier: Apache-2.0
// One [command.ID] table: id, match words, program, description, grammar, run settings.
#include "wrapper/policy/command_schema.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/policy/policy_text.h"

namespace diag::policy_loader {
namespace {

using test::kHead;

TEST(CommandSchema, RejectsBadCommandsWithPositions) {
    test::expect_rejected({
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\n", "missing 'description'", 7, 1},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\nfoo = 1\n",
         "unknown key 'foo' in command.x", 10, 1},
        {std::string(kHead) + "[command.X]\nmatch = [\"cat\"]\ndescription = \"d\"\n", "ids are", 7, 1},
        {std::string(kHead) + "[command.x]\nmatch = [\"help\"]\ndescription = \"d\"\n", "reserved", 8, 9},
        {std::string(kHead) + "[command.x]\nmatch = [\"-cat\"]\ndescription = \"d\"\n", "bad word", 8, 9},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\ntimeout = 5\n",
         "timeout: expected a string", 10, 11},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\ntimeout = \"5 s\"\n",
         "not a positive duration", 10, 11},
        {std::string(kHead) +
             "[command.g]\nmatch = [\"grep\"]\ndescription = \"d\"\n[[command.g.option]]\nnames = [\"-r\"]\n"
             "type = \"flag\"\nrecursive = true\n[[command.g.positional]]\ntype = \"path\"\nmin = 0\n",
         "needs min >= 1", 7, 1},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\nlong_values = \"joined\"\n",
         "long_values: 'attached' or 'separate'", 10, 15},
        {std::string(kHead) + "[command.x]\nmatch = [\"find\"]\ndescription = \"d\"\nstyle = \"words\"\n"
                              "long_values = \"separate\"\n",
         "only getopt-style rules have long options", 11, 15},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\nreads = \"files\"\n",
         "reads: 'filesystem' or 'operands'", 10, 9},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\nreads = true\n",
         "reads: expected a string", 10, 9},
        {std::string(kHead) + "[command.x]\nmatch = [\"sort\"]\ndescription = \"d\"\nfilter = true\n"
                              "reads = \"operands\"\n",
         "a filter reads only its stdin", 11, 9},
        {std::string(kHead) + "[command.x]\nmatch = [\"getent\"]\ndescription = \"d\"\nnetwork = true\n"
                              "reads = \"operands\"\n",
         "resolving a name reads", 11, 9},
    });
}

// reads: the complement of the denylist unless the rule says it reads only its operands.
TEST(CommandSchema, ReadsIsTheFileSystemUnlessOnlyTheOperands) {
    const std::string rules = std::string(kHead) +
                              "[command.a]\nmatch = [\"cat\"]\ndescription = \"d\"\nreads = \"operands\"\n"
                              "[command.b]\nmatch = [\"head\"]\ndescription = \"d\"\nreads = \"filesystem\"\n"
                              "[command.c]\nmatch = [\"tail\"]\ndescription = \"d\"\n";
    auto p = test::load_text(rules);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    ASSERT_EQ(p->commands.size(), 3U);
    EXPECT_EQ(p->commands[0].reads, policy::Reads::kOperands);
    EXPECT_EQ(p->commands[1].reads, policy::Reads::kFilesystem);
    EXPECT_EQ(p->commands[2].reads, policy::Reads::kFilesystem);
}

}  // namespace
}  // namespace diag::policy_loader
