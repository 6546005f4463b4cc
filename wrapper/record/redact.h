// SPDX-License-Identifier: Apache-2.0
// Sensitive arguments in the audit record (adr/0008): the record keeps the SHA-256 and the length
// of a value the policy marks sensitive, never the value, in argv, in the executed argv, in the
// command line and in the text derived from the request (the refusal's message, the deny entry,
// the resolved paths).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace diag::redact {

// What to hide of a request.
struct Redaction {
    std::vector<std::string> values;  // exact values to hide
    bool all_but_first = false;       // matching failed on a rule with sensitive arguments

    [[nodiscard]] bool empty() const { return values.empty() && !all_but_first; }
};

// True if `r` hides `token`, the argument at `index` of argv: one of its values, or an option
// carrying one attached (--token=V, -tV); with all_but_first, every argument after the first.
[[nodiscard]] bool hides(const Redaction& r, const std::string& token, size_t index);

// `s` as a shell word: bare when it holds only safe characters, else single-quoted; escaped for
// printing (text_safety::printable).
[[nodiscard]] std::string shell_quote(const std::string& s);

// Replaces the command line, diag.argv and process.args of `rec` with redacted versions, and notes
// the SHA-256 and length of each hidden argument in diag.sensitive, when `r` hides anything.
void apply(nlohmann::json& rec, const Redaction& r, const std::vector<std::string>& argv);

// Text derived from the request with every value `r` hides (in `argv`) replaced by "[redacted]",
// longest first so a value containing another goes whole.
[[nodiscard]] std::string in_text(const Redaction& r, const std::vector<std::string>& argv, std::string text);

// What else in a record comes from the request (diag.message, diag.deny_entry, diag.paths,
// diag.withheld, diag.skipped, diag.pipeline: every stage's words, args and paths): hidden
// like argv, when `r` hides anything. With all_but_first, diag.message becomes its reason code and
// " [redacted]": nothing derived from the arguments is kept (the client's own line keeps the hint).
void derived(nlohmann::json& rec, const Redaction& r, const std::vector<std::string>& argv);

// A request that did not tokenize: which of its bytes carry a secret is unknown, so the record's
// command line keeps only its first word, `first`, and diag.sensitive the SHA-256 and the length
// of the whole `raw` request.
void untokenized(nlohmann::json& rec, const std::string& first, const std::string& raw);

}  // namespace diag::redact
