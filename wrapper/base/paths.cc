// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/paths.h"

#include <string>
#include <vector>

namespace diag::util {

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

std::string_view base_name(std::string_view path) {
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
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

}  // namespace diag::util
