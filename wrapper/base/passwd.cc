// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/passwd.h"

#include <string>
#include <utility>
#include <vector>

#include "wrapper/base/parse.h"

namespace diag::util {

namespace {

// Calls `match(name, uid)` for each well-formed passwd(5) entry, in order, until it returns true;
// returns that entry's name and uid.
template <typename Match>
std::optional<std::pair<std::string, unsigned>> passwd_find(std::string_view passwd, Match match) {
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
        if (id && *id <= 0xFFFFFFFFLL && match(f[0], static_cast<unsigned>(*id))) {
            return std::make_pair(std::string(f[0]), static_cast<unsigned>(*id));
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> passwd_name(std::string_view passwd, unsigned uid) {
    auto e = passwd_find(passwd, [&](std::string_view, unsigned id) { return id == uid; });
    return e ? std::optional<std::string>(e->first) : std::nullopt;
}

std::optional<unsigned> passwd_uid(std::string_view passwd, std::string_view name) {
    auto e = passwd_find(passwd, [&](std::string_view n, unsigned) { return n == name; });
    return e ? std::optional<unsigned>(e->second) : std::nullopt;
}

}  // namespace diag::util
