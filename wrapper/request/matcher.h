// SPDX-License-Identifier: Apache-2.0
// Stage 2: argv -> the one rule that accepts it, with every argument typed. Pure: no I/O. Option
// parsing follows getopt_long (clusters, -n5, --opt=value, --, permutation) but accepts only the
// exact spellings the rule lists: no abbreviations. Paths are left for path_resolve.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/destination.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/command.h"
#include "wrapper/request/hints.h"
#include "wrapper/request/path_resolve.h"

namespace diag::matcher {

// A path-typed argument waiting for resolution; exec_args[index] = prefix + canonical path.
struct PathRef {
    size_t index = 0;
    std::string prefix;  // "--file=" for attached long-option values, else empty
    std::string input;
    path_resolve::Use use = path_resolve::Use::kContent;
    std::vector<std::string> roots;
    // The value spec's pattern (empty: none): the resolved path must match it (decide.cc).
    std::string resolved_pattern;
    // `input` carries unquoted glob characters (command::Word::glob): glob.h expands `pattern`
    // (the fnmatch pattern of `input`, without `prefix`) before anything is resolved.
    bool glob = false;
    std::string pattern;
    // The value of an option (else a positional operand): a glob must match exactly one path,
    // since a second word would be read as an operand.
    bool option_value = false;
    // The argument is marked sensitive: every form the record shows it in is hidden, also each
    // match of a glob (whose text the client never typed).
    bool sensitive = false;
    // A tree operand of a command that prunes denied subtrees (Command::prune): resolve() lets a
    // tree with deny entries below it through, tree_prune.h makes the program skip them.
    bool prune = false;
    // A positional operand: its spec, whose `max` bounds the words all its operands expand to.
    const policy::PositionalSpec* operand = nullptr;
    // How many words a glob may expand to: 1 for an option's value; for a positional, as many as
    // its positional spec still takes, so the program reads every match as that operand.
    size_t max_matches = 1;
};

// An option as the program gets it: exec_args[index] holds its name, or name=value for a long
// option with its value (the value of a short one, or of a words-style one, is the next word).
struct OptionAt {
    size_t index = 0;
    const policy::OptionSpec* spec = nullptr;
    std::string name;  // the spelling used, as declared
    std::optional<std::string> value;
};

struct Match {
    const policy::Command* command = nullptr;
    std::vector<std::string> exec_args;  // argv[1..] for the pinned binary (argv[0] added at exec)
    std::vector<PathRef> paths;
    std::vector<OptionAt> options;              // in exec_args order
    std::vector<std::string> sensitive_values;  // values of sensitive options/positionals, for redaction
    // The network destinations the request names, admitted by the rule's connect list (targets.h).
    std::vector<destination::Target> targets;
};

// Chooses the rule for `argv` (non-empty). Candidates are the rules whose first match word equals
// argv[0]; longer match lists are tried first, then policy order; the first that accepts wins.
// Errors are denials: unknown-command, unknown-subcommand, unknown-option, option-value,
// bad-value, positional-count, dash-positional, command-unavailable. Unknown-command and
// unknown-option messages name the nearest allowed form (hints.h); `available` decides which
// commands may be suggested (the default: those pinning has not marked unavailable).
[[nodiscard]] Result<Match> match(const policy::Policy& policy, const std::vector<std::string>& argv,
                                  const hints::Available& available = hints::pinned_available);

// Which rules a pipeline stage may match: the first stage any rule but filters, a later one only
// rules marked `filter = true` (refused otherwise with pipe-stage). A filter reads only its stdin,
// the first stage's is /dev/null: a first word that names only filters is pipe-stage too.
enum class Role { kFirst, kFilter };

// As above, for one stage of a parsed request. A glob word (command::Word::glob) is accepted where
// the rule types it as path or meta-path (PathRef::glob, expanded later by glob.h), passes
// literally where it is typed as a pattern (regex, string, unit: the value check decides), and is
// refused with parse-metachar anywhere else (the command word, subcommands, options, other types).
// Errors: those of match(); parse-metachar for a misplaced glob word; pipe-stage for a command
// that may not follow `|` (the message names the filters that may) or a filter as the first
// command; without glob words and filter rules the result is match()'s on the words' texts.
[[nodiscard]] Result<Match> match_stage(const policy::Policy& policy, const command::Stage& words,
                                        const hints::Available& available = hints::pinned_available,
                                        Role role = Role::kFirst);

// Validates one non-path value against its spec (exposed for tests).
[[nodiscard]] Status check_value(const policy::ValueSpec& spec, const std::string& value, const std::string& what);

}  // namespace diag::matcher
