// SPDX-License-Identifier: Apache-2.0
// diag-audit's journald source: journalctl as a child process with a fixed argv, each JSON output
// line a journal entry whose MESSAGE is an audit record. Kept apart from the file reader
// (audit_reader.cc): it is the part that depends on journalctl's output format and on journald's
// trusted fields (docs/journald.md).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit_reader.h"
#include "wrapper/error.h"

namespace diag::audit_reader {

// One journal entry of diag-wrapper.
struct JournalEntry {
    std::string message;  // MESSAGE: the audit record (its bytes when journald kept an array)
    std::string origin;   // "journal:N _EXE=... _UID=... _PID=..." (journald's trusted fields)
    std::string exe;      // _EXE, set by journald from the sender's credentials
    // Any local process can send SYSLOG_IDENTIFIER=diag-wrapper; only an entry whose _EXE is a
    // diag-wrapper binary is a record (ADR 0008). Others are skipped and counted, never read.
    bool trusted = false;
};

// True if `exe` (an _EXE value) names a diag-wrapper binary: its last component is
// "diag-wrapper" (" (deleted)" after an upgrade allowed).
[[nodiscard]] bool trusted_journal_exe(std::string_view exe);

// journalctl as a child process with a fixed argv (execvp, no shell):
//   journalctl -o json SYSLOG_IDENTIFIER=diag-wrapper --no-pager [-f -n N]
// Each output line is a journal entry; its MESSAGE field is the audit record.
class Journal {
  public:
    Journal() = default;
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;
    Journal(Journal&& o) noexcept;
    Journal& operator=(Journal&&) = delete;
    ~Journal();

    // Starts journalctl; `follow` adds -f -n `lines`. Errors: kAudit (cannot start).
    [[nodiscard]] static Result<Journal> start(bool follow, size_t lines);

    // Waits up to `timeout_ms` for output and passes each complete entry to `on_entry`. Returns
    // false once journalctl has closed its output. Errors: kAudit.
    [[nodiscard]] Result<bool> poll(int timeout_ms, const std::function<void(const JournalEntry&)>& on_entry);

    // Waits for journalctl and checks how it ended. "journalctl not found", a non-zero exit or
    // "No journal files were found" are errors (kAudit): an unavailable journal is never read as
    // an empty one. journalctl's other stderr lines are returned as warnings (unescaped).
    [[nodiscard]] Result<std::vector<std::string>> finish();

    // Stops a following journalctl (SIGTERM) and reaps it.
    void stop();

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    int err_ = -1;
    size_t entries_ = 0;
    std::string err_text_;
    LineSplitter lines_;
    void drain_stderr();
};

// Reads every journal entry of diag-wrapper into `into`; warnings (journalctl's notes, entries
// from another program) are appended to `warnings`.
[[nodiscard]] Status read_journal(Collected& into, std::vector<std::string>& warnings);

}  // namespace diag::audit_reader
