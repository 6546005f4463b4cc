// SPDX-License-Identifier: Apache-2.0
// Records into requests: which kind a record is, the typed view of the fields diag-audit uses,
// and the join of a decision record with its end record (the one with the same
// diag.request_id).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wrapper/audit/reader.h"

namespace diag::audit_reader {

// One request: its records and a typed view of the fields diag-audit uses. A field that is absent
// or of the wrong type is empty / nullopt / false; nothing here is trusted to be well-formed.
struct Request {
    std::string id;               // diag.request_id ("" when the record has none)
    nlohmann::json decision;      // the decision record, or null
    nlohmann::json end;           // the end record, or null
    std::string decision_origin;  // where the decision record was read ("file:line")
    std::string end_origin;       // where the end record was read
    size_t order = 0;             // input order, to keep sorting stable

    std::string timestamp;  // @timestamp of the decision record (else of the end record)
    std::optional<int64_t> time_us;
    std::optional<int64_t> end_time_us;
    std::string verdict;            // diag.decision: allow | deny | error (as written)
    std::string reason;             // diag.reason
    std::string rule;               // diag.rule (decision record, else end record)
    std::string pipeline_rules;     // a pipeline's rules in order, " | " between (diag.pipeline)
    std::string message;            // diag.message (why it was refused)
    std::string principal;          // diag.key.principal
    std::string key_type;           // diag.key.type
    std::string key_fingerprint;    // diag.key.fingerprint
    std::string cert_key_id;        // diag.key.certificate.key_id
    std::string cert_serial;        // diag.key.certificate.serial (number or string)
    std::string ca_fingerprint;     // diag.key.certificate.ca_fingerprint
    std::string key_error;          // diag.key.error: why the key could not be read
    std::string command;            // the request's exact bytes (process.command_line_b64 when present)
    bool command_lossy = false;     // command_line_b64 was present (the request was not valid UTF-8)
    bool command_redacted = false;  // process.command_line_redacted: sensitive arguments hidden
    std::string user;               // user.name
    std::string source_ip;          // source.ip
    std::string source_port;        // source.port (number or string)
    std::string host;               // host.hostname (else host.name)
    std::string host_id;            // host.id
    std::string boot_id;            // host.boot_id (else host.boot.id)
    std::string pid;                // process.pid (the wrapper)
    std::string parent_pid;         // process.parent.pid
    std::string sshd_pid;           // diag.sshd_pid

    // From the end record's diag.result.
    std::optional<int64_t> exit_status;
    std::optional<int64_t> exit_code;
    std::optional<int64_t> signal;
    std::optional<int64_t> duration_ms;
    std::optional<int64_t> stdout_bytes;
    std::optional<int64_t> stderr_bytes;
    bool timed_out = false;
    bool output_capped = false;
    bool client_gone = false;
    std::string end_error;  // diag.result.error: the command could not be started

    [[nodiscard]] bool has_decision() const { return !decision.is_null(); }
    [[nodiscard]] bool has_end() const { return !end.is_null(); }
    // An allowed request without an end record: the wrapper died or is still running. A help
    // listing is allowed and never has an end record.
    [[nodiscard]] bool incomplete() const {
        return has_decision() && !has_end() && verdict == "allow" && reason != "help";
    }
};

// Builds the view from a decision and/or an end record (either may be null).
[[nodiscard]] Request make_request(nlohmann::json decision, nlohmann::json end);

// "decision", "end", or "" for another action. Without event.action, a record with diag.result is
// an end record, one with diag.decision or diag.request_id a decision record, any other not ours.
[[nodiscard]] std::string record_kind(const nlohmann::json& record);

// Joins decision and end records by request id, drops identical duplicates and counts conflicts
// (into stats), and sorts by time (records without a readable time last, in input order).
[[nodiscard]] std::vector<Request> join(std::vector<RawRecord> records, ReadStats& stats);

}  // namespace diag::audit_reader
