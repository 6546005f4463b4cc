// SPDX-License-Identifier: Apache-2.0
// The hints of the unknown-command and unknown-option refusals (see hints.h).
#include "wrapper/request/hints.h"

#include <algorithm>
#include <array>

#include "wrapper/base/parse.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/policy/pin.h"

namespace diag::hints {

namespace {

using policy::Command;
using policy::OptionSpec;
using policy::ValueType;

// Client text in a message: quoted, escaped, cut (the same form as matcher.cc's).
std::string q(const std::string& s) { return "'" + text_safety::printable(s, 80) + "'"; }

const std::string& command_name(const Command& c) { return c.match[0].front(); }

const OptionSpec* option_named(const Command& c, const std::string& name) {
    for (const auto& o : c.options) {
        if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) {
            return &o;
        }
    }
    return nullptr;
}

// "-n/--lines N": every spelling of one option, and its value's placeholder.
std::string describe_option(const OptionSpec& o) {
    std::string out;
    for (const auto& n : o.names) {
        out += (out.empty() ? "" : "/") + n;
    }
    std::string mv = policy::metavar(o.value);
    if (mv.size() > 24) {
        mv = "{...}";  // a long enumeration: `help CMD` lists it
    }
    if (!mv.empty()) {
        out += o.optional_value ? " [" + mv + "]" : " " + mv;
    }
    return out;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// head -20 -> "-n 20", when the rule's -n is an int option that accepts 20.
std::string numeric_form(const Command& c, const std::string& word) {
    const OptionSpec* n = option_named(c, "-n");
    if (word.size() < 2 || word[0] != '-' || !all_digits(std::string_view(word).substr(1)) || n == nullptr ||
        n->value.type != ValueType::kInt) {
        return {};
    }
    const std::string digits = word.substr(1);
    const auto value = util::parse_int(digits);
    if (!value || (n->value.min && *value < *n->value.min) || (n->value.max && *value > *n->value.max)) {
        return {};
    }
    return "; the allowed form is " + command_name(c) + " -n " + text_safety::printable(digits, 24);
}

// tail -f, journalctl --follow: a request must end, so following is never allowed. `-f` and `-F`
// mean following only to the tools that follow (to date, hostname or grep they mean a file).
std::string follow_form(const Command& c, const std::string& name) {
    static constexpr std::array<std::string_view, 2> kFollowers = {"tail", "journalctl"};
    const bool follower = std::find(kFollowers.begin(), kFollowers.end(), command_name(c)) != kFollowers.end();
    if (name != "--follow" && !(follower && (name == "-f" || name == "-F"))) {
        return {};
    }
    std::string out = "; following is not allowed (a request must end)";
    if (const OptionSpec* n = option_named(c, "-n"); n != nullptr && n->value.type == ValueType::kInt) {
        out += ": " + command_name(c) + " -n N prints the last N lines";
    }
    return out;
}

// --lin -> "--lines", when exactly one allowed long option starts with what was typed.
std::string full_spelling(const Command& c, const std::string& name) {
    if (!util::starts_with(name, "--") || name.size() < 3) {
        return {};
    }
    std::string found;
    for (const auto& o : c.options) {
        for (const auto& n : o.names) {
            if (util::starts_with(n, name)) {
                if (!found.empty() && found != n) {
                    return {};
                }
                found = n;
            }
        }
    }
    return found.empty() ? std::string() : "; the full spelling is " + found;
}

}  // namespace

bool pinned_available(const Command& c) { return c.unavailable.empty(); }

bool available_on_host(const Command& c, const std::vector<std::string>& search_path) {
    if (!c.unavailable.empty()) {
        return false;
    }
    if (!c.exe_path.empty()) {
        return true;
    }
    Command probe;
    probe.program = c.program;
    policy_loader::pin(probe, search_path);
    return probe.unavailable.empty();
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::vector<std::string> closest_commands(const policy::Policy& p, const std::string& word,
                                          const Available& available) {
    struct Near {
        size_t distance;
        size_t order;
        std::string name;
    };
    std::vector<Near> near;
    for (const auto& c : p.commands) {
        for (const auto& name : c.match[0]) {
            // The length difference bounds the distance from below: long words cost nothing.
            const size_t gap = name.size() > word.size() ? name.size() - word.size() : word.size() - name.size();
            if (gap > kMaxCommandDistance ||
                std::any_of(near.begin(), near.end(), [&](const Near& n) { return n.name == name; })) {
                continue;
            }
            const size_t d = edit_distance(word, name);
            if (d == 0 || d > kMaxCommandDistance || d >= word.size() || !available(c)) {
                continue;
            }
            near.push_back({d, near.size(), name});
        }
    }
    std::sort(near.begin(), near.end(), [](const Near& a, const Near& b) {
        return a.distance != b.distance ? a.distance < b.distance : a.order < b.order;
    });
    std::vector<std::string> out;
    for (size_t i = 0; i < near.size() && i < kMaxCommandSuggestions && near[i].distance == near[0].distance; ++i) {
        out.push_back(near[i].name);
    }
    return out;
}

Error unknown_command(const policy::Policy& p, const std::string& word, const Available& available) {
    std::string msg = q(word) + " is not an allowed command";
    const auto closest = closest_commands(p, word, available);
    if (!closest.empty()) {
        std::string names;
        for (const auto& n : closest) {
            names += (names.empty() ? "" : ", ") + n;
        }
        msg += "; closest: " + names;
    }
    return deny("unknown-command", msg + " (run 'help' for the list)");
}

Error unknown_option(const Command& c, const std::string& name, const std::string& word) {
    std::string msg = q(name) + " is not an allowed option of " + command_name(c);
    if (std::string hint = numeric_form(c, word); !hint.empty()) {
        return deny("unknown-option", msg + hint);
    }
    if (std::string hint = follow_form(c, name); !hint.empty()) {
        return deny("unknown-option", msg + hint);
    }
    if (util::starts_with(name, "--")) {
        msg += " (options must be spelled in full)";
        if (std::string hint = full_spelling(c, name); !hint.empty()) {
            return deny("unknown-option", msg + hint);
        }
    }
    if (c.options.empty()) {
        return deny("unknown-option", msg + "; " + command_name(c) + " takes no options");
    }
    return deny("unknown-option", msg + "; allowed: " + option_list(c));
}

std::string option_list(const Command& c, size_t max_bytes) {
    std::string out;
    for (size_t i = 0; i < c.options.size(); ++i) {
        const std::string item = describe_option(c.options[i]);
        if (!out.empty() && out.size() + item.size() + 2 > max_bytes) {
            return out + ", and " + std::to_string(c.options.size() - i) + " more (help " + command_name(c) + ")";
        }
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

}  // namespace diag::hints
