// SPDX-License-Identifier: Apache-2.0
// Where an audit line goes: the file (one write under flock), journald (native protocol, a sealed
// memfd for what one datagram cannot carry) and syslog (/dev/log). Each returns an error for
// everything that keeps the line from its sink; the caller refuses the request then.
#pragma once

#include <sys/types.h>

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"

namespace diag::audit_sinks {

// How long a writer waits for a lock (the audit file's, the chain state's). While the decision
// deadline runs, until it passes (but at least kLockGraceMillis, so the refusal that reports a
// passed deadline can still be recorded); after the decision (the end record), kLockWaitMillis.
inline constexpr uint64_t kLockGraceMillis = 1000;
inline constexpr uint64_t kLockWaitMillis = 5000;

// flock(LOCK_EX) with that bound: LOCK_NB retried with a short sleep. Errors: kAudit.
[[nodiscard]] Status lock_bounded(int fd, const std::string& path);

// Opens an audit file (the file sink, the chain state) for `flags` with O_NOFOLLOW|O_CLOEXEC,
// refusing it unless every directory above it is owned by `owner` and writable by nobody else,
// and the file itself is a regular file owned by `owner`, with one link, not writable by others
// (the group, the audited account's, may write: it is how the wrapper appends). Errors: kAudit,
// starting with `what` ("audit file", "chain state").
[[nodiscard]] Result<sys::UniqueFd> open_trusted_log(const std::string& path, int flags, mode_t create_mode,
                                                     uid_t owner, const std::string& what);

// Appends `line` (newline included) to the file sink with one write(2) under the bounded lock,
// to the file that holds the name once the lock is held. Across a rotation (adr/0020) a missing
// or not yet writable file is waited for, within the same bound. Errors: kAudit (open, trust,
// lock, write, short write).
[[nodiscard]] Status write_file(const std::string& path, const std::string& line);

// Sends `payload` as one datagram to the AF_UNIX socket `socket_path`. With `memfd_fallback` (the
// journald native protocol), a payload the socket refuses as too large (EMSGSIZE, ENOBUFS) is
// written to a sealed memfd passed with SCM_RIGHTS, as sd_journal_sendv does. Errors: kAudit.
[[nodiscard]] Status send_datagram(const std::string& socket_path, const std::string& payload, const char* what,
                                   bool memfd_fallback);

}  // namespace diag::audit_sinks
