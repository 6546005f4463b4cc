// SPDX-License-Identifier: Apache-2.0
// diag-audit input: audit records from JSONL files (plain or gzip, rotations found oldest first),
// split into lines and parsed into JSON objects; nothing is dropped without being counted. The
// journal is the other source (journal.h); join.h makes requests of the records. Read-only;
// never needs root.
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

// Streams `fd` (named `name` in messages) to `on_data`, inflating when the first bytes are the gzip
// magic (1f 8b); concatenated gzip members are read in turn. Errors: kAudit for a read error,
// corrupt or truncated gzip data, or bytes after the last gzip member that are not one.
[[nodiscard]] Status stream_fd(int fd, const std::string& name, const std::function<void(std::string_view)>& on_data);

// Reads one file, plain or gzip (detected by its magic bytes, not its name), into `into`.
// Errors: kAudit (cannot open or read, corrupt gzip), naming the file.
[[nodiscard]] Status read_file(const std::string& path, Collected& into);

// The default inputs: `main` and its rotations in the same directory (main.1, main.N, main.*.gz),
// oldest first. Error kAudit when none of them exists.
[[nodiscard]] Result<std::vector<std::string>> default_files(const std::string& main);

}  // namespace diag::audit_reader
