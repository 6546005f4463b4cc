// SPDX-License-Identifier: Apache-2.0
// diag-audit's journald source: journalctl as a child process with a fixed argv, each JSON output
// line a journal entry whose MESSAGE is an audit record. Kept apart from the file reader
// (audit_reader.cc): it is the part that depends on journalctl's output format and on journald's
// trusted fields (docs/journald.md).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/reader.h"
#include "wrapper/base/error.h"

namespace diag::audit_reader {

// One journal entry with SYSLOG_IDENTIFIER=diag-wrapper, and what the reader makes of it. No
// entry is ever dropped without a trace: it is a record, or it is reported, with its cursor.
struct JournalEntry {
    enum class Kind {
        kRecord,      // sent as the diag account, by diag-wrapper or _EXE not recorded: MESSAGE is the record
        kUntrusted,   // any local process can send the identifier: _UID (or a recorded _EXE) is not ours
        kUnreadable,  // from diag-wrapper, but MESSAGE (or the entry) cannot be read
    };
    Kind kind = Kind::kUnreadable;
    std::string message;  // MESSAGE: the audit record (its bytes when journald kept an array)
    std::string origin;   // "journal:N _EXE=... _UID=... _PID=... __CURSOR=..." (fields journald sets)
    std::string exe;      // _EXE, set by journald from the sender's credentials
    std::string uid;      // _UID, likewise
    std::string cursor;   // __CURSOR: where the entry is (journalctl --cursor / --after-cursor)
    std::string why;      // kUntrusted / kUnreadable: the reason, for the warning
};

// Turns one line of `journalctl -o json --all` into an entry. `diag_uid` is the account whose
// entries are trusted; `n` numbers the entry in origin ("journal:N").
[[nodiscard]] JournalEntry classify_journal_line(std::string_view line, uid_t diag_uid, size_t n);

// True if `exe` (an _EXE value) names a diag-wrapper binary: its last component is
// "diag-wrapper" (" (deleted)" after an upgrade allowed).
[[nodiscard]] bool trusted_journal_exe(std::string_view exe);

// journalctl as a child process with a fixed argv (execvp, no shell):
//   journalctl -o json SYSLOG_IDENTIFIER=diag-wrapper --no-pager --all [-f -n N]
// Each output line is a journal entry; its MESSAGE field is the audit record. --all: without it
// journalctl prints a field of 4096 bytes or more as null, and a long request would vanish.
class Journal {
  public:
    Journal() = default;
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;
    Journal(Journal&& o) noexcept;
    Journal& operator=(Journal&&) = delete;
    ~Journal();

    // Starts journalctl; `follow` adds -f -n `lines`; entries are classified against `diag_uid`.
    // Errors: kAudit (cannot start).
    [[nodiscard]] static Result<Journal> start(bool follow, size_t lines, uid_t diag_uid);

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
    uid_t diag_uid_ = 0;
    int out_ = -1;
    int err_ = -1;
    size_t entries_ = 0;
    std::string err_text_;
    LineSplitter lines_;
    void drain_stderr();
};

// Reads every journal entry of diag-wrapper into `into`: records as lines, untrusted and
// unreadable entries into into.stats; journalctl's notes are appended to `warnings`.
[[nodiscard]] Status read_journal(Collected& into, uid_t diag_uid, std::vector<std::string>& warnings);

// The uid of `account` in passwd(5) text (the default trusted sender is the account "diag").
// Errors: kUsage (no such account: give --uid).
[[nodiscard]] Result<uid_t> account_uid(std::string_view passwd, const std::string& account);

// The uid whose entries are records: `uid` when given (--uid), else `account` looked up in the
// file `passwd_file`. Errors: kAudit (the file cannot be read), kUsage (no such account).
[[nodiscard]] Result<uid_t> diag_uid(std::optional<uid_t> uid, const std::string& account,
                                     const std::string& passwd_file);

// The warning for one entry that is not a record ("untrusted journal entry: journal:N ...: why").
[[nodiscard]] std::string journal_note(const JournalEntry& e);

// The warnings about the journal that `stats` holds: every unreadable entry, the untrusted ones
// noted (and how many more), and how many records were trusted on _UID alone. Unescaped.
[[nodiscard]] std::vector<std::string> journal_notes(const ReadStats& stats);

}  // namespace diag::audit_reader
