// SPDX-License-Identifier: Apache-2.0
// Pins a command's executable (see pin.h). A program that is missing or untrusted makes the
// command unavailable, not the policy invalid: one policy serves NixOS and Debian.
#include "wrapper/policy/pin.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"

namespace diag::policy_loader {

namespace {

constexpr int kMaxExecSymlinks = 40;

struct Pinned {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
};

// The paths to try, in order: the program itself if absolute, else the program in each directory
// of the search path.
std::vector<std::string> candidates(const std::string& program, const std::vector<std::string>& search_path) {
    std::vector<std::string> out;
    if (program[0] == '/') {
        out.push_back(program);
    } else {
        for (const auto& dir : search_path) {
            out.push_back(dir + "/" + program);
        }
    }
    return out;
}

Error unavailable(std::string why) { return make_error(ErrorCode::kPolicyInvalid, std::move(why)); }

// Follows `cand` to an executable regular file, or says why it cannot be pinned.
Result<Pinned> follow_to_executable(const std::string& cand) {
    // Follow symlinks hop by hop: every directory that holds a hop must be trusted, or a
    // writable directory could point `cat` at /bin/sh.
    std::string p = cand;
    for (int hop = 0; hop <= kMaxExecSymlinks; ++hop) {
        const size_t slash = p.rfind('/');
        const std::string parent = slash == 0 ? "/" : p.substr(0, slash);
        const std::string base = p.substr(slash + 1);
        auto real_parent = sys::real_path(parent, ErrorCode::kPolicyInvalid);
        if (!real_parent.ok()) {
            return unavailable(real_parent.error().msg);
        }
        auto dirfd = sys::open_trusted(*real_parent, O_PATH | O_DIRECTORY, 0, ErrorCode::kPolicyInvalid);
        if (!dirfd.ok()) {
            return unavailable(dirfd.error().msg);
        }
        const std::string joined = (*real_parent == "/" ? "" : *real_parent) + "/" + base;
        // The entry itself, opened below the trusted directory without following it: a symlink is
        // followed by hand (next hop), anything else is what gets pinned, its identity that of
        // the object opened.
        sys::UniqueFd fd(::openat(dirfd->get(), base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        struct stat st {};
        if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
            return unavailable(joined + ": " + std::strerror(errno));
        }
        if (S_ISLNK(st.st_mode)) {
            char buf[PATH_MAX];
            const ssize_t n = ::readlinkat(dirfd->get(), base.c_str(), buf, sizeof buf - 1);
            if (n < 0) {
                return unavailable(joined + ": readlink: " + std::strerror(errno));
            }
            const std::string target(buf, static_cast<size_t>(n));
            p = target[0] == '/' ? target : (*real_parent == "/" ? "" : *real_parent) + "/" + target;
            if (hop == kMaxExecSymlinks) {
                return unavailable(cand + ": too many symlinks");
            }
            continue;
        }
        // Its directories were checked on the way to dirfd (open_trusted); the file itself here.
        if (auto trusted = sys::check_trusted(st, joined, 0, ErrorCode::kPolicyInvalid); !trusted.ok()) {
            return unavailable(trusted.error().msg);
        }
        if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
            return unavailable(joined + ": not an executable regular file");
        }
        return Pinned{joined, st.st_dev, st.st_ino};
    }
    return unavailable({});
}

// A rule with destinations runs only where Landlock can hold its TCP to their ports (ABI 4,
// landlock::kNetAbi; the ABI query of landlock.h, which the policy folder does not link): on an
// older kernel it is listed unavailable, and confinement::build refuses it should it get that far.
std::string network_unconfinable(const policy::Command& c) {
    if (c.connect.empty()) {
        return {};
    }
    const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U /* LANDLOCK_CREATE_RULESET_VERSION */);
    if (abi >= 4) {
        return {};
    }
    return "its network destinations need Landlock ABI 4 (TCP rules); this kernel has " +
           std::to_string(abi < 0 ? 0 : abi);
}

}  // namespace

void pin(policy::Command& c, const std::vector<std::string>& search_path) {
    for (const auto& cand : candidates(c.program, search_path)) {
        struct stat lst {};
        if (::lstat(cand.c_str(), &lst) != 0) {
            continue;
        }
        auto pinned = follow_to_executable(cand);
        if (!pinned.ok()) {
            c.unavailable = pinned.error().msg.empty() ? cand + ": cannot be resolved" : pinned.error().msg;
            return;  // the first candidate that exists decides; never fall through to a later directory
        }
        c.exe_path = pinned->path;
        c.exe_dev = pinned->dev;
        c.exe_ino = pinned->ino;
        c.unavailable = network_unconfinable(c);
        return;
    }
    c.unavailable = "'" + c.program + "' not found in the search path";
}

}  // namespace diag::policy_loader
