// SPDX-License-Identifier: Apache-2.0
// Parsing /proc/self/mountinfo and following bind mounts through it (see mountinfo.h).
#include "wrapper/base/mountinfo.h"

#include <fnmatch.h>
#include <sys/sysmacros.h>

#include <optional>
#include <string_view>

#include "wrapper/base/parse.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"

namespace diag::mountinfo {

namespace {

std::string decode_mountinfo(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const std::string oct = s.substr(i + 1, 3);
            if (oct.size() == 3 && oct.find_first_not_of("01234567") == std::string::npos) {
                out += static_cast<char>(std::stoi(oct, nullptr, 8));
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// The mount a path lookup of `path` ends in, as the kernel walks it: from the mount at "/", into
// the child mount on the shallowest directory of the path (a mount on /a hides an older one on
// /a/b), the most recent of those stacked on the same place, and so on down. Falls back to the
// longest mount point containing the path when the parent links do not make a tree.
const Mount* visible_mount(const std::string& path, const std::vector<Mount>& mounts) {
    const Mount* cur = nullptr;
    for (const auto& m : mounts) {
        // The root: the last mount on "/" whose parent is not a mount on "/" below it in the list.
        if (m.point == "/" && (cur == nullptr || m.parent == cur->id)) {
            cur = &m;
        }
    }
    for (size_t depth = 0; cur != nullptr && depth <= mounts.size(); ++depth) {
        const Mount* next = nullptr;
        for (const auto& m : mounts) {
            if (&m == cur || m.parent != cur->id || !util::path_within(path, m.point)) {
                continue;
            }
            if (next == nullptr || m.point.size() <= next->point.size()) {
                next = &m;  // shallowest; the later of equal ones
            }
        }
        if (next == nullptr) {
            return cur;
        }
        cur = next;
    }
    const Mount* home = nullptr;
    for (const auto& m : mounts) {
        if (util::path_within(path, m.point) && (home == nullptr || m.point.size() >= home->point.size())) {
            home = &m;
        }
    }
    return home;
}

}  // namespace

// The whole mount table or an error: a table cut short would hide bind mounts of denied paths
// (fail open), so a table that cannot be read whole refuses the request.
Result<std::vector<Mount>> read_mounts(std::string* raw) {
    std::vector<Mount> out;
    const auto table = sys::read_small_file("/proc/self/mountinfo", kMaxMountTableBytes);
    if (!table) {
        return make_error(ErrorCode::kPolicyInvalid,
                          "/proc/self/mountinfo: cannot be read whole (missing, or larger than " +
                              std::to_string(kMaxMountTableBytes) + " bytes)");
    }
    const std::string& text = *table;
    if (raw != nullptr) {
        *raw = text;
    }
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        // "id parent major:minor root mount-point options ..."
        const auto f = util::fields(std::string_view(text).substr(start, end - start));
        if (f.size() >= 5) {
            out.push_back({std::string(f[2]), decode_mountinfo(std::string(f[3])), decode_mountinfo(std::string(f[4])),
                           std::string(f[0]), std::string(f[1])});
        }
        start = end + 1;
    }
    return out;
}

dev_t mount_device(const Mount& m) {
    const size_t colon = m.dev.find(':');
    const auto major_no = util::parse_int(std::string_view(m.dev).substr(0, colon));
    const auto minor_no =
        colon == std::string::npos ? std::nullopt : util::parse_int(std::string_view(m.dev).substr(colon + 1));
    return major_no && minor_no ? makedev(static_cast<unsigned>(*major_no), static_cast<unsigned>(*minor_no)) : 0;
}

std::string rebase(const std::string& path, const std::string& from, const std::string& to) {
    // path is within `from`; returns the same relative location under `to`.
    std::string rest = path.substr(from == "/" ? 0 : from.size());
    if (to == "/") {
        return rest.empty() ? "/" : rest;
    }
    return to + rest;
}

std::vector<std::string> mount_aliases(const std::string& path, const std::vector<Mount>& mounts) {
    const Mount* home = visible_mount(path, mounts);
    std::vector<std::string> out;
    if (home == nullptr) {
        return out;
    }
    const std::string rel = rebase(path, home->point, home->root);
    for (const auto& m : mounts) {
        if (&m == home || m.dev != home->dev) {
            continue;
        }
        if (util::path_within(rel, m.root)) {
            out.push_back(rebase(rel, m.root, m.point));
        } else if (util::path_within(m.root, rel)) {
            out.push_back(m.point);  // the whole mount lies inside the denied object
        }
    }
    return out;
}

std::vector<std::string> pattern_aliases(const std::string& pattern, const std::vector<Mount>& mounts) {
    const auto comps = util::split_path(pattern);
    // True when the literal components `lit` match the pattern components `pat` one by one.
    auto matches = [](const std::vector<std::string>& pat, size_t pat_from, const std::vector<std::string>& lit,
                      size_t n) {
        for (size_t i = 0; i < n; ++i) {
            if (::fnmatch(pat[pat_from + i].c_str(), lit[i].c_str(), 0) != 0) {
                return false;
            }
        }
        return true;
    };
    std::vector<std::string> out;
    for (const auto& m : mounts) {
        const auto point = util::split_path(m.point);
        if (point.size() > comps.size() || !matches(comps, 0, point, point.size())) {
            continue;
        }
        // The pattern inside this file system: the mount's root (literal), then the rest.
        std::vector<std::string> rel;
        for (const auto& c : util::split_path(m.root)) {
            rel.push_back(util::glob_escape(c));
        }
        rel.insert(rel.end(), comps.begin() + static_cast<long>(point.size()), comps.end());
        for (const auto& h : mounts) {
            if (&h == &m || h.dev != m.dev) {
                continue;
            }
            const auto root = util::split_path(h.root);
            if (root.size() <= rel.size() && matches(rel, 0, root, root.size())) {
                std::string alias = util::glob_escape(h.point);
                for (size_t i = root.size(); i < rel.size(); ++i) {
                    alias += (alias == "/" ? "" : "/") + rel[i];
                }
                out.push_back(alias);
            } else if (root.size() > rel.size() && matches(rel, 0, root, rel.size())) {
                out.push_back(util::glob_escape(h.point));  // the whole mount shows a place inside a match
            }
        }
    }
    return out;
}

}  // namespace diag::mountinfo
