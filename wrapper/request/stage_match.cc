// SPDX-License-Identifier: Apache-2.0
// match_stage() (matcher.h): one stage of a parsed request against the rules its role allows,
// with the glob words held to where they may stand (stage_words.h). The parsing and typing are
// matcher.cc's, run on the words' texts.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/text_safety.h"
#include "wrapper/request/matcher.h"
#include "wrapper/request/stage_words.h"

namespace diag::matcher {

namespace {

using policy::Command;
using policy::ValueType;

// Types whose values are patterns the program matches itself (grep's regex, find -name, a unit
// pattern): a glob character in them means what the program makes of it, so it passes literally.
bool pattern_typed(ValueType t) { return t == ValueType::kRegex || t == ValueType::kString || t == ValueType::kUnit; }

// The part of `pattern` (command::Word::pattern) that stands for its word's text from byte
// `offset` on: a backslash and the character it escapes are one byte of the text. nullopt when an
// unescaped glob character lies before `offset` (in an option name) or the pattern is shorter.
std::optional<std::string> pattern_from(const std::string& pattern, size_t offset) {
    size_t i = 0;
    for (size_t n = 0; n < offset; ++n) {
        if (i >= pattern.size()) {
            return std::nullopt;
        }
        if (pattern[i] == '\\') {
            ++i;
        } else if (command::kGlobChars.find(pattern[i]) != std::string_view::npos) {
            return std::nullopt;
        }
        ++i;
    }
    if (i > pattern.size()) {
        return std::nullopt;
    }
    return pattern.substr(i);
}

// The pipe-stage denial for a command that may not follow `|`: which commands may.
Error not_a_filter(const policy::Policy& policy, const std::string& word, const hints::Available& available) {
    std::string filters;
    for (const Command& c : policy.commands) {
        const std::string& name = c.match[0].front();
        if (c.filter && available(c) && (", " + filters + ", ").find(", " + name + ", ") == std::string::npos) {
            filters += (filters.empty() ? "" : ", ") + name;
        }
    }
    const std::string shown = "'" + text_safety::printable(word, 80) + "'";
    if (filters.empty()) {
        return deny("pipe-stage", shown + " may not follow '|': this policy allows no command after '|'");
    }
    return deny("pipe-stage", shown + " may not follow '|': only filters read a pipe (" + filters + ")");
}

}  // namespace

namespace detail {

StageWords::StageWords(const command::Stage& stage) : stage_(&stage), typed_(stage.size(), false) {}

void StageWords::reset() { typed_.assign(typed_.size(), false); }

bool StageWords::glob(size_t arg) const { return stage_ != nullptr && arg < stage_->size() && (*stage_)[arg].glob; }

Error StageWords::refuse(size_t arg) const {
    const std::string text = stage_ != nullptr && arg < stage_->size() ? (*stage_)[arg].text : std::string();
    return deny("parse-metachar", "'" + text_safety::printable(text, 80) +
                                      "': '*', '?' and '[' expand only in path arguments (quote them to pass "
                                      "them literally)");
}

Status StageWords::value(size_t arg, size_t offset, const policy::ValueSpec& spec, PathRef* ref) {
    if (!glob(arg)) {
        return ok_status();
    }
    const bool path = ref != nullptr && policy::is_path_type(spec.type);
    if (!path && !pattern_typed(spec.type)) {
        return refuse(arg);
    }
    // The glob characters must lie in the value, not in an option name attached before it.
    auto tail = pattern_from((*stage_)[arg].pattern, offset);
    if (!tail) {
        return refuse(arg);
    }
    if (path) {
        ref->glob = true;
        ref->pattern = std::move(*tail);
    }
    typed_[arg] = true;
    return ok_status();
}

Status StageWords::all_typed() const {
    for (size_t i = 0; i < typed_.size(); ++i) {
        if (glob(i) && !typed_[i]) {
            return refuse(i);
        }
    }
    return ok_status();
}

}  // namespace detail

Result<Match> match_stage(const policy::Policy& policy, const command::Stage& words, const hints::Available& available,
                          Role role) {
    if (words.empty()) {
        return deny("pipe-syntax", "an empty pipeline stage");  // parse() yields none; fail closed
    }
    detail::StageWords typing(words);
    if (typing.glob(0)) {
        return typing.refuse(0);  // the command word is never expanded
    }
    const std::vector<std::string> argv = command::texts(words);
    // A filter reads only its stdin, which for the first stage is /dev/null: filter rules are
    // candidates only after `|`, so `grep error` alone meets the file-reading grep rule's refusal
    // instead of running on nothing.
    std::vector<const Command*> candidates;
    bool filter_named = false;
    for (const auto& c : policy.commands) {
        if (!policy::word_matches(c.match[0], argv[0])) {
            continue;
        }
        filter_named = filter_named || c.filter;
        if (c.filter == (role == Role::kFilter)) {
            candidates.push_back(&c);
        }
    }
    if (candidates.empty() && role == Role::kFirst && filter_named) {
        return deny("pipe-stage", "'" + text_safety::printable(argv[0], 80) +
                                      "' reads only what is piped into it: use it after '|' (COMMAND | " +
                                      text_safety::printable(argv[0], 80) + " ...)");
    }
    if (candidates.empty()) {
        return role == Role::kFilter ? not_a_filter(policy, argv[0], available)
                                     : hints::unknown_command(policy, argv[0], available);
    }
    return detail::match_candidates(std::move(candidates), argv, typing);
}

}  // namespace diag::matcher
