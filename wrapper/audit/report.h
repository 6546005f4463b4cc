// SPDX-License-Identifier: Apache-2.0
// diag-audit report: aureport-style counts over the selected requests, the most denied commands,
// keys first seen in the time window, and policy rules that were never used.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wrapper/audit/filter.h"
#include "wrapper/audit/join.h"
#include "wrapper/base/error.h"

namespace diag::audit_cli {
struct Options;  // args.h, which includes this header for kDefaultTop
struct Io;       // cli.h
}  // namespace diag::audit_cli

namespace diag::audit_report {

inline constexpr size_t kDefaultTop = 10;

// (value, count), most frequent first, then by value. An absent value is counted as "".
using Counts = std::vector<std::pair<std::string, size_t>>;

struct NewKey {
    std::string fingerprint;
    std::string principal;
    std::string request_id;
    int64_t first_seen_us = 0;
};

struct Report {
    size_t requests = 0;
    size_t incomplete = 0;
    std::optional<int64_t> first_us;
    std::optional<int64_t> last_us;
    Counts by_decision;
    Counts by_principal;
    Counts by_key;
    Counts by_rule;
    Counts by_reason;
    Counts by_host;
    Counts top_denied;             // denied commands (exact bytes), at most `top`
    std::vector<NewKey> new_keys;  // in order of first appearance
    bool have_policy = false;
    std::vector<std::string> policy_files;
    std::vector<std::string> unused_rules;  // sorted
};

// Builds the report over `selected` (the filtered requests). A key is "first seen in the range"
// when its earliest appearance in `all` (everything read, unfiltered) lies in f's time window and
// it appears in `selected`. `rule_ids` (from the policy, when given) minus every rule that
// appears in `selected` are the unused rules.
[[nodiscard]] Report build(const std::vector<const audit_reader::Request*>& selected,
                           const std::vector<audit_reader::Request>& all, const audit_filter::Filter& f,
                           const std::optional<std::vector<std::string>>& rule_ids, size_t top = kDefaultTop);

// Human-readable report (every value escaped).
[[nodiscard]] std::string render_text(const Report& r);
// One JSON object (ASCII only).
[[nodiscard]] std::string render_json(const Report& r);

// The rule ids of a policy: the names of its [command.ID] tables, and those of the drop-ins in
// its settings.include directories (*.toml, as the wrapper reads them; a missing directory is
// skipped). The files read are appended to `files`. No ownership checks: this only reads names.
// Errors: kPolicyInvalid (unreadable file, TOML syntax error with line:col).
[[nodiscard]] Result<std::vector<std::string>> rule_ids_from_policy(const std::string& path,
                                                                    std::vector<std::string>& files);

// The report command over `all` (every request read): the report of the rows o.filter selects,
// with o.policy's unused rules, in o.format. Returns audit_cli::kExitOk or kExitError.
[[nodiscard]] int run(const audit_cli::Options& o, audit_cli::Io& io, const std::vector<audit_reader::Request>& all);

}  // namespace diag::audit_report
