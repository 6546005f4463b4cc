// SPDX-License-Identifier: Apache-2.0
// Matcher fuzzer: tokenized input against a fixed policy; an accepted request never hands the
// resolver a path that starts with '-' (empty paths are the resolver's to refuse), and an optional
// value (journalctl -b) never lets an option the rule does not list reach the program. The same
// words as a pipeline stage (match_stage), every word holding `*`, `?`, `[` or `]` taken as a glob
// word: a glob reaches the program only as a path argument left for expansion or in a
// pattern-typed value, a stage without globs matches as match() does, and after `|` only a
// filter rule matches. The input is also parsed as a pipeline (command::parse) and each stage
// matched in its role. No file system access: expansion is not run here.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/helpers/policies.h"
#include "wrapper/base/paths.h"
#include "wrapper/policy/loader.h"
#include "wrapper/request/command.h"
#include "wrapper/request/matcher.h"

namespace {

const diag::policy::Policy& fuzz_policy() {
    static const diag::policy::Policy p = [] {
        const std::string settings = R"(
version = 1
[settings]
search_path = ["/usr/bin", "/bin"]
[audit]
sinks = ["file"]
file = "/dev/null"
)";
        const std::string head_and_find = R"(
[command.head]
match = ["head"]
description = "first lines"
[[command.head.option]]
names = ["-n", "--lines"]
type = "int"
min = 0
max = 100000
[[command.head.positional]]
type = "path"
max = 8
[command.find]
match = ["find"]
description = "find"
style = "words"
layout = "positionals-first"
[[command.find.option]]
names = ["-name"]
type = "string"
[[command.find.positional]]
type = "path"
tree = true
[command.journalctl]
match = ["journalctl"]
description = "journal"
option = [
    { names = ["-b", "--boot"], type = "boot", optional_value = true },
    { names = ["-k"], type = "flag" },
    { names = ["-u"], type = "unit" },
]
)";
        // cat as the integration tests type it (tests/testdata/policies/cat.toml), head and find.
        const std::string text = settings + diag::testing::policies::rules({"cat"}) + head_and_find;
        diag::policy_loader::Options opts;
        opts.trusted_owner = ::getuid();
        auto r = diag::policy_loader::load_from_string(text, "fuzz.toml", opts);
        if (!r.ok()) {
            std::abort();
        }
        return std::move(r).value();
    }();
    return p;
}

// The same policy with head a pipeline filter.
const diag::policy::Policy& filter_policy() {
    static const diag::policy::Policy p = [] {
        diag::policy::Policy copy = fuzz_policy();
        for (auto& c : copy.commands) {
            c.filter = c.id == "head";
        }
        return copy;
    }();
    return p;
}

bool has_glob_char(const std::string& s) { return s.find_first_of(diag::command::kGlobChars) != std::string::npos; }

// The words as the tokenizer would give them had every glob character been typed unquoted.
diag::command::Stage as_stage(const std::vector<std::string>& argv, bool globs) {
    diag::command::Stage stage;
    for (const auto& a : argv) {
        diag::command::Word w{a, a, globs && has_glob_char(a)};
        if (w.glob) {
            w.pattern.clear();
            for (char c : a) {
                w.pattern += c == '\\' ? std::string("\\\\") : std::string(1, c);
            }
        }
        stage.push_back(std::move(w));
    }
    return stage;
}

// Where an accepted stage may carry a glob character: a glob path argument (its pattern standing
// for its text), find's -name value, or anything when no word was a glob.
void check_stage(const diag::matcher::Match& m, bool any_glob) {
    std::vector<bool> glob_path(m.exec_args.size(), false);
    for (const auto& ref : m.paths) {
        if (ref.index >= m.exec_args.size() || m.exec_args[ref.index] != ref.prefix + ref.input) {
            std::abort();
        }
        if (ref.glob && (diag::util::glob_unescape(ref.pattern) != ref.input || ref.max_matches == 0 ||
                         (ref.option_value && ref.max_matches != 1))) {
            std::abort();
        }
        glob_path[ref.index] = ref.glob;
    }
    for (size_t i = 0; any_glob && i < m.exec_args.size(); ++i) {
        const bool name_value = i > 0 && m.exec_args[i - 1] == "-name";
        if (has_glob_char(m.exec_args[i]) && !glob_path[i] && !name_value) {
            std::abort();
        }
    }
}

void fuzz_stage(const std::vector<std::string>& argv, const diag::Result<diag::matcher::Match>& plain) {
    using diag::matcher::Role;
    const auto stage = as_stage(argv, true);
    bool any_glob = false;
    for (const auto& w : stage) {
        any_glob = any_glob || w.glob;
    }
    auto globbed = diag::matcher::match_stage(fuzz_policy(), stage);
    if (globbed.ok()) {
        check_stage(*globbed, any_glob);
    }
    // Without glob words, a stage matches exactly as match() does.
    auto literal = diag::matcher::match_stage(fuzz_policy(), as_stage(argv, false));
    if (literal.ok() != plain.ok() ||
        (literal.ok() && (literal->exec_args != plain->exec_args || literal->command != plain->command))) {
        std::abort();
    }
    auto piped = diag::matcher::match_stage(filter_policy(), stage, diag::hints::pinned_available, Role::kFilter);
    if (piped.ok() && !piped->command->filter) {
        std::abort();
    }
}

// The input as a pipeline, as the tokenizer parses it: the first stage against any rule, every
// later one against the filters only.
void fuzz_pipeline(const std::string& in) {
    using diag::matcher::Role;
    auto stages = diag::command::parse(in);
    if (!stages.ok()) {
        return;
    }
    for (size_t i = 0; i < stages->size(); ++i) {
        const auto& stage = (*stages)[i];
        // Where quoted glob characters stand next to glob words, which word an argument came
        // from is not known here: the placement check needs every such word to be a glob.
        bool any_glob = false;
        bool only_globs = true;
        for (const auto& w : stage) {
            any_glob = any_glob || w.glob;
            only_globs = only_globs && (w.glob || !has_glob_char(w.text));
        }
        auto m = diag::matcher::match_stage(filter_policy(), stage, diag::hints::pinned_available,
                                            i == 0 ? Role::kFirst : Role::kFilter);
        if (m.ok()) {
            check_stage(*m, any_glob && only_globs);
            if (i > 0 && !m->command->filter) {
                std::abort();
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    fuzz_pipeline(in);
    auto argv = diag::command::tokenize(in);
    if (!argv.ok() || argv->empty()) {
        return 0;
    }
    auto m = diag::matcher::match(fuzz_policy(), *argv);
    fuzz_stage(*argv, m);
    if (!m.ok()) {
        return 0;
    }
    if (m->command->id == "journalctl") {
        // Every word starting with '-' is one of the rule's options (with an attached value).
        for (const auto& a : m->exec_args) {
            if (!a.empty() && a[0] == '-' && a.rfind("-b", 0) != 0 && a.rfind("--boot", 0) != 0 && a != "-k" &&
                a != "-u") {
                std::abort();
            }
        }
    }
    for (const auto& ref : m->paths) {
        if (!ref.input.empty() && ref.input[0] == '-') {
            std::abort();
        }
    }
    return 0;
}
