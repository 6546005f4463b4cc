// SPDX-License-Identifier: Apache-2.0
// diag-audit follow: prints records as they are appended, like tail -f: files (reopened when
// rotated, reread when truncated) or journalctl -f. A decision is printed at once; its end record
// later, joined with the remembered decision.
#pragma once

#include <cstddef>

#include "wrapper/audit/cli.h"

namespace diag::audit_follow {

// Decisions remembered to join their end records; the oldest are forgotten first.
inline constexpr size_t kMemory = 100000;

// The follow command: prints the last o.lines records, then every new one until io.stop (or
// o.count records). Returns the exit status (audit_cli::kExitOk, kExitError, kExitUnreadable).
[[nodiscard]] int run(const audit_cli::Options& o, audit_cli::Io& io);

}  // namespace diag::audit_follow
