// SPDX-License-Identifier: Apache-2.0
// Rules with prune (adr/0016): the schema key, and every shape the loader refuses because the
// rewrite that skips denied subtrees would not be exact for it.
#include "wrapper/policy/prune_rules.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/policy/policy_text.h"

namespace diag::policy_loader {
namespace {

using test::kHead;
using test::load_text;

std::string rule(const std::string& program, const std::string& prune, const std::string& body) {
    return std::string(kHead) + "[command.r]\nmatch = [\"" + program + "\"]\ndescription = \"d\"\nprune = \"" + prune +
           "\"\n" + body;
}

const char* const kFindShape =
    "style = \"words\"\nlayout = \"positionals-first\"\n"
    "positional = [{ type = \"meta-path\", tree = true }]\n";

TEST(PruneRules, EachStrategyLoadsForItsProgram) {
    auto f = load_text(rule("find", "find",
                            std::string(kFindShape) + "option = [{ names = [\"-name\"], type = "
                                                      "\"string\" }, { names = [\"-maxdepth\"], type "
                                                      "= \"int\" }]\n"));
    ASSERT_TRUE(f.ok()) << f.error().describe();
    EXPECT_EQ(f->commands.at(0).prune, policy::Prune::kFind);
    auto g = load_text(rule("grep", "grep",
                            "option = [{ names = [\"-r\"], type = \"flag\", recursive = true }]\n"
                            "positional = [{ type = \"string\" }, { type = \"path\" }]\n"));
    ASSERT_TRUE(g.ok()) << g.error().describe();
    EXPECT_EQ(g->commands.at(0).prune, policy::Prune::kGrep);
    auto d = load_text(rule("du", "du", "positional = [{ type = \"meta-path\", tree = true }]\n"));
    ASSERT_TRUE(d.ok()) << d.error().describe();
    EXPECT_EQ(d->commands.at(0).prune, policy::Prune::kDu);
}

TEST(PruneRules, ShapesThatWouldUndoThePruningAreRefused) {
    test::expect_rejected({
        {rule("find", "all", kFindShape), "prune: 'find', 'grep' or 'du'", 0, 0},
        {rule("busybox", "find", kFindShape), "is for the program find, not busybox", 10, 0},
        {rule("grep", "find", kFindShape), "is for the program find", 0, 0},
        // -depth makes -prune a no-op; -L and -follow leave the tree through symlinks.
        {rule("find", "find", std::string(kFindShape) + "option = [{ names = [\"-depth\"], type = \"flag\" }]\n"),
         "option '-depth' is not one prune = 'find' keeps exact", 0, 0},
        {rule("find", "find", std::string(kFindShape) + "option = [{ names = [\"-follow\"], type = \"flag\" }]\n"),
         "option '-follow'", 0, 0},
        {rule("find", "find", std::string(kFindShape) + "option = [{ names = [\"-delete\"], type = \"flag\" }]\n"),
         "option '-delete'", 0, 0},
        // find's rewrite reads its words: it must be written as find reads them.
        {rule("find", "find", "positional = [{ type = \"meta-path\", tree = true }]\n"),
         "needs style = 'words', layout = 'positionals-first'", 0, 0},
        {rule("grep", "grep",
              "option = [{ names = [\"-r\"], type = \"flag\", recursive = true }, { names = [\"-R\"], type = "
              "\"flag\", recursive = true }]\npositional = [{ type = \"string\" }, { type = \"path\" }]\n"),
         "option '-R' is not one prune = 'grep' keeps exact", 0, 0},
        {rule("grep", "grep",
              "option = [{ names = [\"-r\"], type = \"flag\", recursive = true }, { names = [\"-d\"], type = "
              "\"string\" }]\npositional = [{ type = \"string\" }, { type = \"path\" }]\n"),
         "option '-d'", 0, 0},
        {rule("du", "du",
              "option = [{ names = [\"--exclude\"], type = \"string\" }]\n"
              "positional = [{ type = \"meta-path\", tree = true }]\n"),
         "option '--exclude' is not one prune = 'du' keeps exact", 0, 0},
        {rule("du", "du",
              "option = [{ names = [\"-L\"], type = \"flag\" }]\npositional = [{ type = \"meta-path\", "
              "tree = true }]\n"),
         "option '-L'", 0, 0},
        // Every path operand a tree: a plain one would pass a denied path below it unchecked.
        {rule("du", "du", "positional = [{ type = \"meta-path\" }]\n"), "every path operand must be a tree", 0, 0},
        {rule("grep", "grep", "positional = [{ type = \"string\" }, { type = \"path\" }]\n"),
         "every path operand must be a tree", 0, 0},
        {std::string(kHead) + "[command.r]\nmatch = [\"grep\"]\ndescription = \"d\"\nfilter = true\nprune = \"grep\"\n",
         "a filter reads no tree", 0, 0},
    });
}

TEST(PruneRules, FindTablesKnowGlobalsAndPrintingActions) {
    for (const char* g : {"-xdev", "-mount", "-maxdepth", "-mindepth", "-noleaf"}) {
        EXPECT_TRUE(find_global_option(g)) << g;
    }
    EXPECT_FALSE(find_global_option("-name"));
    EXPECT_FALSE(find_global_option("-depth"));
    for (const char* a : {"-print", "-print0", "-printf", "-ls"}) {
        EXPECT_TRUE(find_print_action(a)) << a;
    }
    EXPECT_FALSE(find_print_action("-prune"));
    EXPECT_FALSE(find_print_action("-quit"));
}

}  // namespace
}  // namespace diag::policy_loader
