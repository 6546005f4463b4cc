// SPDX-License-Identifier: Apache-2.0
// The loader's check of rules that prune denied subtrees (see prune_rules.h): per strategy, the
// program it is for and the options its rewrite keeps exact.
#include "wrapper/policy/prune_rules.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace diag::policy_loader {

namespace {

using policy::Command;
using policy::Prune;
using Names = std::vector<std::string_view>;

bool has(const Names& names, std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); }

// GNU find: tests and operators that only decide what matches, the actions that print names
// and metadata, and the global and positional options. Never: -depth/-d/-delete (-prune does
// nothing under them), -L/-H/-follow (leave the tree through symlinks), -exec/-ok/-fprint*/-fls
// (run or write), -files0-from (start points from a file).
const Names& find_globals() {
    static const Names n = {
        "-xdev", "-mount", "-maxdepth", "-mindepth", "-noleaf", "-ignore_readdir_race", "-noignore_readdir_race"};
    return n;
}
const Names& find_prints() {
    static const Names n = {"-print", "-print0", "-printf", "-ls"};
    return n;
}
const Names& find_others() {
    static const Names n = {
        "-name",     "-iname",    "-path",     "-wholename",  "-ipath",  "-iwholename", "-lname",  "-ilname",
        "-regex",    "-iregex",   "-type",     "-xtype",      "-mtime",  "-atime",      "-ctime",  "-mmin",
        "-amin",     "-cmin",     "-size",     "-newer",      "-anewer", "-cnewer",     "-user",   "-group",
        "-uid",      "-gid",      "-nouser",   "-nogroup",    "-perm",   "-empty",      "-links",  "-inum",
        "-samefile", "-readable", "-writable", "-executable", "-true",   "-false",      "-fstype", "-used",
        "-not",      "-a",        "-and",      "-o",          "-or",     "-prune",      "-quit",   "-daystart",
        "-warn",     "-nowarn",   "-regextype"};
    return n;
}

// GNU grep under -r: options that change what a line matches or how a match is printed, and the
// name filters the rewrite applies exactly (tree_prune.cc). Never -R/--dereference-recursive
// (follows symlinks), -d/-D (directories and devices read otherwise), -f/--exclude-from (read a
// file).
const Names& grep_options() {
    static const Names n = {"-r",
                            "--recursive",
                            "-E",
                            "--extended-regexp",
                            "-F",
                            "--fixed-strings",
                            "-G",
                            "--basic-regexp",
                            "-P",
                            "--perl-regexp",
                            "-i",
                            "--ignore-case",
                            "--no-ignore-case",
                            "-w",
                            "--word-regexp",
                            "-x",
                            "--line-regexp",
                            "-v",
                            "--invert-match",
                            "-n",
                            "--line-number",
                            "-b",
                            "--byte-offset",
                            "-c",
                            "--count",
                            "-l",
                            "--files-with-matches",
                            "-L",
                            "--files-without-match",
                            "-o",
                            "--only-matching",
                            "-s",
                            "--no-messages",
                            "-q",
                            "--quiet",
                            "--silent",
                            "-H",
                            "--with-filename",
                            "-h",
                            "--no-filename",
                            "-a",
                            "--text",
                            "-I",
                            "-m",
                            "--max-count",
                            "-A",
                            "--after-context",
                            "-B",
                            "--before-context",
                            "-C",
                            "--context",
                            "-e",
                            "--regexp",
                            "-Z",
                            "--null",
                            "-T",
                            "--initial-tab",
                            "--include",
                            "--exclude",
                            "--exclude-dir"};
    return n;
}

// GNU du: options that change how sizes are counted and printed. Never -L/--dereference and
// -D/-H/--dereference-args (follow symlinks), -X/--exclude-from/--files0-from (read a file),
// --exclude (the rewrite's own: a request's pattern could also match what it does not mean).
const Names& du_options() {
    static const Names n = {"-s",
                            "--summarize",
                            "-h",
                            "--human-readable",
                            "--si",
                            "-c",
                            "--total",
                            "-a",
                            "--all",
                            "-x",
                            "--one-file-system",
                            "-b",
                            "--bytes",
                            "-k",
                            "-m",
                            "--apparent-size",
                            "--inodes",
                            "-S",
                            "--separate-dirs",
                            "-l",
                            "--count-links",
                            "--time",
                            "-0",
                            "--null",
                            "-d",
                            "--max-depth",
                            "-t",
                            "--threshold",
                            "-B",
                            "--block-size"};
    return n;
}

std::string_view program_for(Prune how) {
    switch (how) {
        case Prune::kFind:
            return "find";
        case Prune::kGrep:
            return "grep";
        case Prune::kDu:
            return "du";
        case Prune::kNone:
            break;
    }
    return "";
}

std::string_view basename_of(const std::string& program) {
    const size_t slash = program.rfind('/');
    return slash == std::string::npos ? std::string_view(program) : std::string_view(program).substr(slash + 1);
}

Status check_shape(const FileCtx& ctx, const toml::table& t, const std::string& what, const Command& c) {
    const bool recursive =
        std::any_of(c.options.begin(), c.options.end(), [](const policy::OptionSpec& o) { return o.recursive; });
    for (const auto& p : c.positionals) {
        if (!policy::is_path_type(p.value.type)) {
            continue;
        }
        const bool tree = c.prune == Prune::kGrep ? recursive && p.value.type == policy::ValueType::kPath
                                                  : p.tree && p.value.type == policy::ValueType::kMetaPath;
        if (!tree) {
            return at(ctx, t.source(),
                      what +
                          ": with prune, every path operand must be a tree (find, du: meta-path with tree = true; "
                          "grep: path under a recursive option)");
        }
    }
    if (c.prune == Prune::kFind &&
        (c.style != policy::Style::kWords || c.layout != policy::Layout::kPositionalsFirst || !c.fixed.empty())) {
        return at(ctx, t.source(),
                  what + ": prune = 'find' needs style = 'words', layout = 'positionals-first' and no fixed words");
    }
    return ok_status();
}

}  // namespace

bool find_global_option(const std::string& name) { return has(find_globals(), name); }

bool find_print_action(const std::string& name) { return has(find_prints(), name); }

bool prune_knows_option(Prune how, const std::string& name) {
    switch (how) {
        case Prune::kFind:
            return has(find_globals(), name) || has(find_prints(), name) || has(find_others(), name);
        case Prune::kGrep:
            return has(grep_options(), name);
        case Prune::kDu:
            return has(du_options(), name);
        case Prune::kNone:
            break;
    }
    return false;
}

Status check_prune(const FileCtx& ctx, const toml::table& t, const std::string& what, const Command& c) {
    if (c.prune == Prune::kNone) {
        return ok_status();
    }
    const toml::node* key = t.get("prune");
    const auto& where = key != nullptr ? key->source() : t.source();
    const std::string_view program = program_for(c.prune);
    if (basename_of(c.program) != program) {
        return at(ctx, where,
                  what + ".prune = '" + std::string(program) + "' is for the program " + std::string(program) +
                      ", not " + c.program);
    }
    if (c.filter) {
        return at(ctx, where, what + ": a filter reads no tree, so it cannot prune one");
    }
    DIAG_TRY(check_shape(ctx, t, what, c));
    for (const auto& o : c.options) {
        for (const auto& name : o.names) {
            if (!prune_knows_option(c.prune, name)) {
                return at(ctx, where,
                          what + ": option '" + name + "' is not one prune = '" + std::string(program) +
                              "' keeps exact (adr/0016)");
            }
        }
    }
    return ok_status();
}

}  // namespace diag::policy_loader
