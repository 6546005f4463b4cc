// SPDX-License-Identifier: Apache-2.0
// The decision deadline: one bound on the wall-clock time between the wrapper's start and its
// decision (policy load, deny-list expansion, path resolution, tree and hard-link scans, the
// audit lock). Every loop whose length a local account can influence (a directory another
// account fills, a symlink chain it builds) calls check() as it goes, so a request that would
// take longer is refused with one stable reason code instead of running on before any record or
// timeout exists. One request per process: the deadline is process-wide state, unset (never
// passing) until start() is called, so library users and unit tests see no deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "wrapper/base/error.h"

namespace diag::deadline {

inline constexpr std::string_view kReason = "decision-timeout";
// The ceiling for the whole decision when the policy says nothing shorter: a real decision takes
// milliseconds; seconds mean an attack or a broken host.
inline constexpr uint64_t kDefaultMillis = 10000;

// Sets the deadline `millis` from now (replacing an earlier one).
void start(uint64_t millis);

// Moves the deadline to `millis` after the moment start() was called, if that is earlier.
void tighten(uint64_t millis);

// Removes the deadline (the decision is made; the command's own timeout takes over).
void clear();

// True when a deadline is set and has passed.
[[nodiscard]] bool passed();

// Milliseconds left before the deadline (0 once it has passed), or nullopt when none is set.
[[nodiscard]] std::optional<uint64_t> remaining_ms();

// The budget given to start()/tighten(), in ms (0 when unset).
[[nodiscard]] uint64_t budget_ms();

// ok, or the denial "decision-timeout: the decision took longer than N ms (while WHAT)".
// Cheap (one vDSO clock read): call it per directory entry or per path component.
[[nodiscard]] Status check(std::string_view what);

}  // namespace diag::deadline
