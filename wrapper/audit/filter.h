// SPDX-License-Identifier: Apache-2.0
// diag-audit filters: which requests a search, report or follow selects. Values of one flag are
// alternatives (OR); different flags must all hold (AND), as in journalctl.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/join.h"
#include "wrapper/audit/pattern.h"
#include "wrapper/base/error.h"

namespace diag::audit_filter {

// An IPv4 or IPv6 network; a plain address is a /32 or /128. IPv4-mapped IPv6 addresses
// (::ffff:192.0.2.7) are compared as IPv4.
struct Cidr {
    std::array<unsigned char, 16> addr{};
    unsigned prefix = 0;
    bool v4 = false;
};

// Parses "192.0.2.0/24", "2001:db8::/32", "192.0.2.7". Errors: kUsage.
[[nodiscard]] Result<Cidr> parse_cidr(std::string_view s);
// True if `ip` (text, as in source.ip) parses and lies in `net`.
[[nodiscard]] bool cidr_contains(const Cidr& net, std::string_view ip);

// Parses a --since/--until value into microseconds since the epoch: an ISO 8601 time
// ("2026-11-23T14:00:00Z", "2026-11-23 14:00", "2026-11-23" = midnight UTC; no zone = UTC), a
// relative time before `now_us` ("-2h", "-7d", "-1h30min", "-90s", "-2w"), or now / today /
// yesterday (UTC). Errors: kUsage.
[[nodiscard]] Result<int64_t> parse_time(std::string_view s, int64_t now_us);

// --exit: a number, "nonzero" (the command failed: exit status != 0, a signal, a timeout) or
// "signal" (killed by a signal).
struct ExitMatch {
    enum class Kind { kCode, kNonzero, kSignal } kind = Kind::kCode;
    int64_t code = 0;
};
[[nodiscard]] Result<ExitMatch> parse_exit(std::string_view s);

struct Filter {
    std::optional<int64_t> since_us;  // inclusive
    std::optional<int64_t> until_us;  // inclusive
    std::vector<std::string> decisions;
    std::vector<std::string> reasons;
    std::vector<std::string> rules;
    std::vector<std::string> principals;
    std::vector<std::string> keys;  // key fingerprint or its certificate's CA fingerprint
    std::vector<Cidr> sources;
    std::vector<std::string> command_patterns;     // as given, for messages
    std::vector<audit_pattern::Pattern> commands;  // compiled command_patterns
    std::vector<ExitMatch> exits;
    bool incomplete = false;

    // Adds a --command pattern (the subset of audit_pattern.h, searched anywhere in the command, in
    // time linear in the command). Errors: kUsage (a bad or unsupported pattern).
    [[nodiscard]] Status add_command(const std::string& pattern);
    // True if only the time window is set (or nothing).
    [[nodiscard]] bool only_time() const;
};

// True if `r` passes every filter in `f`. Never fails today (the command search cannot give up on
// an input); a Result so that a filter that can fail is never read as "no match".
[[nodiscard]] Result<bool> matches(const Filter& f, const audit_reader::Request& r);

// The requests of `all` that pass `f`, in order. Errors: those of matches().
[[nodiscard]] Result<std::vector<const audit_reader::Request*>> select(const std::vector<audit_reader::Request>& all,
                                                                       const Filter& f);

// True if `r`'s time lies in f's window (true when no window is set).
[[nodiscard]] bool in_window(const Filter& f, const audit_reader::Request& r);

}  // namespace diag::audit_filter
