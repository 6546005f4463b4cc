// SPDX-License-Identifier: Apache-2.0
// The records of one request: what the decision record says about the decision (rule, argv,
// paths, limits; allowed or refused and why), writing it or refusing the request, and what the end
// record says about how the command ended. The record itself is written by writer.h.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/confine/supervise.h"
#include "wrapper/policy/model.h"
#include "wrapper/record/redact.h"
#include "wrapper/request/command.h"
#include "wrapper/request/decision.h"

namespace diag::record {

// The words of a request as one list, a "|" between stages: diag.argv, and what redaction indexes
// (its first word is the first stage's command).
[[nodiscard]] std::vector<std::string> request_words(const std::vector<command::Stage>& stages);
[[nodiscard]] std::vector<std::string> request_words(const decision::Decision& d);

// Notes in `rec` the request as tokenized and, unless it is the listing, the rule, the executed
// argv, the resolved paths, the withheld glob matches and the limits: of the first stage where a
// single command has them, and for a pipeline every stage in diag.pipeline (rule, argv,
// executable, args, paths, withheld).
void describe_decision(nlohmann::json& rec, const decision::Decision& d);

// Marks `rec` allowed, for `reason` ("allowed", "help").
void mark_allowed(nlohmann::json& rec, const std::string& reason);

// Marks `rec` refused by `e`: a denial keeps its reason and deny entry, any other error is
// "internal-error".
void mark_denied(nlohmann::json& rec, const Error& e);

// Writes `rec` to every sink of `cfg`. When it cannot, tells the client that request `id` is
// refused and returns false: no record, no run (fail closed).
[[nodiscard]] bool write_or_refuse(const policy::Audit& cfg, const nlohmann::json& rec, const std::string& id);

// Records and reports a refusal: marks `rec` refused by `e`, writes it, and tells the client. What
// `r` hides of `argv` is hidden in the record's message too; the client's own line keeps it (the
// client sent it). Returns false when the record could not be written (the client was told that).
[[nodiscard]] bool refuse(const policy::Audit& cfg, nlohmann::json& rec, const std::string& id, const Error& e,
                          const redact::Redaction& r, const std::vector<std::string>& argv);

// Notes in the end record `end` how the command ended: its status, what it printed, what it cost;
// for a pipeline (diag.pipeline, from the decision record) how each stage ended.
void describe_outcome(nlohmann::json& end, const supervise::Outcome& o);

}  // namespace diag::record
