// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/parse.h"

#include <cstdint>
#include <limits>
#include <optional>

namespace diag::util {

std::vector<std::string_view> fields(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) {
            ++i;
        }
        size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') {
            ++j;
        }
        if (j > i) {
            out.push_back(s.substr(i, j - i));
        }
        i = j;
    }
    return out;
}

namespace {

bool checked_mul_add(uint64_t& acc, uint64_t mul, uint64_t add) {
    if (acc > (std::numeric_limits<uint64_t>::max() - add) / mul) {
        return false;
    }
    acc = acc * mul + add;
    return true;
}

}  // namespace

std::optional<uint64_t> parse_duration_ms(std::string_view s) {
    struct Unit {
        std::string_view name;
        uint64_t ms;
    };
    // Longest names first so "min" wins over "m" and "ms" over "m".
    static constexpr Unit kUnits[] = {{"min", 60000}, {"ms", 1},       {"s", 1000},     {"m", 60000},
                                      {"h", 3600000}, {"d", 86400000}, {"w", 604800000}};
    if (s.empty()) {
        return std::nullopt;
    }
    uint64_t total = 0;
    size_t i = 0;
    while (i < s.size()) {
        uint64_t num = 0;
        const size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (!checked_mul_add(num, 10, static_cast<uint64_t>(s[i] - '0'))) {
                return std::nullopt;
            }
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
        const Unit* unit = nullptr;
        for (const auto& u : kUnits) {
            if (s.substr(i, u.name.size()) == u.name) {
                unit = &u;
                break;
            }
        }
        if (unit == nullptr) {
            return std::nullopt;
        }
        i += unit->name.size();
        uint64_t part = 0;
        if (!checked_mul_add(part, 1, num) || (num != 0 && unit->ms > std::numeric_limits<uint64_t>::max() / num)) {
            return std::nullopt;
        }
        part = num * unit->ms;
        if (total > std::numeric_limits<uint64_t>::max() - part) {
            return std::nullopt;
        }
        total += part;
    }
    return total;
}

std::optional<uint64_t> parse_size(std::string_view s) {
    uint64_t num = 0;
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (!checked_mul_add(num, 10, static_cast<uint64_t>(s[i] - '0'))) {
            return std::nullopt;
        }
        ++i;
    }
    if (i == 0) {
        return std::nullopt;
    }
    const std::string_view suffix = s.substr(i);
    uint64_t mul = 1;
    if (suffix.empty() || suffix == "B") {
        mul = 1;
    } else if (suffix == "K" || suffix == "KiB") {
        mul = 1024;
    } else if (suffix == "M" || suffix == "MiB") {
        mul = 1024ULL * 1024;
    } else if (suffix == "G" || suffix == "GiB") {
        mul = 1024ULL * 1024 * 1024;
    } else {
        return std::nullopt;
    }
    if (num > std::numeric_limits<uint64_t>::max() / mul) {
        return std::nullopt;
    }
    return num * mul;
}

std::optional<int64_t> parse_int(std::string_view s) {
    bool neg = false;
    size_t i = 0;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i >= s.size() || s.size() - i > 18) {
        return std::nullopt;
    }
    int64_t v = 0;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
        v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace diag::util
