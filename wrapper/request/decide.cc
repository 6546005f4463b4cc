// SPDX-License-Identifier: Apache-2.0
// Stages 1-3 of a request: see decide.h.
#include "wrapper/request/decide.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "wrapper/base/text_safety.h"
#include "wrapper/confine/exec.h"
#include "wrapper/policy/help.h"
#include "wrapper/request/command.h"
#include "wrapper/request/glob.h"
#include "wrapper/request/link_check.h"
#include "wrapper/request/matcher.h"
#include "wrapper/request/path_resolve.h"
#include "wrapper/request/tree_prune.h"

namespace diag::decide {

namespace {

// `help [COMMAND] [--json]`, in either order. A COMMAND that names no rule is refused as the
// matcher refuses an unknown command, with the closest allowed commands.
Status read_help_request(const policy::Policy& policy, const hints::Available& available, decision::Decision& d) {
    const std::vector<std::string>& argv = d.stages[0].argv;
    for (size_t i = 1; i < argv.size(); ++i) {
        if (argv[i] == "--json" && !d.help_json) {
            d.help_json = true;
        } else if (d.help_command.empty() && !argv[i].empty() && argv[i][0] != '-') {
            d.help_command = argv[i];
        } else {
            return deny("unknown-option", "usage: help [COMMAND] [--json]");
        }
    }
    if (!d.help_command.empty() && help::named(policy, d.help_command).empty()) {
        return hints::unknown_command(policy, d.help_command, available);
    }
    d.help = true;
    return ok_status();
}

// A tree refused for the deny entries below it, by a rule that cannot skip them: the message names
// the rules that can (adr/0016), so the client knows which form works.
Error with_prune_hint(const policy::Policy& policy, const policy::Command& c, Error e) {
    if (e.reason != "path-tree-denied" || c.prune != policy::Prune::kNone) {
        return e;
    }
    std::vector<std::string> names;
    for (const auto& other : policy.commands) {
        const std::string& name = other.match[0].front();
        if (other.prune != policy::Prune::kNone && other.unavailable.empty() &&
            std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(name);
        }
    }
    std::string rules;
    for (const auto& n : names) {
        rules += (rules.empty() ? "" : ", ") + n;
    }
    if (!rules.empty()) {
        e.msg += "; " + c.id + " cannot skip denied paths, these can: " + rules;
    }
    return e;
}

// A path argument's pattern holds for the path the program is handed, whatever the spelling or
// symlinks that led there (nix why-depends: no .drv, which older Nix builds).
Status check_resolved_pattern(const matcher::PathRef& ref, const std::string& canonical) {
    if (ref.resolved_pattern.empty()) {
        return ok_status();
    }
    policy::ValueSpec spec;
    spec.type = policy::ValueType::kRegex;
    spec.pattern = ref.resolved_pattern;
    return matcher::check_value(
        spec, canonical,
        "'" + text_safety::printable(ref.input, 80) + "' (resolved: " + text_safety::printable(canonical, 200) + ")");
}

// 3. Resolves every path argument of `s`; the denylist always wins. A file whose path another
//    user could swap is handed over as the object checked, held open: /proc/self/fd/N.
Status resolve_paths(const policy::Policy& policy, decision::Stage& s) {
    for (const auto& ref : s.match.paths) {
        auto resolved = path_resolve::resolve(policy.deny, ref.input, ref.use, ref.roots, ref.prune);
        if (!resolved.ok()) {
            return with_prune_hint(policy, *s.match.command, std::move(resolved).error());
        }
        path_resolve::Resolved r = std::move(*resolved);
        DIAG_TRY(check_resolved_pattern(ref, r.canonical));
        std::string given = r.canonical;
        if (r.fd.valid()) {
            if (s.bound.size() >= static_cast<size_t>(exec::kMaxBoundFds)) {
                return deny("path-replaceable", "more than " + std::to_string(exec::kMaxBoundFds) +
                                                    " files whose paths other users could swap");
            }
            given = "/proc/self/fd/" + std::to_string(exec::bound_fd(static_cast<int>(s.bound.size())));
            s.bound.push_back(r.fd.get());
        }
        s.match.exec_args[ref.index] = ref.prefix + given;
        r.given = given;
        s.resolved.push_back(std::move(r));
    }
    return ok_status();
}

// A glob's match becomes an operand the matcher never saw: one that starts with `-` would be read
// as an option by the program (the wildcard injection of docs/bypass-catalogue.md A.12). A typed
// operand like that is refused by the matcher already; this holds for expanded ones too.
Status no_dash_operands(const matcher::Match& m) {
    for (const auto& ref : m.paths) {
        if (!ref.option_value && ref.prefix.empty() && !ref.input.empty() && ref.input[0] == '-') {
            return deny("dash-positional", "a glob matched '" + text_safety::printable(ref.input, 80) +
                                               "', which the program would read as an option");
        }
    }
    return ok_status();
}

// 2-3 for one stage: match (the first stage any rule, later ones only filters), expand its glob
// words, resolve its paths.
Result<decision::Stage> decide_stage(const policy::Policy& policy, const command::Stage& words, matcher::Role role,
                                     const hints::Available& available, glob::Budget& globs) {
    decision::Stage s;
    s.argv = command::texts(words);
    // 2. Match the allowlist: one rule, every argument typed.
    DIAG_TRY_ASSIGN(s.match, matcher::match_stage(policy, words, available, role));
    // 2b. Expand glob words typed as paths: every match is checked like a typed path (adr/0014).
    DIAG_TRY_ASSIGN(s.withheld, glob::expand(policy.deny, s.match, globs));
    DIAG_TRY(no_dash_operands(s.match));
    DIAG_TRY(resolve_paths(policy, s));
    return s;
}

}  // namespace

Result<decision::Decision> decide(const policy::Policy& policy, const std::string& request,
                                  const hints::Available& available) {
    decision::Decision d;
    // 1. Tokenize ourselves: never a shell (docs/bypass-catalogue.md, section A).
    DIAG_TRY_ASSIGN(const std::vector<command::Stage> stages, command::parse(request));
    // The listing: an empty request (ssh -t, plain login) or `help`; never an interactive shell.
    if (stages.empty() || stages[0][0].text == "help") {
        d.stages.emplace_back();
        if (!stages.empty()) {
            if (stages.size() > 1) {
                return deny("pipe-stage", "help cannot be part of a pipeline");
            }
            d.stages[0].argv = command::texts(stages[0]);
        }
        DIAG_TRY(read_help_request(policy, available, d));
        return d;
    }
    glob::Budget globs;
    for (size_t i = 0; i < stages.size(); ++i) {
        const matcher::Role role = i == 0 ? matcher::Role::kFirst : matcher::Role::kFilter;
        DIAG_TRY_ASSIGN(decision::Stage s, decide_stage(policy, stages[i], role, available, globs));
        d.stages.push_back(std::move(s));
    }
    // 3b. Only then the hard-link scans, which read directory trees: a request that a cheap
    // check refuses costs no scan, and all its arguments share one scan budget.
    path_resolve::ScanBudget budget;
    for (const auto& s : d.stages) {
        for (size_t i = 0; i < s.resolved.size(); ++i) {
            DIAG_TRY(path_resolve::check_links(policy.deny, s.resolved[i], s.match.paths[i].use, budget));
        }
    }
    // 3c. Trees with denied paths below them: the program is made to skip those (adr/0016).
    for (auto& s : d.stages) {
        DIAG_TRY(tree_prune::apply(policy.deny, s));
    }
    return d;
}

}  // namespace diag::decide
