// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/filter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "wrapper/audit/fields.h"
#include "wrapper/base/parse.h"

namespace diag::audit_filter {

namespace {

constexpr int64_t kUsPerDay = 86400LL * 1000000;

// Parses an address; IPv4-mapped IPv6 becomes IPv4. A zone suffix (fe80::1%eth0) is ignored.
bool parse_ip(std::string_view text, std::array<unsigned char, 16>& out, bool& v4) {
    std::string s(text.substr(0, std::min(text.find('%'), text.size())));
    out.fill(0);
    if (::inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
        v4 = true;
        return true;
    }
    if (::inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
        static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(out.data(), kMapped, sizeof kMapped) == 0) {
            std::memmove(out.data(), out.data() + 12, 4);
            std::fill(out.begin() + 4, out.end(), static_cast<unsigned char>(0));
            v4 = true;
        } else {
            v4 = false;
        }
        return true;
    }
    return false;
}

bool contains(const std::vector<std::string>& values, const std::string& v) {
    return std::find(values.begin(), values.end(), v) != values.end();
}

bool exit_matches(const ExitMatch& m, const audit_reader::Request& r) {
    switch (m.kind) {
        case ExitMatch::Kind::kCode:
            return r.exit_code.has_value() && *r.exit_code == m.code;
        case ExitMatch::Kind::kSignal:
            return r.signal.has_value();
        case ExitMatch::Kind::kNonzero:
            return r.has_end() && ((r.exit_status && *r.exit_status != 0) || (r.exit_code && *r.exit_code != 0) ||
                                   r.signal.has_value() || r.timed_out || !r.end_error.empty());
    }
    return false;
}

}  // namespace

Result<Cidr> parse_cidr(std::string_view s) {
    Cidr c;
    const size_t slash = s.find('/');
    const std::string_view addr = s.substr(0, slash);
    if (addr.find('%') != std::string_view::npos || !parse_ip(addr, c.addr, c.v4)) {
        return make_error(ErrorCode::kUsage, "--source: '" + std::string(s) + "' is not an IP address or CIDR");
    }
    const unsigned max = c.v4 ? 32 : 128;
    c.prefix = max;
    if (slash != std::string_view::npos) {
        const auto n = util::parse_int(s.substr(slash + 1));
        const bool mapped = c.v4 && addr.find(':') != std::string_view::npos;
        // ::ffff:192.0.2.0/120 is 192.0.2.0/24.
        const int64_t adjust = mapped ? 96 : 0;
        if (!n || s.substr(slash + 1).empty() || s[slash + 1] == '+' || s[slash + 1] == '-' || *n < adjust ||
            *n - adjust > static_cast<int64_t>(max)) {
            return make_error(ErrorCode::kUsage, "--source: bad prefix length in '" + std::string(s) + "'");
        }
        c.prefix = static_cast<unsigned>(*n - adjust);
    }
    return c;
}

bool cidr_contains(const Cidr& net, std::string_view ip) {
    std::array<unsigned char, 16> a{};
    bool v4 = false;
    if (ip.empty() || !parse_ip(ip, a, v4) || v4 != net.v4) {
        return false;
    }
    const unsigned full = net.prefix / 8;
    if (std::memcmp(a.data(), net.addr.data(), full) != 0) {
        return false;
    }
    const unsigned rest = net.prefix % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
    return (a[full] & mask) == (net.addr[full] & mask);
}

Result<int64_t> parse_time(std::string_view s, int64_t now_us) {
    const int64_t today = now_us - (((now_us % kUsPerDay) + kUsPerDay) % kUsPerDay);
    if (s == "now") {
        return now_us;
    }
    if (s == "today") {
        return today;
    }
    if (s == "yesterday") {
        return today - kUsPerDay;
    }
    if (!s.empty() && s[0] == '-') {
        const auto ms = util::parse_duration_ms(s.substr(1));
        if (!ms || *ms > static_cast<uint64_t>(INT64_MAX / 1000)) {
            return make_error(ErrorCode::kUsage, "bad relative time '" + std::string(s) + "' (e.g. -2h, -7d, -30min)");
        }
        return now_us - static_cast<int64_t>(*ms) * 1000;
    }
    if (auto t = audit_reader::parse_timestamp(s)) {
        return *t;
    }
    return make_error(ErrorCode::kUsage,
                      "bad time '" + std::string(s) + "' (e.g. 2026-11-23T14:00:00Z, 2026-11-23, -2h, -7d)");
}

Result<ExitMatch> parse_exit(std::string_view s) {
    if (s == "nonzero") {
        return ExitMatch{ExitMatch::Kind::kNonzero, 0};
    }
    if (s == "signal") {
        return ExitMatch{ExitMatch::Kind::kSignal, 0};
    }
    if (auto n = util::parse_int(s)) {
        return ExitMatch{ExitMatch::Kind::kCode, *n};
    }
    return make_error(ErrorCode::kUsage, "--exit: '" + std::string(s) + "' is not a number, nonzero or signal");
}

Status Filter::add_command(const std::string& pattern) {
    DIAG_TRY_ASSIGN(auto compiled, audit_pattern::Pattern::compile(pattern));
    commands.push_back(std::move(compiled));
    command_patterns.push_back(pattern);
    return ok_status();
}

bool Filter::only_time() const {
    return decisions.empty() && reasons.empty() && rules.empty() && principals.empty() && keys.empty() &&
           sources.empty() && commands.empty() && exits.empty() && !incomplete;
}

bool in_window(const Filter& f, const audit_reader::Request& r) {
    if (!f.since_us && !f.until_us) {
        return true;
    }
    if (!r.time_us) {
        return false;  // a record without a readable time is in no window
    }
    return (!f.since_us || *r.time_us >= *f.since_us) && (!f.until_us || *r.time_us <= *f.until_us);
}

Result<bool> matches(const Filter& f, const audit_reader::Request& r) {
    if (!in_window(f, r)) {
        return false;
    }
    if (!f.decisions.empty() && !contains(f.decisions, r.verdict)) {
        return false;
    }
    if (!f.reasons.empty() && !contains(f.reasons, r.reason)) {
        return false;
    }
    if (!f.rules.empty() && !contains(f.rules, r.rule)) {
        return false;
    }
    if (!f.principals.empty() && !contains(f.principals, r.principal)) {
        return false;
    }
    if (!f.keys.empty()) {
        const bool hit = std::any_of(f.keys.begin(), f.keys.end(), [&](const std::string& k) {
            return !k.empty() && (k == r.key_fingerprint || k == r.ca_fingerprint);
        });
        if (!hit) {
            return false;
        }
    }
    if (!f.sources.empty() && std::none_of(f.sources.begin(), f.sources.end(),
                                           [&](const Cidr& c) { return cidr_contains(c, r.source_ip); })) {
        return false;
    }
    if (!f.exits.empty() &&
        std::none_of(f.exits.begin(), f.exits.end(), [&](const ExitMatch& m) { return exit_matches(m, r); })) {
        return false;
    }
    if (f.incomplete && !r.incomplete()) {
        return false;
    }
    if (!f.commands.empty() &&
        std::none_of(f.commands.begin(), f.commands.end(), [&](const auto& p) { return p.search(r.command); })) {
        return false;
    }
    return true;
}

Result<std::vector<const audit_reader::Request*>> select(const std::vector<audit_reader::Request>& all,
                                                         const Filter& f) {
    std::vector<const audit_reader::Request*> out;
    for (const auto& r : all) {
        DIAG_TRY_ASSIGN(bool hit, matches(f, r));
        if (hit) {
            out.push_back(&r);
        }
    }
    return out;
}

}  // namespace diag::audit_filter
