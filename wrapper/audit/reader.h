// SPDX-License-Identifier: Apache-2.0
// diag-audit input: audit records from JSONL files (plain or gzip) or from journald, parsed
// leniently (every field optional, wrong types read as absent) and joined into requests: the
// decision record and, for allowed requests, the end record with the same diag.request_id.
// Read-only; never needs root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::audit_reader {

inline constexpr const char* kDefaultAuditFile = "/var/log/diag-wrapper/audit.jsonl";
// A longer line is not a record the wrapper wrote (it caps its records); it is skipped.
inline constexpr size_t kMaxLineBytes = 1024 * 1024;
// Where the first skipped lines were, for the warning.
inline constexpr size_t kMaxSkippedNoted = 3;

// What reading saw, so nothing is dropped silently.
struct ReadStats {
    size_t records = 0;                   // JSON objects accepted
    size_t skipped = 0;                   // lines that are not JSON objects (garbage, truncated, overlong)
    size_t duplicates = 0;                // records seen twice with identical content (overlapping inputs)
    size_t conflicts = 0;                 // a second, different decision or end record for one request id
    size_t unknown = 0;                   // objects whose event.action is neither "decision" nor "end"
    std::vector<std::string> skipped_at;  // "file:line" of the first kMaxSkippedNoted skipped lines
    // Journal entries from diag-wrapper that could not be read (each "journal:N ... __CURSOR=...:
    // why"): all of them, since each may be any request; the trail is incomplete (exit 3).
    std::vector<std::string> unreadable;
    size_t untrusted = 0;                   // entries not sent by diag-wrapper as the diag account
    size_t exe_unknown = 0;                 // records of the diag account whose _EXE journald did not record
    std::vector<std::string> untrusted_at;  // the first kMaxUntrustedNoted of them, with cursor and _UID
};
// Untrusted entries are listed one by one up to this many (anyone can send them, so they are capped).
inline constexpr size_t kMaxUntrustedNoted = 20;

// One accepted record and where it came from ("path:line" or "journal:N").
struct RawRecord {
    nlohmann::json json;
    std::string origin;
};

// Accumulates records from any number of sources.
struct Collected {
    std::vector<RawRecord> records;
    ReadStats stats;

    // Parses one line (without its newline). A JSON object is kept; an empty line is ignored;
    // anything else is counted as skipped.
    void add_line(std::string_view line, const std::string& origin);
};

// Splits a byte stream into lines; the unterminated tail is kept until more data or finish().
class LineSplitter {
  public:
    // Calls `on_line` for each complete line in `data` (after what was kept from earlier calls).
    void feed(std::string_view data, const std::function<void(std::string_view)>& on_line);
    // The unterminated last line, if any (a truncated record or a record without its newline).
    [[nodiscard]] std::optional<std::string> finish();
    void reset() { partial_.clear(); }

  private:
    std::string partial_;
};

// Reads one file, plain or gzip (detected by its magic bytes, not its name), into `into`.
// Errors: kAudit (cannot open or read, corrupt gzip), naming the file.
[[nodiscard]] Status read_file(const std::string& path, Collected& into);

// The default inputs: `main` and its rotations in the same directory (main.1, main.N, main.*.gz),
// oldest first. Error kAudit when none of them exists.
[[nodiscard]] Result<std::vector<std::string>> default_files(const std::string& main);

// Parses an RFC 3339 / ISO 8601 UTC time: "2026-11-23T14:10:29.512345Z", "...+02:00", also with
// a space for the T, without seconds' fraction, or without a zone (then UTC). Returns microseconds
// since the Unix epoch.
[[nodiscard]] std::optional<int64_t> parse_timestamp(std::string_view s);

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

// Lenient field access: the value at `path` if every step exists and has the right type.
[[nodiscard]] const nlohmann::json* find(const nlohmann::json& j, std::initializer_list<const char*> path);
[[nodiscard]] std::string get_string(const nlohmann::json& j, std::initializer_list<const char*> path);
// A string, or an integer written as decimal (ports and serials appear as either).
[[nodiscard]] std::string get_scalar(const nlohmann::json& j, std::initializer_list<const char*> path);
[[nodiscard]] std::optional<int64_t> get_int(const nlohmann::json& j, std::initializer_list<const char*> path);
[[nodiscard]] bool get_bool(const nlohmann::json& j, std::initializer_list<const char*> path);

}  // namespace diag::audit_reader
