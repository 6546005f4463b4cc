// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/passwd.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "wrapper/base/parse.h"

namespace diag::util {

namespace {

struct Found {
    std::string name;
    unsigned uid = 0;
    std::optional<unsigned> gid;  // none when it is decimal but wider than 32 bits
};

// The colon-separated fields of one line.
std::vector<std::string_view> colon_fields(std::string_view line) {
    std::vector<std::string_view> f;
    for (size_t start = 0;;) {
        const size_t colon = line.find(':', start);
        f.push_back(line.substr(start, colon == std::string_view::npos ? colon : colon - start));
        if (colon == std::string_view::npos) {
            return f;
        }
        start = colon + 1;
    }
}

// Each line of passwd(5) or group(5) text that glibc's files source reads (leading blanks
// ignored; blank, comment and NIS compat lines skipped), in order, until `each` returns true.
template <typename Each>
void each_line(std::string_view text, Each each) {
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
        if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') {
            continue;  // + and -: NIS compat, never a local answer
        }
        if (each(line)) {
            return;
        }
    }
}

// A decimal id of at most 32 bits.
std::optional<unsigned> id_field(std::string_view f) {
    if (f.empty() || f.size() > 10 || f.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto id = parse_int(f);
    return id && *id <= 0xFFFFFFFFLL ? std::optional<unsigned>(static_cast<unsigned>(*id)) : std::nullopt;
}

// Calls `match(name, uid)` for each well-formed passwd(5) entry, in order, until it returns true;
// returns that entry's name, uid and gid.
template <typename Match>
std::optional<Found> passwd_find(std::string_view passwd, Match match) {
    std::optional<Found> out;
    each_line(passwd, [&](std::string_view line) {
        // name:password:uid:gid:gecos:home:shell, all seven, uid and gid decimal.
        const auto f = colon_fields(line);
        if (f.size() != 7 || f[0].empty()) {
            return false;
        }
        // The gid only has to be decimal (ten digits at most) for the entry to count.
        const bool gid_decimal =
            !f[3].empty() && f[3].size() <= 10 && f[3].find_first_not_of("0123456789") == std::string_view::npos;
        const auto uid = id_field(f[2]);
        if (uid && gid_decimal && match(f[0], *uid)) {
            out = Found{std::string(f[0]), *uid, id_field(f[3])};
            return true;
        }
        return false;
    });
    return out;
}

}  // namespace

std::optional<std::string> passwd_name(std::string_view passwd, unsigned uid) {
    auto e = passwd_find(passwd, [&](std::string_view, unsigned id) { return id == uid; });
    return e ? std::optional<std::string>(e->name) : std::nullopt;
}

std::optional<unsigned> passwd_uid(std::string_view passwd, std::string_view name) {
    auto e = passwd_find(passwd, [&](std::string_view n, unsigned) { return n == name; });
    return e ? std::optional<unsigned>(e->uid) : std::nullopt;
}

std::optional<std::pair<unsigned, unsigned>> passwd_ids(std::string_view passwd, std::string_view name) {
    auto e = passwd_find(passwd, [&](std::string_view n, unsigned) { return n == name; });
    return e && e->gid ? std::optional<std::pair<unsigned, unsigned>>({e->uid, *e->gid}) : std::nullopt;
}

std::vector<unsigned> member_gids(std::string_view group, std::string_view name) {
    std::vector<unsigned> out;
    each_line(group, [&](std::string_view line) {
        // name:password:gid:member,member,...
        const auto f = colon_fields(line);
        const auto gid = f.size() == 4 ? id_field(f[2]) : std::nullopt;
        if (!gid) {
            return false;
        }
        for (std::string_view members = f[3]; !members.empty();) {
            const size_t comma = members.find(',');
            if (members.substr(0, comma) == name) {
                out.push_back(*gid);
                break;
            }
            members = comma == std::string_view::npos ? std::string_view() : members.substr(comma + 1);
        }
        return false;
    });
    return out;
}

}  // namespace diag::util
