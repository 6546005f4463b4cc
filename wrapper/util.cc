// SPDX-License-Identifier: Apache-2.0
#include "wrapper/util.h"

#include <cstdio>
#include <limits>

namespace diag::util {

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        uint32_t min = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1Fu;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0Fu;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

std::optional<size_t> find_control(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) {
            return i;
        }
        // C1 controls are encoded as C2 80..C2 9F.
        if (c == 0xC2 && i + 1 < s.size()) {
            const auto c2 = static_cast<unsigned char>(s[i + 1]);
            if (c2 >= 0x80 && c2 <= 0x9F) {
                return i;
            }
        }
    }
    return std::nullopt;
}

std::string printable(std::string_view s, size_t max_len) {
    std::string out;
    const bool utf8 = valid_utf8(s);
    for (size_t i = 0; i < s.size(); ++i) {
        if (out.size() >= max_len) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(s[i + 1]) <= 0x9F;
        // Line/paragraph separators and bidi controls (U+2028/9, U+202A..E, U+2066..9): they can
        // reorder or split what a terminal shows, so they are escaped like controls.
        if (utf8 && c == 0xE2 && i + 2 < s.size()) {
            const auto b1 = static_cast<unsigned char>(s[i + 1]);
            const auto b2 = static_cast<unsigned char>(s[i + 2]);
            const bool bidi = (b1 == 0x80 && b2 >= 0xA8 && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9);
            if (bidi) {
                char buf[16];
                const unsigned cp = 0x2000u + ((b1 & 0x3Fu) << 6) + (b2 & 0x3Fu);
                std::snprintf(buf, sizeof buf, "\\u{%04X}", cp);
                out += buf;
                i += 2;
                continue;
            }
        }
        if (c < 0x20 || c == 0x7F || c == '\\' || (!utf8 && c >= 0x80) || c1) {
            if (c == '\\') {
                out += "\\\\";
                continue;
            }
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            if (c1) {
                // Both bytes of a C1 control: a lone 0x80..0x9F would be invalid UTF-8 (and CSI).
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[++i]));
                out += buf;
            }
            continue;
        }
        out += static_cast<char>(c);
    }
    return out;
}

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

// Calls `on_entry(name, uid)` for each well-formed passwd(5) line, in order, until it returns true.
template <typename F>
void for_each_passwd_entry(std::string_view passwd, F on_entry) {
    auto numeric = [](std::string_view f) {
        return !f.empty() && f.size() <= 10 && f.find_first_not_of("0123456789") == std::string_view::npos;
    };
    while (!passwd.empty()) {
        const size_t nl = passwd.find('\n');
        std::string_view line = passwd.substr(0, nl);
        passwd = nl == std::string_view::npos ? std::string_view() : passwd.substr(nl + 1);
        // As glibc's files source: leading blanks ignored, blank and comment lines skipped.
        line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
        if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') {
            continue;  // + and -: NIS compat, never a local answer
        }
        // name:password:uid:gid:gecos:home:shell, all seven, uid and gid decimal.
        std::vector<std::string_view> f;
        for (size_t start = 0;;) {
            const size_t colon = line.find(':', start);
            f.push_back(line.substr(start, colon == std::string_view::npos ? colon : colon - start));
            if (colon == std::string_view::npos) {
                break;
            }
            start = colon + 1;
        }
        if (f.size() != 7 || f[0].empty() || !numeric(f[2]) || !numeric(f[3])) {
            continue;
        }
        const auto id = parse_int(f[2]);
        if (id && *id <= UINT32_MAX && on_entry(f[0], static_cast<unsigned>(*id))) {
            return;
        }
    }
}

}  // namespace

std::optional<std::string> passwd_name(std::string_view passwd, unsigned uid) {
    std::optional<std::string> out;
    for_each_passwd_entry(passwd, [&](std::string_view name, unsigned id) {
        if (id == uid) {
            out = std::string(name);
        }
        return out.has_value();
    });
    return out;
}

std::optional<unsigned> passwd_uid(std::string_view passwd, std::string_view name) {
    std::optional<unsigned> out;
    for_each_passwd_entry(passwd, [&](std::string_view n, unsigned id) {
        if (n == name) {
            out = id;
        }
        return out.has_value();
    });
    return out;
}

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') {
            ++i;
        }
        size_t j = i;
        while (j < path.size() && path[j] != '/') {
            ++j;
        }
        if (j > i) {
            out.emplace_back(path.substr(i, j - i));
        }
        i = j;
    }
    return out;
}

std::string join_path(const std::vector<std::string>& comps, size_t n) {
    if (n == 0) {
        return "/";
    }
    std::string out;
    for (size_t i = 0; i < n && i < comps.size(); ++i) {
        out += '/';
        out += comps[i];
    }
    return out;
}

std::string join_path(const std::vector<std::string>& comps) { return join_path(comps, comps.size()); }

bool path_within(std::string_view path, std::string_view root) {
    if (root == "/") {
        return !path.empty() && path[0] == '/';
    }
    if (path.size() < root.size() || path.compare(0, root.size(), root) != 0) {
        return false;
    }
    return path.size() == root.size() || path[root.size()] == '/';
}

// A backslash escapes the next character (glob_escape): an escaped * ? [ is not a wildcard.
bool has_glob(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '*' || s[i] == '?' || s[i] == '[') {
            return true;
        }
    }
    return false;
}

std::string glob_unescape(std::string_view pattern) {
    std::string out;
    out.reserve(pattern.size());
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) {
            ++i;
        }
        out += pattern[i];
    }
    return out;
}

std::string glob_escape(std::string_view literal) {
    std::string out;
    out.reserve(literal.size());
    for (char c : literal) {
        if (c == '*' || c == '?' || c == '[' || c == '\\') {
            out += '\\';
        }
        out += c;
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
    static constexpr Unit kUnits[] = {{"min", 60000},   {"ms", 1},       {"s", 1000}, {"m", 60000},
                                      {"h", 3600000},   {"d", 86400000}, {"w", 604800000}};
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

std::string hex(const unsigned char* data, size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        out += kDigits[data[i] >> 4];
        out += kDigits[data[i] & 0xF];
    }
    return out;
}

namespace {
constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string base64_encode(std::string_view data, bool pad) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (const char ch : data) {
        acc = (acc << 8) | static_cast<unsigned char>(ch);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kBase64[(acc >> bits) & 63];
        }
    }
    if (bits > 0) {
        out += kBase64[(acc << (6 - bits)) & 63];
    }
    while (pad && out.size() % 4 != 0) {
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view data) {
    while (!data.empty() && data.back() == '=') {
        data.remove_suffix(1);
    }
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (const char ch : data) {
        const size_t v = kBase64.find(ch);
        if (v == std::string_view::npos) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace diag::util
