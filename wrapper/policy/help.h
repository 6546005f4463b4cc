// SPDX-License-Identifier: Apache-2.0
// What may I run? The listing for an empty request or `help`, one command in full for `help CMD`,
// and the typed schema of every rule for agents (`help [CMD] --json`): enough to build a request
// that the matcher accepts without trial and error. Built from the policy only.
#pragma once

#include <string>
#include <vector>

#include "wrapper/policy/model.h"

namespace diag::help {

// The rules `word` names: every rule whose first word it is (`help systemctl` is every systemctl
// rule), else the rule whose id it is (`help systemctl-cat`). Empty when it names none.
[[nodiscard]] std::vector<const policy::Command*> named(const policy::Policy& p, const std::string& word);

// The section of the rules that name no family.
inline constexpr const char* kOtherFamily = "other";

// One line per command: "ID<TAB>USAGE<TAB>DESCRIPTION" (unavailable commands are marked). Where
// rules name a family, the lines are grouped by it: each section starts with a "# FAMILY" line
// (a blank line before all but the first), families in name order, "other" last, policy order
// within a section. Header lines have no tab, so a reader of rule lines can skip them.
[[nodiscard]] std::string text(const policy::Policy& p);

// The rules `word` names, each in full: usage, every option with its value type, enumeration and
// limits, the positionals, timeout, output cap, availability and an example request.
[[nodiscard]] std::string command_text(const policy::Policy& p, const std::string& word);

// A JSON array with one object per rule (those `word` names; every rule when empty). The fields
// are a stable schema, documented in README.md ("For agent authors"): id, usage, description,
// available, timeout_ms, output_cap, words, style, options, positionals, filter, family, example.
[[nodiscard]] std::string json(const policy::Policy& p, const std::string& word = {});

// A request this rule accepts, built from its types ("journalctl -u sshd.service", "cat
// /etc/os-release"). A regex value has no sample and stays its placeholder ("ip route get ARG").
[[nodiscard]] std::string example(const policy::Command& c);

}  // namespace diag::help
