// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/text_safety.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace diag::text_safety {

namespace {

#include "wrapper/base/text_safety_table.inc"

std::string hex_byte(unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    return buf;
}

std::string code_point(uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
    return buf;
}

}  // namespace

size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    auto cont = [&](size_t k, unsigned char lo, unsigned char hi) {
        if (i + k >= s.size()) {
            return false;
        }
        const auto b = static_cast<unsigned char>(s[i + k]);
        return b >= lo && b <= hi;
    };
    auto bits = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (!cont(1, 0x80, 0xBF)) {
            return 0;
        }
        cp = (static_cast<uint32_t>(b0 & 0x1F) << 6) | bits(1);
        return 2;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;  // no overlongs
        const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
        if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF)) {
            return 0;
        }
        cp = (static_cast<uint32_t>(b0 & 0x0F) << 12) | (bits(1) << 6) | bits(2);
        return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
        if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF) || !cont(3, 0x80, 0xBF)) {
            return 0;
        }
        cp = (static_cast<uint32_t>(b0 & 0x07) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
        return 4;
    }
    return 0;
}

bool must_escape(uint32_t cp) {
    // The first range whose end is not below cp holds it, if any does.
    const auto* it = std::lower_bound(std::begin(kEscapedRanges), std::end(kEscapedRanges), cp,
                                      [](const CodePointRange& r, uint32_t v) { return r.last < v; });
    return it != std::end(kEscapedRanges) && it->first <= cp;
}

std::string escape(std::string_view s, size_t max_len) {
    std::string out;
    out.reserve(std::min(s.size(), max_len));
    size_t i = 0;
    while (i < s.size()) {
        if (out.size() >= max_len) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        uint32_t cp = 0;
        const size_t len = decode_utf8(s, i, cp);
        if (len == 0) {
            out += hex_byte(c);  // one byte at a time: the next one may start a valid sequence
            ++i;
            continue;
        }
        if (c == '\\') {
            out += "\\\\";
        } else if (cp < 0x20 || cp == 0x7F) {
            out += hex_byte(c);
        } else if (must_escape(cp)) {
            out += code_point(cp);
        } else {
            out.append(s.substr(i, len));
        }
        i += len;
    }
    return out;
}

std::string csv_field(std::string_view raw) {
    std::string e = escape(raw);
    const bool formula = !e.empty() && (e[0] == '=' || e[0] == '+' || e[0] == '-' || e[0] == '@');
    // A raw tab or CR is escaped above (\x09, \x0d), so the cell starts with "\"; the check on the
    // raw value keeps the rule true should the escaping ever change.
    const bool blank_start = !raw.empty() && (raw[0] == '\t' || raw[0] == '\r');
    const bool list_sep = e.find(';') != std::string::npos;
    const bool neutralise = formula || blank_start || list_sep;
    if (neutralise) {
        e.insert(0, "'");
    }
    const bool quote = neutralise || e.find_first_of(",\"") != std::string::npos ||
                       (!e.empty() && (e.front() == ' ' || e.back() == ' '));
    if (!quote) {
        return e;
    }
    std::string out = "\"";
    for (const char ch : e) {
        out += ch;
        if (ch == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::string_view unicode_version() { return kUnicodeVersion; }

bool valid_utf8(std::string_view s) {
    uint32_t cp = 0;
    for (size_t i = 0; i < s.size();) {
        const size_t len = decode_utf8(s, i, cp);
        if (len == 0) {
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

std::string printable(std::string_view s, size_t max_len) { return escape(s, max_len); }

}  // namespace diag::text_safety
