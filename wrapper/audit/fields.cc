// SPDX-License-Identifier: Apache-2.0
// Lenient field access and the RFC 3339 timestamps of records.
#include "wrapper/audit/fields.h"

namespace diag::audit_reader {

namespace {

using nlohmann::json;

// "1f" -> 1..9 digits of a number, advancing `i`.
bool take_digits(std::string_view s, size_t& i, size_t count, int& out) {
    if (i + count > s.size()) {
        return false;
    }
    int v = 0;
    for (size_t k = 0; k < count; ++k) {
        const char c = s[i + k];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    i += count;
    out = v;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int days_in_month(int y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

const json* find(const json& j, FieldPath path) {
    const json* cur = &j;
    for (const std::string_view key : path) {
        if (!cur->is_object()) {
            return nullptr;
        }
        const auto it = cur->find(key);
        if (it == cur->end()) {
            return nullptr;
        }
        cur = &*it;
    }
    return cur;
}

std::string get_string(const json& j, FieldPath path) {
    const json* v = find(j, path);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::string get_scalar(const json& j, FieldPath path) {
    const json* v = find(j, path);
    if (v == nullptr) {
        return {};
    }
    if (v->is_string()) {
        return v->get<std::string>();
    }
    if (v->is_number_unsigned()) {
        return std::to_string(v->get<uint64_t>());
    }
    if (v->is_number_integer()) {
        return std::to_string(v->get<int64_t>());
    }
    return {};
}

std::optional<int64_t> get_int(const json& j, FieldPath path) {
    const json* v = find(j, path);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_number_unsigned()) {
        const auto u = v->get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) {
            return std::nullopt;
        }
        return static_cast<int64_t>(u);
    }
    if (v->is_number_integer()) {
        return v->get<int64_t>();
    }
    return std::nullopt;
}

bool get_bool(const json& j, FieldPath path) {
    const json* v = find(j, path);
    return v != nullptr && v->is_boolean() && v->get<bool>();
}

std::optional<int64_t> parse_timestamp(std::string_view s) {
    size_t i = 0;
    int y = 0;
    int mo = 0;
    int d = 0;
    if (!take_digits(s, i, 4, y) || i >= s.size() || s[i++] != '-' || !take_digits(s, i, 2, mo) || i >= s.size() ||
        s[i++] != '-' || !take_digits(s, i, 2, d)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        return std::nullopt;
    }
    int h = 0;
    int mi = 0;
    int sec = 0;
    int64_t frac_us = 0;
    int64_t offset_s = 0;
    if (i < s.size()) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
            return std::nullopt;
        }
        ++i;
        if (!take_digits(s, i, 2, h) || i >= s.size() || s[i++] != ':' || !take_digits(s, i, 2, mi)) {
            return std::nullopt;
        }
        if (i < s.size() && s[i] == ':') {
            ++i;
            if (!take_digits(s, i, 2, sec)) {
                return std::nullopt;
            }
            if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
                ++i;
                size_t digits = 0;
                int64_t scale = 100000;
                while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                    if (digits < 6) {
                        frac_us += (s[i] - '0') * scale;
                        scale /= 10;
                    }
                    ++digits;
                    ++i;
                }
                if (digits == 0 || digits > 9) {
                    return std::nullopt;
                }
            }
        }
        if (h > 23 || mi > 59 || sec > 60) {
            return std::nullopt;
        }
        if (sec == 60) {
            sec = 59;  // a leap second sorts with the second before it
            frac_us = 999999;
        }
        if (i < s.size()) {
            if (s[i] == 'Z' || s[i] == 'z') {
                ++i;
            } else if (s[i] == '+' || s[i] == '-') {
                const int sign = s[i] == '-' ? -1 : 1;
                ++i;
                int oh = 0;
                int om = 0;
                if (!take_digits(s, i, 2, oh)) {
                    return std::nullopt;
                }
                if (i < s.size() && s[i] == ':') {
                    ++i;
                }
                if (!take_digits(s, i, 2, om) || oh > 23 || om > 59) {
                    return std::nullopt;
                }
                offset_s = sign * (oh * 3600 + om * 60);
            } else {
                return std::nullopt;
            }
        }
        if (i != s.size()) {
            return std::nullopt;
        }
    }
    const int64_t days = days_from_civil(y, mo, d);
    const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    return secs * 1000000 + frac_us;
}

}  // namespace diag::audit_reader
