// SPDX-License-Identifier: Apache-2.0
// Refusals that say what would work: the unknown-command and unknown-option denials, each naming
// the nearest allowed form (head -20 -> head -n 20; tail -f -> tail -n N; an unknown option -> the
// rule's options; an unknown command -> the closest allowed commands). Built from the policy only:
// no file is read or listed for a hint (the one host fact used is whether a rule's executable can
// be pinned, as `help` shows it). Every piece of the request that is echoed goes through
// text_safety::printable. Reason codes are those of matcher.h; only the message gains the hint.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"

namespace diag::hints {

// Commands further than this (Levenshtein distance) from the word asked for are never suggested,
// nor any at a distance of the word's length or more ("x" would be near every two-letter command).
inline constexpr size_t kMaxCommandDistance = 3;
inline constexpr size_t kMaxCommandSuggestions = 3;
// The option list of an unknown-option refusal stops at about this many bytes ("..., and N more").
inline constexpr size_t kMaxOptionListBytes = 240;

// Whether a rule may be suggested: true if this host can run it.
using Available = std::function<bool(const policy::Command&)>;

// True unless pinning has marked the command unavailable (pure: for policies pinned already).
[[nodiscard]] bool pinned_available(const policy::Command& c);

// True if this host can run `c`: pinned already, or pinned now on a copy (the policy is not
// changed). Looks up only the rule's own program in `search_path`, as pin() does.
[[nodiscard]] bool available_on_host(const policy::Command& c, const std::vector<std::string>& search_path);

// Levenshtein distance of a and b (insertions, deletions, substitutions; bytes).
[[nodiscard]] size_t edit_distance(std::string_view a, std::string_view b);

// The allowed command names closest to `word`: those at the smallest distance found (in policy
// order), at most kMaxCommandSuggestions, each available.
[[nodiscard]] std::vector<std::string> closest_commands(const policy::Policy& p, const std::string& word,
                                                        const Available& available);

// The unknown-command denial for `word`: "'hed' is not an allowed command; closest: head (run
// 'help' for the list)".
[[nodiscard]] Error unknown_command(const policy::Policy& p, const std::string& word, const Available& available);

// The unknown-option denial for option `name` (as the parser split it) of request word `word`:
// a -NUM word where the rule has an int option -n names "-n NUM"; -f/-F/--follow says following
// is not allowed and names -n N; an abbreviated long option names its full spelling; otherwise
// the rule's options are listed.
[[nodiscard]] Error unknown_option(const policy::Command& c, const std::string& name, const std::string& word);

// The rule's options on one line, "-n/--lines N, -q/--quiet, ...", cut after about `max_bytes`
// with ", and N more (help CMD)".
[[nodiscard]] std::string option_list(const policy::Command& c, size_t max_bytes = kMaxOptionListBytes);

}  // namespace diag::hints
