// SPDX-License-Identifier: Apache-2.0
// One [command.ID] table -> a policy::Command, read in named steps in the order the keys are
// checked (see command_schema.h).
#include "wrapper/policy/command_schema.h"

#include <algorithm>
#include <vector>

#include "wrapper/policy/argument_schema.h"
#include "wrapper/policy/connect_rules.h"
#include "wrapper/policy/filter_rules.h"
#include "wrapper/policy/prune_rules.h"

namespace diag::policy_loader {

namespace {

using policy::Command;
using policy::OptionSpec;
using policy::PositionalSpec;

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 64 || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9'))) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
}

// "a|b" -> {"a", "b"}: the alternatives one match word accepts.
std::vector<std::string> split_alternatives(const std::string& w) {
    std::vector<std::string> alts;
    size_t start = 0;
    for (;;) {
        const size_t bar = w.find('|', start);
        alts.push_back(w.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
        if (bar == std::string::npos) {
            break;
        }
        start = bar + 1;
    }
    return alts;
}

// match: the words (each with its alternatives) the request must start with.
Status read_match(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    const auto* match = t.get("match");
    if (match == nullptr) {
        return at(ctx, t.source(), what + ": missing 'match'");
    }
    DIAG_TRY_ASSIGN(auto words, read_strings(ctx, *match, what + ".match"));
    if (words.empty() || words.size() > 8) {
        return at(ctx, match->source(), what + ".match: needs 1 to 8 words");
    }
    for (const auto& w : words) {
        std::vector<std::string> alts = split_alternatives(w);
        for (const auto& a : alts) {
            if (a.empty() || a[0] == '-' || a.find_first_of(" /") != std::string::npos) {
                return at(ctx, match->source(), what + ".match: bad word '" + a + "' (no '-' prefix, '/' or spaces)");
            }
        }
        c.match.push_back(std::move(alts));
    }
    if (policy::word_matches(c.match[0], "help")) {
        return at(ctx, match->source(), what + ".match: 'help' is reserved for the command listing");
    }
    return ok_status();
}

// program: a bare name (looked up in the search path) or an absolute path; the first match word
// by default.
Status read_program(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    c.program = c.match[0].front();
    if (const auto* p = t.get("program")) {
        DIAG_TRY_ASSIGN(c.program, read_string(ctx, *p, what + ".program"));
        if (c.program.empty() || (c.program.find('/') != std::string::npos && c.program[0] != '/')) {
            return at(ctx, p->source(), what + ".program: a bare name or an absolute path");
        }
    }
    return ok_status();
}

// description, and family: the help listing's section (a lowercase word, as ids are spelt).
Status read_description(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    const auto* desc = t.get("description");
    if (desc == nullptr) {
        return at(ctx, t.source(), what + ": missing 'description'");
    }
    DIAG_TRY_ASSIGN(c.description, read_string(ctx, *desc, what + ".description"));
    if (const auto* f = t.get("family")) {
        DIAG_TRY_ASSIGN(c.family, read_string(ctx, *f, what + ".family"));
        const bool word = !c.family.empty() && c.family.size() <= 32 && c.family[0] >= 'a' && c.family[0] <= 'z' &&
                          std::all_of(c.family.begin(), c.family.end(), [](char ch) {
                              return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
                          });
        if (!word) {
            return at(ctx, f->source(), what + ".family: [a-z][a-z0-9-]* (at most 32 bytes)");
        }
    }
    return ok_status();
}

// fixed: the arguments always passed first.
Status read_fixed(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    if (const auto* f = t.get("fixed")) {
        DIAG_TRY_ASSIGN(c.fixed, read_strings(ctx, *f, what + ".fixed"));
    }
    return ok_status();
}

// style, layout and end_of_options: how the program's own parser reads its arguments.
Status read_grammar(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    if (const auto* s = t.get("style")) {
        DIAG_TRY_ASSIGN(std::string style, read_string(ctx, *s, what + ".style"));
        if (style == "getopt") {
            c.style = policy::Style::kGetopt;
        } else if (style == "words") {
            c.style = policy::Style::kWords;
        } else {
            return at(ctx, s->source(), what + ".style: 'getopt' or 'words'");
        }
    }
    c.end_of_options = c.style == policy::Style::kGetopt;
    if (const auto* l = t.get("layout")) {
        DIAG_TRY_ASSIGN(std::string layout, read_string(ctx, *l, what + ".layout"));
        if (layout == "subcommand-first") {
            c.layout = policy::Layout::kSubcommandFirst;
        } else if (layout == "options-first") {
            c.layout = policy::Layout::kOptionsFirst;
        } else if (layout == "positionals-first") {
            c.layout = policy::Layout::kPositionalsFirst;
        } else {
            return at(ctx, l->source(), what + ".layout: 'subcommand-first', 'options-first' or 'positionals-first'");
        }
    }
    if (const auto* e = t.get("end_of_options")) {
        DIAG_TRY_ASSIGN(c.end_of_options, read_bool(ctx, *e, what + ".end_of_options"));
    }
    return ok_status();
}

// long_values: how a long option's value reaches the program (`--name=VALUE` or two words).
Status read_long_values(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    const auto* v = t.get("long_values");
    if (v == nullptr) {
        return ok_status();
    }
    static const std::pair<std::string_view, bool> kHow[] = {{"attached", false}, {"separate", true}};
    DIAG_TRY_ASSIGN(const std::string how, read_string(ctx, *v, what + ".long_values"));
    const auto* it = std::find_if(std::begin(kHow), std::end(kHow), [&](const auto& h) { return h.first == how; });
    if (it == std::end(kHow)) {
        return at(ctx, v->source(), what + ".long_values: 'attached' or 'separate'");
    }
    if (it->second && c.style != policy::Style::kGetopt) {
        return at(ctx, v->source(), what + ".long_values: only getopt-style rules have long options");
    }
    c.separate_long_values = it->second;
    return ok_status();
}

// prune: how the program skips the denied subtrees of a tree operand (adr/0016).
Status read_prune(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    if (const auto* x = t.get("prune")) {
        static const std::pair<std::string_view, policy::Prune> kHow[] = {
            {"find", policy::Prune::kFind}, {"grep", policy::Prune::kGrep}, {"du", policy::Prune::kDu}};
        DIAG_TRY_ASSIGN(const std::string how, read_string(ctx, *x, what + ".prune"));
        const auto* it = std::find_if(std::begin(kHow), std::end(kHow), [&](const auto& h) { return h.first == how; });
        if (it == std::end(kHow)) {
            return at(ctx, x->source(), what + ".prune: 'find', 'grep' or 'du'");
        }
        c.prune = it->second;
    }
    return ok_status();
}

// reads: what of the file system the program reads (adr/0023). A filter reads its stdin only
// already; a request that reads a tree (a recursive option) gets the complement whatever it says.
Status read_reads(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    const auto* x = t.get("reads");
    if (x == nullptr) {
        return ok_status();
    }
    static const std::pair<std::string_view, policy::Reads> kHow[] = {{"filesystem", policy::Reads::kFilesystem},
                                                                      {"operands", policy::Reads::kOperands}};
    DIAG_TRY_ASSIGN(const std::string how, read_string(ctx, *x, what + ".reads"));
    const auto* it = std::find_if(std::begin(kHow), std::end(kHow), [&](const auto& h) { return h.first == how; });
    if (it == std::end(kHow)) {
        return at(ctx, x->source(), what + ".reads: 'filesystem' or 'operands'");
    }
    if (it->second == policy::Reads::kOperands && c.filter) {
        return at(ctx, x->source(), what + ".reads: a filter reads only its stdin: 'operands' does not apply");
    }
    if (it->second == policy::Reads::kOperands && c.network) {
        // The resolver's files (/etc/resolv.conf, /etc/hosts, nsswitch.conf) are no operand: the
        // child could resolve no name at all.
        return at(ctx, x->source(),
                  what + ".reads: resolving a name reads files no operand names: 'operands' needs network = false");
    }
    c.reads = it->second;
    return ok_status();
}

// timeout, output_cap, network and filter: how the command runs.
Status read_run_settings(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    if (const auto* x = t.get("timeout")) {
        DIAG_TRY_ASSIGN(c.timeout_ms, read_duration(ctx, *x, what + ".timeout"));
    }
    if (const auto* x = t.get("output_cap")) {
        DIAG_TRY_ASSIGN(c.output_cap, read_size(ctx, *x, what + ".output_cap"));
    }
    if (const auto* x = t.get("network")) {
        DIAG_TRY_ASSIGN(c.network, read_bool(ctx, *x, what + ".network"));
    }
    if (const auto* x = t.get("filter")) {
        DIAG_TRY_ASSIGN(c.filter, read_bool(ctx, *x, what + ".filter"));
    }
    return ok_status();
}

// [[command.ID.option]]: at most policy::kMaxOptionsPerCommand, no spelling declared twice.
Status read_options(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    const auto* o = t.get("option");
    if (o == nullptr) {
        return ok_status();
    }
    DIAG_TRY_ASSIGN(const toml::array* arr, as_array_of_tables(ctx, *o, what + ".option"));
    if (arr->size() > policy::kMaxOptionsPerCommand) {
        return at(ctx, o->source(), what + ".option: too many options");
    }
    size_t i = 0;
    for (const auto& el : *arr) {
        DIAG_TRY_ASSIGN(OptionSpec spec, read_option(ctx, el, c.style, what + ".option[" + std::to_string(i++) + "]"));
        for (const auto& name : spec.names) {
            for (const auto& other : c.options) {
                if (std::find(other.names.begin(), other.names.end(), name) != other.names.end()) {
                    return at(ctx, el.source(), what + ": option '" + name + "' declared twice");
                }
            }
        }
        c.options.push_back(std::move(spec));
    }
    return ok_status();
}

// [[command.ID.positional]], in the order the operands come.
Status read_positionals(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    const auto* p = t.get("positional");
    if (p == nullptr) {
        return ok_status();
    }
    DIAG_TRY_ASSIGN(const toml::array* arr, as_array_of_tables(ctx, *p, what + ".positional"));
    size_t i = 0;
    for (const auto& el : *arr) {
        DIAG_TRY_ASSIGN(PositionalSpec spec,
                        read_positional(ctx, el, what + ".positional[" + std::to_string(i++) + "]"));
        c.positionals.push_back(std::move(spec));
    }
    return ok_status();
}

// A recursive flag or a tree positional with no operand would make the tool read from its
// cwd, "/", where no tree check ran: the operand must be required.
Status check_tree_operands(const FileCtx& ctx, const toml::table& t, const std::string& what, const Command& c) {
    const bool recursive =
        std::any_of(c.options.begin(), c.options.end(), [](const OptionSpec& o) { return o.recursive; });
    for (const auto& p : c.positionals) {
        if (policy::is_path_type(p.value.type) && (p.tree || recursive) && p.min == 0) {
            return at(ctx, t.source(), what + ": a tree or recursively read path positional needs min >= 1");
        }
    }
    return ok_status();
}

}  // namespace

Result<Command> read_command(const FileCtx& ctx, const std::string& id, const toml::node& n) {
    const std::string what = "command." + id;
    if (!valid_id(id)) {
        return at(ctx, n.source(), what + ": ids are [a-z0-9][a-z0-9_.-]* (at most 64 bytes)");
    }
    DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, n, what));
    DIAG_TRY(check_keys(
        ctx, *t,
        {"match", "program", "description", "family", "fixed", "style", "layout", "end_of_options", "long_values",
         "timeout", "output_cap", "network", "filter", "connect", "prune", "reads", "option", "positional"},
        what));
    Command c;
    c.id = id;
    c.source = ctx.file + ":" + std::to_string(t->source().begin.line);
    DIAG_TRY(read_match(ctx, *t, what, c));
    DIAG_TRY(read_program(ctx, *t, what, c));
    DIAG_TRY(read_description(ctx, *t, what, c));
    DIAG_TRY(read_fixed(ctx, *t, what, c));
    DIAG_TRY(read_grammar(ctx, *t, what, c));
    DIAG_TRY(read_long_values(ctx, *t, what, c));
    DIAG_TRY(read_run_settings(ctx, *t, what, c));
    DIAG_TRY(read_prune(ctx, *t, what, c));
    DIAG_TRY(read_reads(ctx, *t, what, c));
    DIAG_TRY(read_options(ctx, *t, what, c));
    DIAG_TRY(read_positionals(ctx, *t, what, c));
    DIAG_TRY(check_tree_operands(ctx, *t, what, c));
    DIAG_TRY(read_connect(ctx, *t, what, c));
    DIAG_TRY(check_filter(ctx, *t, what, c));
    DIAG_TRY(check_prune(ctx, *t, what, c));
    return c;
}

}  // namespace diag::policy_loader
