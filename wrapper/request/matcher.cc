// SPDX-License-Identifier: Apache-2.0
// match(): getopt_long-exact parsing of argv against the rules whose first word it names, and the
// typing of every argument (matcher.h). The value checks are value_check.cc's.
#include "wrapper/request/matcher.h"

#include <algorithm>
#include <optional>

#include "wrapper/base/text_safety.h"
#include "wrapper/request/hints.h"

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
};

struct Parsed {
    std::vector<ParsedOption> options;
    std::vector<std::string> positionals;
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

Result<Parsed> parse_args(const Command& c, const std::vector<std::string>& args) {
    Parsed out;
    bool end_of_options = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (end_of_options || a.size() < 2 || a[0] != '-') {
            out.positionals.push_back(a);
            continue;
        }
        if (a == "--") {
            end_of_options = true;
            continue;
        }
        auto take_next = [&](const std::string& name) -> Result<std::string> {
            if (i + 1 >= args.size()) {
                return deny("option-value", q(name) + " requires a value");
            }
            return args[++i];
        };
        // An optional value is the next word only when that word has the value's shape.
        auto take_optional = [&](const OptionSpec& spec) -> std::optional<std::string> {
            if (i + 1 < args.size() && has_value_shape(spec.value, args[i + 1])) {
                return args[++i];
            }
            return std::nullopt;
        };
        if (c.style == policy::Style::kWords) {
            const OptionSpec* spec = find_option(c, a);
            if (spec == nullptr) {
                return hints::unknown_option(c, a, a);
            }
            ParsedOption po{spec, a, std::nullopt, false};
            if (spec->optional_value) {
                po.value = take_optional(*spec);
            } else if (spec->value.type != ValueType::kFlag) {
                DIAG_TRY_ASSIGN(po.value, take_next(a));
            }
            out.options.push_back(std::move(po));
            continue;
        }
        if (a[1] == '-') {
            const size_t eq = a.find('=');
            const std::string name = a.substr(0, eq);
            const OptionSpec* spec = find_option(c, name);
            if (spec == nullptr) {
                return hints::unknown_option(c, name, a);
            }
            ParsedOption po{spec, name, std::nullopt, true};
            if (spec->value.type == ValueType::kFlag) {
                if (eq != std::string::npos) {
                    return deny("option-value", q(name) + " takes no value");
                }
            } else if (eq != std::string::npos) {
                po.value = a.substr(eq + 1);
            } else if (spec->optional_value) {
                po.value = take_optional(*spec);
            } else {
                DIAG_TRY_ASSIGN(po.value, take_next(name));
            }
            out.options.push_back(std::move(po));
            continue;
        }
        // A cluster of short options: -tlnp, -n5, -tn 5.
        for (size_t j = 1; j < a.size(); ++j) {
            const std::string name = std::string("-") + a[j];
            const OptionSpec* spec = find_option(c, name);
            if (spec == nullptr) {
                return hints::unknown_option(c, name, a);
            }
            ParsedOption po{spec, name, std::nullopt, false};
            if (spec->value.type != ValueType::kFlag) {
                // As getopt: the rest of the word is the value, optional or not (-b-1, -n5).
                if (j + 1 < a.size()) {
                    po.value = a.substr(j + 1);
                } else if (spec->optional_value) {
                    po.value = take_optional(*spec);
                } else {
                    DIAG_TRY_ASSIGN(po.value, take_next(name));
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

// Tries one rule. `words_matched` tells the caller whether the subcommand words matched, so it can
// report the most specific refusal.
Result<Match> try_rule(const Command& c, const std::vector<std::string>& argv, bool& words_matched) {
    const std::vector<std::string> args(argv.begin() + 1, argv.end());
    const size_t nwords = c.match.size() - 1;
    {
        // Before parsing: do the subcommand words look right? Decides which refusal is reported
        // when every candidate fails.
        size_t w = 0;
        for (const auto& a : args) {
            if (w < nwords && !a.empty() && a[0] != '-') {
                if (!policy::word_matches(c.match[w + 1], a)) {
                    break;
                }
                ++w;
            }
        }
        words_matched = w == nwords;
    }
    DIAG_TRY_ASSIGN(Parsed parsed, parse_args(c, args));
    if (parsed.positionals.size() < nwords) {
        return deny("unknown-subcommand", "missing subcommand");
    }
    for (size_t w = 0; w < nwords; ++w) {
        if (!policy::word_matches(c.match[w + 1], parsed.positionals[w])) {
            return deny("unknown-subcommand", q(parsed.positionals[w]) + " is not allowed here");
        }
    }
    std::vector<std::string> words(parsed.positionals.begin(), parsed.positionals.begin() + static_cast<long>(nwords));
    std::vector<std::string> positionals(parsed.positionals.begin() + static_cast<long>(nwords),
                                         parsed.positionals.end());

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
    std::vector<std::string> opt_args;
    std::vector<PathRef> opt_paths;
    for (const auto& po : parsed.options) {
        if (!po.value) {
            opt_args.push_back(po.name);
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
            if (po.long_form) {
                ref.prefix = po.name + "=";
            } else {
                opt_args.push_back(po.name);
            }
            ref.index = opt_args.size();
            opt_args.push_back(ref.prefix + ref.input);
            opt_paths.push_back(std::move(ref));
            continue;
        }
        DIAG_TRY(check_value(spec, *po.value, "value of " + po.name));
        if (po.spec->optional_value) {
            // Attached, so the program never has to guess whether the next word is the value.
            opt_args.push_back(po.name + (po.long_form ? "=" : "") + *po.value);
        } else if (po.long_form) {
            opt_args.push_back(po.name + "=" + *po.value);
        } else {
            opt_args.push_back(po.name);
            opt_args.push_back(*po.value);
        }
    }

    // Positionals: never an option in disguise (git-shell CVE-2017-8386), then typed left to right.
    for (const auto& p : positionals) {
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
    if (positionals.size() < min_total || positionals.size() > max_total) {
        return deny("positional-count",
                    c.id + " takes " +
                        (min_total == max_total ? std::to_string(min_total)
                                                : std::to_string(min_total) + " to " + std::to_string(max_total)) +
                        " argument(s), got " + std::to_string(positionals.size()));
    }
    std::vector<std::string> pos_args;
    std::vector<PathRef> pos_paths;
    size_t next = 0;
    size_t remaining_min = min_total;
    for (const auto& ps : c.positionals) {
        remaining_min -= ps.min;
        const size_t avail = positionals.size() - next - remaining_min;
        const size_t take = std::min(ps.max, avail);
        for (size_t k = 0; k < take; ++k) {
            const std::string& v = positionals[next++];
            if (ps.value.sensitive) {
                m.sensitive_values.push_back(v);
            }
            if (policy::is_path_type(ps.value.type)) {
                PathRef ref;
                ref.input = v;
                const bool meta = ps.value.type == ValueType::kMetaPath;
                if (ps.tree || recursive) {
                    ref.use = meta ? path_resolve::Use::kMetaTree : path_resolve::Use::kTree;
                } else {
                    ref.use = meta ? path_resolve::Use::kMetadata : path_resolve::Use::kContent;
                }
                ref.roots = ps.value.roots;
                ref.index = pos_args.size();
                pos_args.push_back(v);
                pos_paths.push_back(std::move(ref));
            } else {
                DIAG_TRY(check_value(ps.value, v, "argument " + q(v)));
                pos_args.push_back(v);
            }
        }
    }

    // Assemble argv[1..] in the rule's layout, shifting path indexes as blocks are placed.
    auto place = [&m](const std::vector<std::string>& block, const std::vector<PathRef>& refs) {
        const size_t base = m.exec_args.size();
        for (auto ref : refs) {
            ref.index += base;
            m.paths.push_back(std::move(ref));
        }
        m.exec_args.insert(m.exec_args.end(), block.begin(), block.end());
    };
    std::vector<std::string> dashdash;
    if (c.end_of_options && !pos_args.empty()) {
        dashdash.push_back("--");
    }
    switch (c.layout) {
        case policy::Layout::kSubcommandFirst:
            place(words, {});
            place(c.fixed, {});
            place(opt_args, opt_paths);
            place(dashdash, {});
            place(pos_args, pos_paths);
            break;
        case policy::Layout::kOptionsFirst:
            place(c.fixed, {});
            place(opt_args, opt_paths);
            place(words, {});
            place(dashdash, {});
            place(pos_args, pos_paths);
            break;
        case policy::Layout::kPositionalsFirst:
            place(words, {});
            place(c.fixed, {});
            place(pos_args, pos_paths);
            place(opt_args, opt_paths);
            break;
    }
    DIAG_TRY(check_bare_optionals(c, m.exec_args));
    return m;
}

}  // namespace

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
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Command* a, const Command* b) { return a->match.size() > b->match.size(); });
    std::optional<Error> best;
    for (const Command* c : candidates) {
        bool words_matched = false;
        auto m = try_rule(*c, argv, words_matched);
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

}  // namespace diag::matcher
