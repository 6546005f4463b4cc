// SPDX-License-Identifier: Apache-2.0
// Pure helpers with no side effects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diag::util {

// True if s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
[[nodiscard]] bool valid_utf8(std::string_view s);

// Byte offset of the first C0 control, DEL or C1 control (U+0080..U+009F), if any. Assumes valid UTF-8.
[[nodiscard]] std::optional<size_t> find_control(std::string_view s);

// Printable rendering for one-line messages: controls and invalid bytes as \xNN, quotes kept.
[[nodiscard]] std::string printable(std::string_view s, size_t max_len = 200);

// Splits "/a/b/c" into {"a","b","c"}; empty components are dropped.
[[nodiscard]] std::vector<std::string> split_path(std::string_view path);
// Whitespace-separated fields (space, tab, newline).
[[nodiscard]] std::vector<std::string_view> fields(std::string_view s);
// Joins components into an absolute path ("/" for none).
[[nodiscard]] std::string join_path(const std::vector<std::string>& comps, size_t n);
[[nodiscard]] std::string join_path(const std::vector<std::string>& comps);

// True if `path` equals `root` or lies below it, component-wise ("/tmp" does not contain "/tmpfiles").
[[nodiscard]] bool path_within(std::string_view path, std::string_view root);

// True if `s` contains glob metacharacters (* ? [).
// True when `s` holds an unescaped * ? or [ (a backslash escapes the next character).
[[nodiscard]] bool has_glob(std::string_view s);
// `literal` as an fnmatch(3) pattern that matches exactly it: * ? [ and \ escaped with \.
[[nodiscard]] std::string glob_escape(std::string_view literal);
// The literal a pattern without wildcards (!has_glob) stands for: its escapes removed.
[[nodiscard]] std::string glob_unescape(std::string_view pattern);

// Parses "500ms", "30s", "5min", "1h30min", "2d", "1w" into milliseconds.
[[nodiscard]] std::optional<uint64_t> parse_duration_ms(std::string_view s);
// Parses "1048576", "64K", "16MiB", "1G" into bytes.
[[nodiscard]] std::optional<uint64_t> parse_size(std::string_view s);
// Parses a signed decimal integer with optional leading '+' / '-', no overflow.
[[nodiscard]] std::optional<int64_t> parse_int(std::string_view s);

[[nodiscard]] std::string hex(const unsigned char* data, size_t n);

// RFC 4648 base64 (standard alphabet), with or without '=' padding.
[[nodiscard]] std::string base64_encode(std::string_view data, bool pad = true);
// Decodes base64 with or without padding; nullopt on any character outside the alphabet.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view data);
[[nodiscard]] bool starts_with(std::string_view s, std::string_view prefix);
// The name of `uid` in passwd(5) text: the first well-formed entry with that uid, as glibc's
// "files" source answers; nullopt when there is none. NIS compat lines (+, -) are skipped.
[[nodiscard]] std::optional<std::string> passwd_name(std::string_view passwd, unsigned uid);
// The uid of `name` in passwd(5) text: the first well-formed entry with that name; nullopt when
// there is none.
[[nodiscard]] std::optional<unsigned> passwd_uid(std::string_view passwd, std::string_view name);

}  // namespace diag::util
