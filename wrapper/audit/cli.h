// SPDX-License-Identifier: Apache-2.0
// diag-audit: the auditors' command. argv -> Options (args.h) -> run(), which reads the inputs
// and hands them to the command: search and show (search.h), report (report.h), follow
// (follow.h), verify (verify.h). Read-only; never needs root (read access to the audit file or
// the journal is enough).
#pragma once

#include <csignal>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/args.h"
#include "wrapper/audit/reader.h"
#include "wrapper/base/error.h"

namespace diag::audit_cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;  // search found nothing, show found no such request
inline constexpr int kExitError = 2;     // usage or input error, ambiguous show prefix
// search, show, report, follow: the output is complete as far as it goes, but some journal
// entries of diag-wrapper could not be read (listed on stderr with their cursors): any request
// may be among them, so "nothing found" or "nothing incomplete" cannot be claimed.
inline constexpr int kExitUnreadable = 3;
inline constexpr int kFollowPollMs = 200;

// Where run() writes, and what it needs from the process.
struct Io {
    std::function<void(std::string_view)> out;
    std::function<void(std::string_view)> err;
    const volatile std::sig_atomic_t* stop = nullptr;  // follow ends when it becomes non-zero
    int poll_ms = kFollowPollMs;
};

// Runs the command; returns the exit status (kExitOk, kExitNotFound, kExitError). Errors are one
// line on io.err: "diag-audit: error: ...".
[[nodiscard]] int run(const Options& o, Io& io);

// One line on io.err: "diag-audit: error: " or "diag-audit: warning: " and the text, escaped.
void say_error(Io& io, const Error& e);
void say_warning(Io& io, const std::string& msg);

}  // namespace diag::audit_cli
