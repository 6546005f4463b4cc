// SPDX-License-Identifier: Apache-2.0
// [[command.ID.option]] and [[command.ID.positional]] tables and their value keys.
#include "wrapper/policy/argument_schema.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/policy/policy_text.h"

namespace diag::policy_loader {
namespace {

using test::kHead;

TEST(ArgumentSchema, RejectsBadOptionsAndPositionalsWithPositions) {
    test::expect_rejected({
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.option]]\nnames = "
                              "[\"-nn\"]\ntype = \"flag\"\n",
         "not a valid option spelling", 11, 9},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.option]]\nnames = "
                              "[\"--num=x\"]\ntype = \"flag\"\n",
         "not a valid option spelling", 11, 9},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.option]]\nnames = "
                              "[\"-n\"]\ntype = \"bool\"\n",
         "unknown type 'bool'", 12, 8},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.option]]\nnames = "
                              "[\"-n\"]\ntype = \"flag\"\nmin = 1\n",
         "min: not valid for type flag", 13, 7},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.option]]\nnames = "
                              "[\"-n\"]\ntype = \"regex\"\npattern = \"(\"\n",
         "bad regex", 13, 11},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.option]]\nnames = "
                              "[\"-n\"]\ntype = \"enum\"\n",
         "enum needs 'values'", 10, 1},
        {std::string(kHead) +
             "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.positional]]\ntype = \"flag\"\n",
         "cannot be a flag", 10, 1},
        {std::string(kHead) + "[command.x]\nmatch = [\"cat\"]\ndescription = \"d\"\n[[command.x.positional]]\ntype = "
                              "\"string\"\ntree = true\n",
         "only path types can be trees", 12, 8},
    });
}

}  // namespace
}  // namespace diag::policy_loader
