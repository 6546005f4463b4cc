// SPDX-License-Identifier: Apache-2.0
// Filter rules (filter = true): the schema key, and every shape the loader must refuse because the
// filter could then open, write or run something.
#include "wrapper/policy/filter_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/policy/policy_text.h"

namespace diag::policy_loader {
namespace {

using test::kHead;
using test::load_text;

// A filter rule `id` running `program`, with `body` (TOML lines) added; its table starts on line 7.
std::string filter(const std::string& program, const std::string& body, const std::string& id = "f") {
    return std::string(kHead) + "[command." + id + "]\nmatch = [\"" + program + "\"]\ndescription = \"d\"\n" +
           "filter = true\n" + body;
}

// Every text loads.
void expect_loads(const std::vector<std::string>& texts) {
    for (const auto& text : texts) {
        auto p = load_text(text);
        EXPECT_TRUE(p.ok()) << text << "\n=> " << p.error().describe();
    }
}

std::string option(const std::string& names, const std::string& type) {
    return "option = [{ names = [" + names + "], type = \"" + type + "\" }]\n";
}

TEST(FilterRules, TheKeyIsAnExactBooleanAndDefaultsToFalse) {
    auto p = load_text(filter("sort", option("\"-n\"", "flag")));
    ASSERT_TRUE(p.ok()) << p.error().describe();
    EXPECT_TRUE(p->commands.at(0).filter);
    auto q = load_text(std::string(kHead) + "[command.s]\nmatch = [\"sort\"]\ndescription = \"d\"\n");
    ASSERT_TRUE(q.ok()) << q.error().describe();
    EXPECT_FALSE(q->commands.at(0).filter);
    // A plain rule may have what a filter may not.
    auto r = load_text(std::string(kHead) +
                       "[command.s]\nmatch = [\"sort\"]\ndescription = \"d\"\nfilter = false\n"
                       "option = [{ names = [\"-o\"], type = \"path\" }]\npositional = [{ type = \"path\" }]\n");
    ASSERT_TRUE(r.ok()) << r.error().describe();
    test::expect_rejected({
        {std::string(kHead) + "[command.s]\nmatch = [\"sort\"]\ndescription = \"d\"\nfilter = \"true\"\n",
         "command.s.filter: expected true or false", 10, 10},
        {std::string(kHead) + "[command.s]\nmatch = [\"sort\"]\ndescription = \"d\"\nfilter = 1\n",
         "command.s.filter: expected true or false", 10, 10},
        {std::string(kHead) + "[command.s]\nmatch = [\"sort\"]\ndescription = \"d\"\nfilters = true\n",
         "unknown key 'filters' in command.s", 10, 1},
    });
}

TEST(FilterRules, RefusesPathsNetworkAndRecursion) {
    test::expect_rejected({
        {filter("sort", option("\"-o\"", "path")), "command.f: a filter reads only its input: option '-o' is path", 11,
         11},
        {filter("mytool", option("\"--in\"", "meta-path")), "option '--in' is meta-path", 11, 0},
        {filter("mytool", "positional = [{ type = \"path\", min = 0 }]\n"),
         "command.f: a filter reads only its input: positional 1 is path", 11, 15},
        {filter("mytool", "positional = [{ type = \"string\" }, { type = \"meta-path\" }]\n"),
         "positional 2 is meta-path", 11, 0},
        {filter("mytool", "network = true\n"), "command.f: a filter may not set network = true", 11, 11},
        {filter("mytool", "option = [{ names = [\"-r\"], type = \"flag\", recursive = true }]\n"),
         "option '-r' is recursive", 11, 0},
    });
}

TEST(FilterRules, RefusesProgramsThatRunProgramsOrWriteFiles) {
    for (const char* program : {"awk", "gawk",  "mawk", "nawk", "sed",  "sh",   "bash", "dash",    "zsh",  "busybox",
                                "env", "xargs", "tee",  "dd",   "find", "less", "vim",  "timeout", "nice", "rgrep"}) {
        const std::string message = std::string(program) + " cannot be a filter";
        test::expect_rejected({{filter(program, ""), message.c_str(), 8, 9}});
    }
    // Versioned interpreters, and the program key (absolute or bare) rather than the match word.
    test::expect_rejected({
        {filter("python3.12", ""), "python3.12 cannot be a filter: it is an interpreter", 8, 0},
        {filter("perl", ""), "perl cannot be a filter", 8, 0},
        {filter("lines", "program = \"/usr/bin/awk\"\n"), "command.f: awk cannot be a filter: it runs commands", 11,
         11},
        {filter("lines", "program = \"sed\"\n"), "sed cannot be a filter", 11, 11},
    });
}

TEST(FilterRules, RefusesEachOptionThatOpensWritesOrRuns) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> refused = {
        {"grep",
         {"-f", "--file", "-r", "-R", "--recursive", "--dereference-recursive", "-d", "--directories", "-D",
          "--devices", "--exclude-from", "--include", "--exclude", "--exclude-dir"}},
        {"egrep", {"-f", "-r"}},
        {"sort",
         {"-o", "--output", "-T", "--temporary-directory", "--compress-program", "--files0-from", "--random-source"}},
        {"tail", {"-f", "-F", "--follow", "--retry"}},
        {"wc", {"--files0-from"}},
        {"sha256sum", {"-c", "--check"}},
    };
    for (const auto& [program, options] : refused) {
        for (const auto& o : options) {
            SCOPED_TRACE(program + " " + o);
            const std::string message = "a filter may not list '" + o + "'";
            test::expect_rejected({{filter(program, option("\"" + o + "\"", "string")), message.c_str(), 11, 11}});
        }
    }
    // getopt_long expands an unambiguous abbreviation: --compress is --compress-program.
    test::expect_rejected({
        {filter("sort", option("\"--compress\"", "string")), "'--compress', an abbreviation of --compress-program", 11,
         0},
        {filter("tail", option("\"--fol\"", "flag")), "an abbreviation of --follow", 11, 0},
        // Any spelling of the option refuses it, not just the first.
        {filter("sort", option("\"-n\", \"--output\"", "flag")), "may not list '--output'", 11, 0},
    });
    // The same letters are harmless for another program.
    expect_loads({filter("sort", option("\"-f\"", "flag")), filter("uniq", option("\"-f\"", "int")),
                  filter("cut", option("\"-d\"", "string")), filter("head", option("\"-c\"", "int"))});
}

// Review finding (issue #14): `style = "words"` is how the wrapper reads the words, not how the
// program does. sort, grep and tail still parse a word like -ro as getopt does (-r, then -o with
// the next word as its file), so a words-style filter listing -ro, or a fixed word -uo, gives the
// program the refused option; only Landlock then stops the write (and nothing does where
// settings.landlock = "best-effort" finds no Landlock).
TEST(FilterRules, RefusesARefusedLetterInsideAWordsStyleCluster) {
    const std::string words = "style = \"words\"\n";
    for (const auto& text :
         {filter("sort", words + option("\"-ro\"", "string")), filter("grep", words + option("\"-if\"", "string")),
          filter("tail", words + option("\"-fn\"", "int")),
          filter("sort", words + "fixed = [\"-uo\"]\n" + option("\"-S\"", "string"))}) {
        auto p = load_text(text);
        EXPECT_FALSE(p.ok()) << text;
        if (!p.ok()) {
            EXPECT_NE(p.error().describe().find("a filter may not"), std::string::npos) << p.error().describe();
        }
    }
}

// The cluster check does not depend on the style either: a getopt rule's option names and fixed
// words are read the same way, a long option up to its '=' whatever the style, and the operand
// count sees -e inside a words-style cluster (grep -ie PATTERN FILE: every operand is a file).
TEST(FilterRules, ReadsEveryOptionWordAsGetoptDoesWhateverTheStyle) {
    const std::string words = "style = \"words\"\n";
    test::expect_rejected({
        {filter("sort", words + option("\"-ro\"", "string")), "may not list '-ro', a cluster holding -o (sort writes",
         12, 0},
        {filter("tail", words + "fixed = [\"-5f\"]\n"), "fixed word '-5f', a cluster holding -f (tail follows", 12, 0},
        {filter("sha256sum", words + option("\"-bc\"", "flag")), "'-bc', a cluster holding -c", 12, 0},
        {filter("sort", words + "fixed = [\"--output=x\"]\n"), "'--output=x', that is --output", 12, 0},
        {filter("sort", words + "fixed = [\"--compress=x\"]\n"), "an abbreviation of --compress-program", 12, 0},
        {filter("grep", "fixed = [\"-o=f\"]\n"), "'-o=f', a cluster holding -f (grep reads the file", 11, 0},
        {filter("grep", words + "fixed = [\"-ie\"]\npositional = [{ type = \"string\" }]\n"),
         "takes at most 0 operand(s)", 13, 0},
    });
    // Clusters of harmless letters still load, in either style; '-' inside a word is no option.
    expect_loads({filter("sort", words + "fixed = [\"-rn\", \"-k2,2\"]\n"),
                  filter("grep", words + option("\"-in\"", "flag")), filter("grep", words + "fixed = [\"-ie\"]\n"),
                  filter("tail", words + option("\"-n\"", "int")), filter("head", "fixed = [\"-n-5\"]\n")});
}

TEST(FilterRules, RefusesOperandsTheProgramWouldReadAsFiles) {
    test::expect_rejected({
        // uniq IN OUT writes OUT; sort, head, cut, wc read every operand.
        {filter("uniq", "positional = [{ type = \"string\", min = 0, max = 2 }]\n"),
         "a filter of uniq takes at most 0 operand(s) here", 11, 14},
        {filter("sort", "positional = [{ type = \"regex\", pattern = '[a-z]+' }]\n"), "filter of sort", 11, 0},
        {filter("cut", "positional = [{ type = \"string\", min = 0 }]\n"), "filter of cut", 11, 0},
        // grep: the pattern and nothing more; with -e the pattern operand would be a file.
        {filter("grep", "positional = [{ type = \"string\", max = 2 }]\n"), "a filter of grep takes at most 1", 11, 0},
        {filter("grep", "option = [{ names = [\"-e\"], type = \"string\" }]\npositional = [{ type = \"string\" }]\n"),
         "a filter of grep takes at most 0", 12, 0},
        // ... also when -e, or the pattern itself, is a fixed word.
        {filter("grep", "fixed = [\"-ie\", \"x\"]\npositional = [{ type = \"string\" }]\n"),
         "a filter of grep takes at most 0", 12, 14},
        {filter("grep", "fixed = [\"--regexp=x\"]\npositional = [{ type = \"string\" }]\n"), "takes at most 0", 12, 0},
        {filter("grep", "fixed = [\"x\"]\npositional = [{ type = \"string\" }]\n"), "takes at most 1", 12, 0},
    });
    // The shapes that are fine: grep PATTERN, grep -e PATTERN, tr SET1 SET2, an unknown program.
    expect_loads({
        filter("grep", "positional = [{ type = \"string\" }]\n"),
        filter("grep", "option = [{ names = [\"-e\", \"--regexp\"], type = \"string\", required = true }]\n"),
        filter("tr", "positional = [{ type = \"string\", min = 1, max = 2 }]\n"),
        filter("mytool", "positional = [{ type = \"string\", min = 0, max = 8 }]\n"),
    });
}

TEST(FilterRules, RefusesFixedWordsThatNameFilesOrRefusedOptions) {
    test::expect_rejected({
        {filter("mytool", "fixed = [\"open\", \"/etc/shadow\"]\n"),
         "a filter may not have the fixed word '/etc/shadow' (it names a file)", 11, 18},
        {filter("grep", "fixed = [\"-rn\"]\n"), "may not have the fixed word '-rn', a cluster holding -r (grep reads",
         11, 10},
        {filter("sort", "fixed = [\"--output=x\"]\n"), "fixed word '--output=x', that is --output (sort writes", 11, 0},
        {filter("sort", "fixed = [\"--compress=x\"]\n"), "abbreviation of --compress-program", 11, 0},
        {filter("head", "fixed = [\"-n\", \"5\"]\n"), "fixed word '5' (head reads an operand as a file", 11, 16},
    });
    expect_loads({filter("head", "fixed = [\"-n5\"]\n"), filter("sort", "fixed = [\"-s\"]\n"),
                  filter("tr", "fixed = [\"-s\", \" \"]\n")});
}

}  // namespace
}  // namespace diag::policy_loader
