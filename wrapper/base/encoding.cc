// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/encoding.h"

#include <string>

namespace diag::util {

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

}  // namespace diag::util
