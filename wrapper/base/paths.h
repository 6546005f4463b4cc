// SPDX-License-Identifier: Apache-2.0
// Paths as strings: components, containment, and fnmatch(3) escaping. No file system access.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace diag::util {

// Splits "/a/b/c" into {"a","b","c"}; empty components are dropped.
[[nodiscard]] std::vector<std::string> split_path(std::string_view path);

// Joins components into an absolute path ("/" for none).
[[nodiscard]] std::string join_path(const std::vector<std::string>& comps, size_t n);

[[nodiscard]] std::string join_path(const std::vector<std::string>& comps);

// True if `path` equals `root` or lies below it, component-wise ("/tmp" does not contain "/tmpfiles").
[[nodiscard]] bool path_within(std::string_view path, std::string_view root);

// True when `s` holds an unescaped * ? or [ (a backslash escapes the next character).
[[nodiscard]] bool has_glob(std::string_view s);

// `literal` as an fnmatch(3) pattern that matches exactly it: * ? [ and \ escaped with \.
[[nodiscard]] std::string glob_escape(std::string_view literal);

// The literal a pattern without wildcards (!has_glob) stands for: its escapes removed.
[[nodiscard]] std::string glob_unescape(std::string_view pattern);

// The last component of `path` (all of it when it has no '/'); a view into `path`.
[[nodiscard]] std::string_view base_name(std::string_view path);

}  // namespace diag::util
