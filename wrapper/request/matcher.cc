// SPDX-License-Identifier: Apache-2.0
// match(): getopt_long-exact parsing of argv against the rules whose first word it names, and the
// typing of every argument (matcher.h). The value checks are value_check.cc's.
#include "wrapper/request/matcher.h"

#include <algorithm>
#include <optional>

#include "wrapper/base/text_safety.h"
#include "wrapper/request/hints.h"
#include "wrapper/request/stage_words.h"
#include "wrapper/request/targets.h"

namespace diag::matcher {

namespace {

using policy::Command;
using policy::OptionSpec;
using policy::ValueSpec;
using policy::ValueType;

std::string q(const std::string& s) { return "'" + text_safety::printable(s, 80) + "'"; }

struct ParsedOption {
    const OptionSpec* spec = nullptr;
    std::string name;  // spelling as declared
    std::optional<std::string> value;
    bool long_form = false;
    size_t word = 0;    // the argv index of the word holding the value
    size_t offset = 0;  // where the value starts in it (after an attached option name)
};

struct Parsed {
    std::vector<ParsedOption> options;
    std::vector<std::string> positionals;
    std::vector<size_t> positional_words;  // the argv index of each positional
};

const OptionSpec* find_option(const Command& c, const std::string& name) {
    for (const auto& o : c.options) {
        if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) {
            return &o;
        }
    }
    return nullptr;
}

// The shape of a value an optional-value option may take from the next word (OptionSpec::
// optional_value): a signed integer, or for a boot a 32-hex boot ID with an optional offset. No
// option spelling has this shape beyond "-N", which is read as the value, as journalctl reads it.
// Limits are checked afterwards: a word of the shape but out of range is refused, not reparsed.
bool has_value_shape(const ValueSpec& spec, const std::string& v) {
    auto signed_digits = [](std::string_view s) {
        if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
            s.remove_prefix(1);
        }
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (signed_digits(v)) {
        return true;
    }
    if (spec.type != ValueType::kBoot || v.size() < 32) {
        return false;
    }
    const bool hex = std::all_of(v.begin(), v.begin() + 32, [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
    return hex && (v.size() == 32 || ((v[32] == '+' || v[32] == '-') && signed_digits(v.substr(33))));
}

// An option name `name` the rule does not list, in word `i`: a glob word is refused as one (its
// glob characters stand in an option), any other gets the hint of the nearest allowed form.
Error unknown_option(const Command& c, const detail::StageWords& typing, size_t i, const std::string& name,
                     const std::string& word) {
    return typing.glob(i) ? typing.refuse(i) : hints::unknown_option(c, name, word);
}

// argv[1..] into options and positionals; every value and positional keeps the index of its word.
Result<Parsed> parse_args(const Command& c, const std::vector<std::string>& argv, const detail::StageWords& typing) {
    Parsed out;
    bool end_of_options = false;
    for (size_t i = 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (end_of_options || a.size() < 2 || a[0] != '-') {
            out.positionals.push_back(a);
            out.positional_words.push_back(i);
            continue;
        }
        if (a == "--") {
            end_of_options = true;
            continue;
        }
        // The value in the next word; `po` notes which.
        auto take_next = [&](ParsedOption& po) -> Status {
            if (i + 1 >= argv.size()) {
                return deny("option-value", q(po.name) + " requires a value");
            }
            po.value = argv[++i];
            po.word = i;
            return ok_status();
        };
        // The value attached in this word from `offset` on.
        auto take_attached = [&](ParsedOption& po, size_t offset) {
            po.value = a.substr(offset);
            po.word = i;
            po.offset = offset;
        };
        // An optional value is the next word only when that word has the value's shape.
        auto take_optional = [&](ParsedOption& po) {
            if (i + 1 < argv.size() && has_value_shape(po.spec->value, argv[i + 1])) {
                po.value = argv[++i];
                po.word = i;
            }
        };
        if (c.style == policy::Style::kWords) {
            const OptionSpec* spec = find_option(c, a);
            if (spec == nullptr) {
                return unknown_option(c, typing, i, a, a);
            }
            ParsedOption po{spec, a, std::nullopt, false};
            if (spec->optional_value) {
                take_optional(po);
            } else if (spec->value.type != ValueType::kFlag) {
                DIAG_TRY(take_next(po));
            }
            out.options.push_back(std::move(po));
            continue;
        }
        if (a[1] == '-') {
            const size_t eq = a.find('=');
            const std::string name = a.substr(0, eq);
            const OptionSpec* spec = find_option(c, name);
            if (spec == nullptr) {
                return unknown_option(c, typing, i, name, a);
            }
            ParsedOption po{spec, name, std::nullopt, true};
            if (spec->value.type == ValueType::kFlag) {
                if (eq != std::string::npos) {
                    return deny("option-value", q(name) + " takes no value");
                }
            } else if (eq != std::string::npos) {
                take_attached(po, eq + 1);
            } else if (spec->optional_value) {
                take_optional(po);
            } else {
                DIAG_TRY(take_next(po));
            }
            out.options.push_back(std::move(po));
            continue;
        }
        // A cluster of short options: -tlnp, -n5, -tn 5.
        for (size_t j = 1; j < a.size(); ++j) {
            const std::string name = std::string("-") + a[j];
            const OptionSpec* spec = find_option(c, name);
            if (spec == nullptr) {
                return unknown_option(c, typing, i, name, a);
            }
            ParsedOption po{spec, name, std::nullopt, false};
            if (spec->value.type != ValueType::kFlag) {
                // As getopt: the rest of the word is the value, optional or not (-b-1, -n5).
                if (j + 1 < a.size()) {
                    take_attached(po, j + 1);
                } else if (spec->optional_value) {
                    take_optional(po);
                } else {
                    DIAG_TRY(take_next(po));
                }
                out.options.push_back(std::move(po));
                break;
            }
            out.options.push_back(std::move(po));
        }
    }
    return out;
}

// An optional-value option given without its value must not be followed, in what the program
// gets, by a word it might take as the value: the program decides by its own rules (journalctl
// reads " 1", "0x1" and "all" as boots), so no word that does not start with '-' may follow, nor
// one of the value's shape (-1).
Status check_bare_optionals(const Command& c, const std::vector<std::string>& exec_args) {
    for (size_t k = 0; k + 1 < exec_args.size(); ++k) {
        const OptionSpec* spec = find_option(c, exec_args[k]);
        const std::string& next = exec_args[k + 1];
        if (spec != nullptr && spec->optional_value &&
            (next.empty() || next[0] != '-' || has_value_shape(spec->value, next))) {
            return deny("option-value", q(exec_args[k + 1]) + " would be read as the value of " + q(exec_args[k]));
        }
    }
    return ok_status();
}

// Before parsing: do the subcommand words look right? Decides which refusal is reported when
// every candidate fails. A glob word where a subcommand word stands counts as looking right, so
// that its own refusal (parse-metachar) is the one reported.
bool subcommand_words_look_right(const Command& c, const std::vector<std::string>& argv,
                                 const detail::StageWords& typing) {
    const size_t nwords = c.match.size() - 1;
    size_t w = 0;
    for (size_t i = 1; i < argv.size() && w < nwords; ++i) {
        const std::string& a = argv[i];
        if (!a.empty() && a[0] != '-') {
            if (typing.glob(i)) {
                return true;
            }
            if (!policy::word_matches(c.match[w + 1], a)) {
                break;
            }
            ++w;
        }
    }
    return w == nwords;
}

Status check_subcommand_words(const Command& c, const Parsed& parsed, const detail::StageWords& typing) {
    const size_t nwords = c.match.size() - 1;
    if (parsed.positionals.size() < nwords) {
        return deny("unknown-subcommand", "missing subcommand");
    }
    for (size_t w = 0; w < nwords; ++w) {
        if (typing.glob(parsed.positional_words[w])) {
            return typing.refuse(parsed.positional_words[w]);
        }
        if (!policy::word_matches(c.match[w + 1], parsed.positionals[w])) {
            return deny("unknown-subcommand", q(parsed.positionals[w]) + " is not allowed here");
        }
    }
    return ok_status();
}

// Words for the program and the path arguments among them (indexes into `args`).
struct Block {
    std::vector<std::string> args;
    std::vector<PathRef> paths;
    std::vector<OptionAt> options;
};

// The options as the program gets them: values checked, path values left for resolution.
Result<Block> type_options(const Command& c, const Parsed& parsed, detail::StageWords& typing, Match& m) {
    const bool separate = c.separate_long_values;
    Block out;
    for (const auto& po : parsed.options) {
        out.options.push_back({out.args.size(), po.spec, po.name, po.value});
        if (!po.value) {
            out.args.push_back(po.name);
            continue;
        }
        const ValueSpec& spec = po.spec->value;
        if (spec.sensitive) {
            m.sensitive_values.push_back(*po.value);
        }
        if (policy::is_path_type(spec.type)) {
            PathRef ref;
            ref.input = *po.value;
            ref.use = spec.type == ValueType::kMetaPath ? path_resolve::Use::kMetadata : path_resolve::Use::kContent;
            ref.roots = spec.roots;
            ref.resolved_pattern = spec.pattern;
            ref.option_value = true;
            ref.sensitive = spec.sensitive;
            DIAG_TRY(typing.value(po.word, po.offset, spec, &ref));
            if (po.long_form && !separate) {
                ref.prefix = po.name + "=";
            } else {
                out.args.push_back(po.name);
            }
            ref.index = out.args.size();
            out.args.push_back(ref.prefix + ref.input);
            out.paths.push_back(std::move(ref));
            continue;
        }
        DIAG_TRY(typing.value(po.word, po.offset, spec, nullptr));
        DIAG_TRY(check_value(spec, *po.value, "value of " + po.name));
        targets::note(spec, *po.value, m.targets);
        if (po.spec->optional_value) {
            // Attached, so the program never has to guess whether the next word is the value.
            out.args.push_back(po.name + (po.long_form ? "=" : "") + *po.value);
        } else if (po.long_form && !separate) {
            out.args.push_back(po.name + "=" + *po.value);
        } else {
            out.args.push_back(po.name);
            out.args.push_back(*po.value);
        }
    }
    return out;
}

// The positionals after the subcommand words: never an option in disguise (git-shell
// CVE-2017-8386), counted against the rule, then typed left to right.
Result<Block> type_positionals(const Command& c, const Parsed& parsed, bool recursive, detail::StageWords& typing,
                               Match& m) {
    const size_t first = c.match.size() - 1;
    const size_t given = parsed.positionals.size() - first;
    for (size_t k = first; k < parsed.positionals.size(); ++k) {
        const std::string& p = parsed.positionals[k];
        if (!p.empty() && p[0] == '-') {
            return deny("dash-positional", q(p) + ": arguments may not start with '-' (write ./" + p + " for a file)");
        }
    }
    size_t min_total = 0;
    size_t max_total = 0;
    for (const auto& ps : c.positionals) {
        min_total += ps.min;
        max_total += ps.max;
    }
    if (given < min_total || given > max_total) {
        return deny("positional-count",
                    c.id + " takes " +
                        (min_total == max_total ? std::to_string(min_total)
                                                : std::to_string(min_total) + " to " + std::to_string(max_total)) +
                        " argument(s), got " + std::to_string(given));
    }
    Block out;
    size_t next = first;
    size_t remaining_min = min_total;
    for (const auto& ps : c.positionals) {
        remaining_min -= ps.min;
        const size_t avail = parsed.positionals.size() - next - remaining_min;
        const size_t take = std::min(ps.max, avail);
        for (size_t k = 0; k < take; ++k) {
            const size_t word = parsed.positional_words[next];
            const std::string& v = parsed.positionals[next++];
            if (ps.value.sensitive) {
                m.sensitive_values.push_back(v);
            }
            if (!policy::is_path_type(ps.value.type)) {
                DIAG_TRY(typing.value(word, 0, ps.value, nullptr));
                DIAG_TRY(check_value(ps.value, v, "argument " + q(v)));
                targets::note(ps.value, v, m.targets);
                out.args.push_back(v);
                continue;
            }
            PathRef ref;
            ref.input = v;
            const bool meta = ps.value.type == ValueType::kMetaPath;
            if (ps.tree || recursive) {
                ref.use = meta ? path_resolve::Use::kMetaTree : path_resolve::Use::kTree;
            } else {
                ref.use = meta ? path_resolve::Use::kMetadata : path_resolve::Use::kContent;
            }
            ref.roots = ps.value.roots;
            ref.resolved_pattern = ps.value.pattern;
            ref.sensitive = ps.value.sensitive;
            ref.prune = c.prune != policy::Prune::kNone &&
                        (ref.use == path_resolve::Use::kTree || ref.use == path_resolve::Use::kMetaTree);
            // A glob may grow into as many words as this positional still takes: so many, and
            // no more, are read as this positional's by the program too.
            ref.max_matches = ps.max - take + 1;
            ref.operand = &ps;
            DIAG_TRY(typing.value(word, 0, ps.value, &ref));
            ref.index = out.args.size();
            out.args.push_back(v);
            out.paths.push_back(std::move(ref));
        }
    }
    return out;
}

// argv[1..] in the rule's layout, shifting path indexes as blocks are placed.
void assemble(const Command& c, const std::vector<std::string>& words, const Block& opts, const Block& pos, Match& m) {
    auto place = [&m](const std::vector<std::string>& block, const std::vector<PathRef>& refs,
                      const std::vector<OptionAt>& options = {}) {
        const size_t base = m.exec_args.size();
        for (auto ref : refs) {
            ref.index += base;
            m.paths.push_back(std::move(ref));
        }
        for (auto o : options) {
            o.index += base;
            m.options.push_back(std::move(o));
        }
        m.exec_args.insert(m.exec_args.end(), block.begin(), block.end());
    };
    std::vector<std::string> dashdash;
    if (c.end_of_options && !pos.args.empty()) {
        dashdash.push_back("--");
    }
    switch (c.layout) {
        case policy::Layout::kSubcommandFirst:
            place(words, {});
            place(c.fixed, {});
            place(opts.args, opts.paths, opts.options);
            place(dashdash, {});
            place(pos.args, pos.paths);
            break;
        case policy::Layout::kOptionsFirst:
            place(c.fixed, {});
            place(opts.args, opts.paths, opts.options);
            place(words, {});
            place(dashdash, {});
            place(pos.args, pos.paths);
            break;
        case policy::Layout::kPositionalsFirst:
            place(words, {});
            place(c.fixed, {});
            place(pos.args, pos.paths);
            place(opts.args, opts.paths, opts.options);
            break;
    }
}

// Tries one rule. `words_matched` tells the caller whether the subcommand words matched, so it can
// report the most specific refusal.
Result<Match> try_rule(const Command& c, const std::vector<std::string>& argv, detail::StageWords& typing,
                       bool& words_matched) {
    typing.reset();
    words_matched = subcommand_words_look_right(c, argv, typing);
    DIAG_TRY_ASSIGN(const Parsed parsed, parse_args(c, argv, typing));
    DIAG_TRY(check_subcommand_words(c, parsed, typing));
    const auto nwords = static_cast<long>(c.match.size() - 1);
    const std::vector<std::string> words(parsed.positionals.begin(), parsed.positionals.begin() + nwords);

    bool recursive = false;
    for (const auto& o : c.options) {
        if (o.required && std::none_of(parsed.options.begin(), parsed.options.end(),
                                       [&o](const ParsedOption& p) { return p.spec == &o; })) {
            return deny("option-value", "option " + q(o.names.front()) + " is required by rule " + c.id);
        }
    }
    for (const auto& po : parsed.options) {
        recursive = recursive || po.spec->recursive;
    }

    Match m;
    m.command = &c;
    DIAG_TRY_ASSIGN(const Block opts, type_options(c, parsed, typing, m));
    DIAG_TRY_ASSIGN(const Block pos, type_positionals(c, parsed, recursive, typing, m));
    DIAG_TRY(typing.all_typed());
    assemble(c, words, opts, pos, m);
    DIAG_TRY(check_bare_optionals(c, m.exec_args));
    DIAG_TRY_ASSIGN(m.targets, targets::check(c, std::move(m.targets)));
    return m;
}

}  // namespace

Result<Match> detail::match_candidates(std::vector<const Command*> candidates, const std::vector<std::string>& argv,
                                       StageWords& words) {
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Command* a, const Command* b) { return a->match.size() > b->match.size(); });
    std::optional<Error> best;
    for (const Command* c : candidates) {
        bool words_matched = false;
        auto m = try_rule(*c, argv, words, words_matched);
        if (m.ok()) {
            return m;
        }
        if (words_matched && !best) {
            best = std::move(m).error();
            best->msg += " (rule " + c->id + ")";
        }
    }
    if (best) {
        return *best;
    }
    std::string subs;
    for (const Command* c : candidates) {
        std::string w;
        for (size_t i = 1; i < c->match.size(); ++i) {
            w += (w.empty() ? "" : " ") + c->match[i].front();
        }
        if (!w.empty() && subs.find(w) == std::string::npos) {
            subs += (subs.empty() ? "" : ", ") + w;
        }
    }
    return deny("unknown-subcommand", "this form of " + q(argv[0]) + " is not allowed" +
                                          (subs.empty() ? std::string() : " (allowed: " + subs + ")"));
}

Result<Match> match(const policy::Policy& policy, const std::vector<std::string>& argv,
                    const hints::Available& available) {
    std::vector<const Command*> candidates;
    for (const auto& c : policy.commands) {
        if (policy::word_matches(c.match[0], argv[0])) {
            candidates.push_back(&c);
        }
    }
    if (candidates.empty()) {
        return hints::unknown_command(policy, argv[0], available);
    }
    detail::StageWords plain;
    return detail::match_candidates(std::move(candidates), argv, plain);
}

}  // namespace diag::matcher
