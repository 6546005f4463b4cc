// SPDX-License-Identifier: Apache-2.0
// The survey of a tree's denied paths and the per-program rewrites that skip them (tree_prune.h).
#include "wrapper/request/tree_prune.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/policy/deny_match.h"
#include "wrapper/request/replaceable.h"

namespace diag::tree_prune {

namespace {

using policy::Deny;

std::string q(const std::string& s) { return "'" + text_safety::printable(s, 400) + "'"; }

std::string child_of(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

bool simple_matches(const std::string& pattern, const std::string& name) {
    if (pattern[0] != '*') {
        return name == pattern;
    }
    const std::string tail = pattern.substr(1);
    return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
}

// The deny entries that lie strictly below `canonical`: their first components match its own.
void patterns_below(const Deny& deny, const std::string& canonical, Survey& out) {
    const auto top = util::split_path(canonical);
    for (const auto& e : deny.entries) {
        const auto comps = util::split_path(e.pattern);
        if (comps.size() <= top.size()) {
            continue;
        }
        bool below = true;
        for (size_t i = 0; i < top.size() && below; ++i) {
            below = ::fnmatch(comps[i].c_str(), top[i].c_str(), 0) == 0;
        }
        if (!below || std::find(out.patterns.begin(), out.patterns.end(), e.pattern) != out.patterns.end()) {
            continue;
        }
        out.patterns.push_back(e.pattern);
        if (deny_list::is_pseudo_fs_path(util::glob_unescape(e.pattern))) {
            out.pseudo_patterns.push_back(e.pattern);
        }
    }
}

// The walk of the directories on the way to the deny entries below one tree.
class Surveyor {
  public:
    Surveyor(const Deny& deny, const DirFilter& filter, bool need_fixed_parts, size_t& budget, Survey& out)
        : deny_(deny), filter_(filter), need_fixed_(need_fixed_parts), budget_(budget), out_(out) {}

    // Lists the directory open as `fd` (O_RDONLY), known as `path`, stat `dst`.
    Status dir(int fd, const std::string& path, const struct stat& dst) {
        const deny_list::DenyScope scope(deny_, path);
        DIAG_TRY_ASSIGN(const std::vector<std::string> names, list(fd, path));
        for (const auto& name : names) {
            DIAG_TRY(entry(fd, path, dst, scope, name));
        }
        return ok_status();
    }

  private:
    Result<std::vector<std::string>> list(int fd, const std::string& path) {
        const int listfd = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR* d = listfd < 0 ? nullptr : ::fdopendir(listfd);
        if (d == nullptr) {
            const int err = errno;
            if (listfd >= 0) {
                ::close(listfd);
            }
            return deny("path-tree-denied", q(path) + " cannot be listed (" + std::strerror(err) +
                                                "), so the denied paths below it cannot be found");
        }
        std::vector<std::string> names;
        Status st = ok_status();
        errno = 0;
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") {
                continue;
            }
            if (budget_ == 0) {
                st = deny("path-tree-denied", "more than " + std::to_string(kMaxSurveyEntries) +
                                                  " entries lie on the way to the denied paths of this request's trees "
                                                  "(name directories further down)");
                break;
            }
            --budget_;
            names.push_back(name);
        }
        if (st.ok() && errno != 0) {
            st = deny("path-tree-denied", q(path) + " could not be listed whole (" + std::strerror(errno) + ")");
        }
        ::closedir(d);
        DIAG_TRY(st);
        std::sort(names.begin(), names.end());
        return names;
    }

    Status entry(int fd, const std::string& path, const struct stat& dst, const deny_list::DenyScope& scope,
                 const std::string& name) {
        DIAG_TRY(deadline::check("finding the denied paths below a tree"));
        const std::string here = child_of(path, name);
        if (scope.denied(name) != nullptr) {
            out_.skipped.push_back(here);
            return ok_status();
        }
        struct stat st {};
        if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                return ok_status();  // gone since it was listed
            }
            return deny("path-tree-denied", q(here) + " cannot be examined (" + std::strerror(errno) + ")");
        }
        const bool is_dir = S_ISDIR(st.st_mode);
        if (is_dir && deny_.objects.count({st.st_dev, st.st_ino}) != 0) {
            out_.skipped.push_back(here);  // a denied directory under another name: a bind mount
            return ok_status();
        }
        if (!is_dir && !S_ISREG(st.st_mode)) {
            return ok_status();  // symlinks, devices, fifos, sockets: grep -r passes over them too
        }
        if (need_fixed_) {
            if (auto why = path_resolve::entry_replaceable(fd, dst, st)) {
                return deny("path-replaceable",
                            q(here) + " " + *why + ", so it could be swapped for a symlink that grep would follow");
            }
        }
        if (!is_dir || scope.below(name) == nullptr) {
            out_.parts.push_back(here);
            return ok_status();
        }
        if (deny_list::is_pseudo_fs_path(here) || excludes(filter_, name)) {
            return ok_status();  // /proc and /sys go by pattern; an excluded directory grep skips
        }
        return descend(fd, here, name, st);
    }

    Status descend(int fd, const std::string& here, const std::string& name, const struct stat& st) {
        sys::UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        struct stat sst {};
        if (!sub.valid()) {
            const int err = errno;
            if (err == EACCES && st.st_uid == 0) {
                // Closed to us, and only root could open it: the program cannot enter it either.
                out_.parts.push_back(here);
                return ok_status();
            }
            if (err == EACCES) {
                out_.closed.push_back(here);  // its owner could open it while the program runs
                return ok_status();
            }
            return deny("path-tree-denied", q(here) + " cannot be opened (" + std::strerror(err) +
                                                "), so the denied paths below it cannot be found");
        }
        if (::fstat(sub.get(), &sst) != 0 || sst.st_dev != st.st_dev || sst.st_ino != st.st_ino) {
            return deny("path-tree-denied", q(here) + " changed while the denied paths below it were found");
        }
        return dir(sub.get(), here, sst);
    }

    const Deny& deny_;
    const DirFilter& filter_;
    bool need_fixed_;
    size_t& budget_;
    Survey& out_;
};

}  // namespace

bool simple_pattern(const std::string& p) {
    if (p.empty()) {
        return false;
    }
    const std::string tail = p[0] == '*' ? p.substr(1) : p;
    return tail.find_first_of("*?[]\\/") == std::string::npos;
}

bool excludes(const DirFilter& f, const std::string& name) {
    return std::any_of(f.exclude_dir.begin(), f.exclude_dir.end(),
                       [&](const std::string& p) { return simple_pattern(p) && simple_matches(p, name); });
}

Result<Survey> survey(const Deny& deny, int top, const std::string& canonical, const DirFilter& filter,
                      bool need_fixed_parts, size_t& budget) {
    Survey out;
    patterns_below(deny, canonical, out);
    sys::UniqueFd dir(::openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    if (!dir.valid() || ::fstat(dir.get(), &st) != 0) {
        return diag::deny("path-tree-denied", q(canonical) + " cannot be listed (" + std::strerror(errno) +
                                                  "), so the denied paths below it cannot be found");
    }
    Surveyor s(deny, filter, need_fixed_parts, budget, out);
    DIAG_TRY(s.dir(dir.get(), canonical, st));
    return out;
}

}  // namespace diag::tree_prune
