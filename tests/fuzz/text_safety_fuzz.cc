// SPDX-License-Identifier: Apache-2.0
// Text-safety fuzzer: whatever the bytes, escape() gives well-formed UTF-8 with no C0 control,
// DEL or code point must_escape() names, and it can be undone (so two inputs never look alike);
// a cut never splits a unit; csv_field() is never a formula; valid_utf8() and find_control()
// agree with an independent reading of the bytes. The first input byte is the length cap.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "wrapper/base/text_safety.h"

namespace {

namespace ts = diag::text_safety;

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

// Well-formed UTF-8 after the Unicode standard's table 3-7, written apart from decode_utf8().
size_t reference_utf8_len(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(s[i + k])); };
    const auto in = [&](size_t k, unsigned lo, unsigned hi) { return i + k < s.size() && b(k) >= lo && b(k) <= hi; };
    const unsigned b0 = b(0);
    if (b0 <= 0x7F) {
        return 1;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        return in(1, 0x80, 0xBF) ? 2 : 0;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
        const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
        return in(1, lo, hi) && in(2, 0x80, 0xBF) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
        const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
        return in(1, lo, hi) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Length of the unit (an escape or one character) at e[i] of escape()'s output; aborts on an
// escape escape() does not write.
size_t unit_len(std::string_view e, size_t i) {
    if (e[i] != '\\') {
        const size_t n = reference_utf8_len(e, i);
        check(n != 0);
        return n;
    }
    check(i + 1 < e.size());
    if (e[i + 1] == '\\') {
        return 2;
    }
    if (e[i + 1] == 'x') {
        check(i + 3 < e.size() && hex_digit(e[i + 2]) >= 0 && hex_digit(e[i + 3]) >= 0);
        return 4;
    }
    check(e[i + 1] == 'u' && i + 2 < e.size() && e[i + 2] == '{');
    const size_t close = e.find('}', i + 3);
    check(close != std::string_view::npos && close - (i + 3) >= 4 && close - (i + 3) <= 6);
    return close + 1 - i;
}

// escape()'s output back to the input bytes.
std::string unescape(std::string_view e) {
    std::string out;
    for (size_t i = 0; i < e.size();) {
        const size_t n = unit_len(e, i);
        if (e[i] != '\\') {
            out.append(e.substr(i, n));
        } else if (e[i + 1] == '\\') {
            out += '\\';
        } else if (e[i + 1] == 'x') {
            out += static_cast<char>(hex_digit(e[i + 2]) * 16 + hex_digit(e[i + 3]));
        } else {
            uint32_t cp = 0;
            for (size_t k = i + 3; k + 1 < i + n; ++k) {
                const int d = hex_digit(e[k]);
                check(d >= 0);
                cp = cp * 16 + static_cast<uint32_t>(d);
            }
            check(ts::must_escape(cp) && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF));
            append_utf8(out, cp);
        }
        i += n;
    }
    return out;
}

// Safe to show: well-formed, no C0 control, no DEL, nothing must_escape() names.
void check_shown(std::string_view e) {
    check(ts::valid_utf8(e));
    for (size_t i = 0; i < e.size();) {
        uint32_t cp = 0;
        const size_t n = ts::decode_utf8(e, i, cp);
        check(n != 0);
        check(!ts::must_escape(cp));
        i += n;
    }
}

void check_escape(std::string_view s, size_t cap) {
    const std::string full = ts::escape(s);
    check_shown(full);
    check(unescape(full) == s);
    check(ts::printable(s, cap) == ts::escape(s, cap));
    // The cut: all of it, or whole units of `full` up to the first one starting at or after `cap`,
    // then "...".
    const std::string cut = ts::escape(s, cap);
    check_shown(cut);
    if (cut == full) {
        return;
    }
    check(cut.size() >= 3 && cut.compare(cut.size() - 3, 3, "...") == 0);
    const std::string_view kept = std::string_view(cut).substr(0, cut.size() - 3);
    check(full.compare(0, kept.size(), kept) == 0 && kept.size() < full.size() && kept.size() >= cap);
    size_t i = 0;
    size_t last_start = 0;
    while (i < kept.size()) {
        last_start = i;
        i += unit_len(full, i);
    }
    check(i == kept.size());                  // ends on a unit boundary
    check(kept.empty() || last_start < cap);  // no unit started at or after the cap
}

void check_csv(std::string_view s) {
    const std::string f = ts::csv_field(s);
    check_shown(f);
    std::string cell = f;
    if (!f.empty() && f.front() == '"') {
        check(f.size() >= 2 && f.back() == '"');
        cell.clear();
        for (size_t i = 1; i + 1 < f.size(); ++i) {
            cell += f[i];
            if (f[i] == '"') {
                check(f[i + 1] == '"' && i + 2 < f.size());
                ++i;
            }
        }
    } else {
        check(f.find_first_of(",\";") == std::string::npos);
        check(f.empty() || (f.front() != ' ' && f.back() != ' '));
    }
    const std::string e = ts::escape(s);
    check(cell == e || cell == "'" + e);
    check(cell.empty() || std::string_view("=+-@\t\r").find(cell.front()) == std::string_view::npos);
}

void check_decoders(std::string_view s) {
    bool valid = true;
    std::optional<size_t> control;
    for (size_t i = 0; i < s.size();) {
        const size_t n = reference_utf8_len(s, i);
        uint32_t cp = 0;
        check(ts::decode_utf8(s, i, cp) == n);
        if (n == 0) {
            valid = false;
            break;
        }
        if (!control && (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))) {
            control = i;
        }
        i += n;
    }
    check(ts::valid_utf8(s) == valid);
    if (valid) {  // find_control() assumes valid UTF-8
        check(ts::find_control(s) == control);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const size_t cap = data[0];
    const std::string_view s(reinterpret_cast<const char*>(data + 1), size - 1);
    check_escape(s, cap);
    check_csv(s);
    check_decoders(s);
    return 0;
}
