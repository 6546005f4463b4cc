// SPDX-License-Identifier: Apache-2.0
// The loader's refusal of filter rules that could open, write or execute (see filter_rules.h): the
// tables of programs and options it knows, and the checks in the order their errors are reported.
#include "wrapper/policy/filter_rules.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "wrapper/base/parse.h"
#include "wrapper/base/paths.h"

namespace diag::policy_loader {

namespace {

using policy::Command;
using Names = std::vector<std::string_view>;

// Programs that can run programs or write files whatever their arguments: never a filter.
struct RefusedProgram {
    Names programs;
    std::string_view why;
};

const std::vector<RefusedProgram>& refused_programs() {
    static const std::vector<RefusedProgram> table = {
        {{"awk", "gawk", "mawk", "nawk"},
         "runs commands (system(), getline from a command) and writes files (print > F)"},
        {{"sed", "gsed"}, "runs commands (e) and reads and writes files (r, w)"},
        {{"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish", "csh", "tcsh", "rc"},
         "is a shell: runs commands"},
        {{"busybox", "toybox"}, "is a multi-call binary: its first argument picks any applet, a shell included"},
        {{"env",    "xargs",  "parallel", "nice",    "ionice",  "timeout", "nohup",
          "stdbuf", "setsid", "chroot",   "watch",   "time",    "flock",   "unbuffer",
          "strace", "ltrace", "gdb",      "sudo",    "su",      "doas",    "runuser",
          "pkexec", "script", "chrt",     "taskset", "unshare", "nsenter", "systemd-run"},
         "runs the program it is given"},
        {{"tee", "dd", "split", "csplit", "sponge"}, "writes files"},
        {{"find"}, "walks the file system and runs programs (-exec)"},
        {{"rgrep"}, "always reads directories (grep -r)"},
        {{"vi", "vim", "nvim", "view", "rvim", "ex", "ed", "emacs", "nano", "less", "more", "most", "pg", "man"},
         "is an editor or pager: it opens and writes files and has shell escapes"},
        {{"ssh", "scp", "sftp", "rsync", "socat", "nc", "ncat", "netcat", "curl", "wget"},
         "connects elsewhere and reads or writes files"},
    };
    return table;
}

// Interpreters, matched by prefix so that versioned names (python3.12, perl5.36, lua5.4) are
// caught too: each runs code.
constexpr std::string_view kInterpreterPrefixes[] = {"perl", "python", "pypy", "ruby",  "lua",   "php",
                                                     "node", "tclsh",  "wish", "guile", "julia", "Rscript"};

// Options a program uses to open, write or run something. Never listed in a filter rule.
struct RefusedOptions {
    Names programs;
    Names options;
    std::string_view why;
};

const std::vector<RefusedOptions>& refused_options() {
    static const Names grep = {"grep", "egrep", "fgrep"};
    static const Names sums = {"md5sum",    "sha1sum",   "sha224sum", "sha256sum",
                               "sha384sum", "sha512sum", "b2sum",     "cksum"};
    static const std::vector<RefusedOptions> table = {
        {grep, {"-f", "--file", "--exclude-from"}, "reads the file it names"},
        {grep,
         {"-r", "-R", "--recursive", "--dereference-recursive", "-d", "--directories", "-D", "--devices", "--include",
          "--exclude", "--exclude-dir"},
         "reads directories or devices"},
        {{"sort"}, {"-o", "--output"}, "writes the file it names"},
        {{"sort"}, {"-T", "--temporary-directory"}, "writes temporary files there"},
        {{"sort"}, {"--compress-program"}, "runs the program it names"},
        {{"sort"}, {"--random-source"}, "reads the file it names"},
        {{"sort", "wc", "du"}, {"--files0-from"}, "opens every file the list names"},
        {{"tail"}, {"-f", "-F", "--follow", "--retry"}, "follows a file and never ends"},
        {sums, {"-c", "--check"}, "opens every file its input names"},
    };
    return table;
}

// Programs that read their operands as files: as filters they take no operand, or only the ones
// they read as something else.
struct Operands {
    Names programs;
    size_t max;
    Names file_makers;  // options with which every operand is a file (max is then 0)
    std::string_view why;
};

const std::vector<Operands>& operand_rules() {
    static const std::vector<Operands> table = {
        {{"grep", "egrep", "fgrep"},
         1,
         {"-e", "--regexp", "-f", "--file"},
         "reads its first operand as the pattern and every other one as a file (all of them with -e)"},
        {{"head",      "tail",      "wc",        "sort",      "uniq",     "cut",     "cat",    "tac",    "nl",
          "rev",       "fold",      "fmt",       "paste",     "join",     "comm",    "column", "od",     "base32",
          "base64",    "basenc",    "xxd",       "expand",    "unexpand", "strings", "sum",    "md5sum", "sha1sum",
          "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum",    "cksum"},
         0,
         {},
         "reads every operand as a file (uniq and xxd write the second)"},
    };
    return table;
}

bool has(const Names& names, std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); }

// Where an error about element `i` of the array `key` points (the key itself, or the table).
const toml::source_region& source_of(const toml::table& t, const char* key, size_t i = SIZE_MAX) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return t.source();
    }
    if (const auto* arr = n->as_array(); arr != nullptr && i < arr->size()) {
        return (*arr)[i].source();
    }
    return n->source();
}

// Why `option`, one option as `program` parses it, is refused; empty `why` when it is not. A long
// option that abbreviates a refused one is refused too: getopt_long expands it.
struct Refusal {
    std::string spelled;  // how the option was written, when not as in the table: ", an abbreviation of X"
    std::string why;
};

Refusal refusal(std::string_view program, std::string_view option) {
    for (const auto& r : refused_options()) {
        if (!has(r.programs, program)) {
            continue;
        }
        for (const std::string_view bad : r.options) {
            const std::string why = std::string(program) + " " + std::string(r.why);
            if (option == bad) {
                return {"", why};
            }
            if (util::starts_with(option, "--") && util::starts_with(bad, option)) {
                return {", an abbreviation of " + std::string(bad), why};
            }
        }
    }
    return {};
}

// The options a getopt parser finds in the word `w`: a long option up to '=', or each letter of a
// short cluster. Every program the tables know parses its words with getopt, whatever the rule's
// style says about how the wrapper reads them: sort reads -ro as -r -o. Checking every letter
// refuses a value attached after a letter that takes one (grep -eroot) too: that fails closed.
std::vector<std::string> getopt_options(std::string_view w) {
    if (util::starts_with(w, "--")) {
        return {std::string(w.substr(0, w.find('=')))};
    }
    std::vector<std::string> out;
    if (w.size() >= 2 && w[0] == '-') {
        for (const char letter : w.substr(1)) {
            if (letter != '-') {  // never an option letter; only a value holds it
                out.push_back(std::string{'-', letter});
            }
        }
    }
    return out;
}

// Why the option word `w` (an option name or a fixed word) is refused for `program`, quoted for an
// error; empty when it is not.
std::string word_refusal(std::string_view program, std::string_view w) {
    const std::string quoted = "'" + std::string(w) + "'";
    for (const auto& o : getopt_options(w)) {
        const Refusal r = refusal(program, o);
        if (r.why.empty()) {
            continue;
        }
        if (!util::starts_with(w, "--") && o != w) {
            return quoted + ", a cluster holding " + o + " (" + r.why + ")";
        }
        const std::string spelled = r.spelled.empty() && o != w ? ", that is " + o : r.spelled;
        return quoted + spelled + " (" + r.why + ")";
    }
    return {};
}

// The program itself: never one that runs programs or writes files.
Status check_program(const FileCtx& ctx, const toml::table& t, const std::string& what, std::string_view program) {
    const auto& src = t.get("program") != nullptr ? source_of(t, "program") : source_of(t, "match");
    for (const auto& r : refused_programs()) {
        if (has(r.programs, program)) {
            return at(ctx, src, what + ": " + std::string(program) + " cannot be a filter: it " + std::string(r.why));
        }
    }
    for (const std::string_view prefix : kInterpreterPrefixes) {
        if (util::starts_with(program, prefix)) {
            return at(ctx, src,
                      what + ": " + std::string(program) + " cannot be a filter: it is an interpreter: runs code");
        }
    }
    return ok_status();
}

// No network, no path-typed or recursive argument, no refused option.
Status check_arguments(const FileCtx& ctx, const toml::table& t, const std::string& what, const Command& c,
                       std::string_view program) {
    if (c.network) {
        return at(ctx, source_of(t, "network"), what + ": a filter may not set network = true");
    }
    for (size_t i = 0; i < c.options.size(); ++i) {
        const auto& o = c.options[i];
        if (policy::is_path_type(o.value.type) || o.recursive) {
            return at(ctx, source_of(t, "option", i),
                      what + ": a filter reads only its input: option '" + o.names.front() + "' is " +
                          (o.recursive ? "recursive" : policy::value_type_name(o.value.type)));
        }
        for (const auto& name : o.names) {
            if (const std::string why = word_refusal(program, name); !why.empty()) {
                return at(ctx, source_of(t, "option", i), what + ": a filter may not list " + why);
            }
        }
    }
    for (size_t i = 0; i < c.positionals.size(); ++i) {
        if (policy::is_path_type(c.positionals[i].value.type)) {
            return at(ctx, source_of(t, "positional", i),
                      what + ": a filter reads only its input: positional " + std::to_string(i + 1) + " is " +
                          policy::value_type_name(c.positionals[i].value.type));
        }
    }
    return ok_status();
}

// Whether the rule gives its program one of `options`, as its getopt parser reads the option
// names the rule lists and its fixed words (see getopt_options).
bool gives_any(const Command& c, const Names& options) {
    const auto gives = [&](const std::string& word) {
        const std::vector<std::string> found = getopt_options(word);
        return std::any_of(found.begin(), found.end(), [&](const std::string& o) { return has(options, o); });
    };
    return std::any_of(c.options.begin(), c.options.end(),
                       [&](const auto& o) { return std::any_of(o.names.begin(), o.names.end(), gives); }) ||
           std::any_of(c.fixed.begin(), c.fixed.end(), gives);
}

// No more operands than the program reads as something other than a file. Fixed words not
// starting with '-' count as operands (an option's value among them: write it attached).
Status check_operand_count(const FileCtx& ctx, const toml::table& t, const std::string& what, const Command& c,
                           std::string_view program) {
    size_t count = static_cast<size_t>(
        std::count_if(c.fixed.begin(), c.fixed.end(), [](const std::string& w) { return w.empty() || w[0] != '-'; }));
    for (const auto& p : c.positionals) {
        count += p.max;
    }
    for (const auto& r : operand_rules()) {
        if (!has(r.programs, program)) {
            continue;
        }
        const size_t max = gives_any(c, r.file_makers) ? 0 : r.max;
        if (count > max) {
            return at(ctx, c.positionals.empty() ? source_of(t, "fixed") : source_of(t, "positional"),
                      what + ": a filter of " + std::string(program) + " takes at most " + std::to_string(max) +
                          " operand(s) here: " + std::string(program) + " " + std::string(r.why));
        }
    }
    return ok_status();
}

bool operands_are_files(std::string_view program) {
    return std::any_of(operand_rules().begin(), operand_rules().end(),
                       [&](const Operands& r) { return r.max == 0 && has(r.programs, program); });
}

// Why the fixed word `w` is refused, quoted for an error; empty when it is not. Option words are
// read as getopt reads them (see getopt_options).
std::string fixed_refusal(std::string_view program, const std::string& w) {
    if (w.find('/') != std::string::npos) {
        return "'" + w + "' (it names a file)";
    }
    if (w.size() >= 2 && w[0] == '-') {
        return word_refusal(program, w);
    }
    if (operands_are_files(program)) {
        return "'" + w + "' (" + std::string(program) + " reads an operand as a file; write option values attached)";
    }
    return {};
}

Status check_fixed(const FileCtx& ctx, const toml::table& t, const std::string& what, const Command& c,
                   std::string_view program) {
    for (size_t i = 0; i < c.fixed.size(); ++i) {
        if (const std::string why = fixed_refusal(program, c.fixed[i]); !why.empty()) {
            return at(ctx, source_of(t, "fixed", i), what + ": a filter may not have the fixed word " + why);
        }
    }
    return ok_status();
}

}  // namespace

Status check_filter(const FileCtx& ctx, const toml::table& t, const std::string& what, const Command& c) {
    if (!c.filter) {
        return ok_status();
    }
    const std::string_view program = util::base_name(c.program);
    DIAG_TRY(check_program(ctx, t, what, program));
    DIAG_TRY(check_arguments(ctx, t, what, c, program));
    DIAG_TRY(check_fixed(ctx, t, what, c, program));
    DIAG_TRY(check_operand_count(ctx, t, what, c, program));
    return ok_status();
}

}  // namespace diag::policy_loader
