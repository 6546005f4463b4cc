// SPDX-License-Identifier: Apache-2.0
// Who could swap a path (see replaceable.h): the owner and write bits of every directory on the
// way, read through fds so the walk cannot itself be sent elsewhere.
#include "wrapper/request/replaceable.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"

namespace diag::path_resolve {

namespace {

// FUSE (not in every linux/magic.h): owners and modes are whatever its mounter says.
constexpr long kFuseSuperMagic = 0x65735546;

// Whether some user other than root could replace the name `c` (stat `cst`) in directory `d`
// (stat `dst`, on a file system of type `fstype`) after we checked it: the directory's owner
// can (rename, or chmod and rename), and so can anyone with write access to it (group and other
// write bits; a POSIX ACL granting write shows in the group bits as its mask) unless the sticky
// bit protects an entry that is root's. Read-only mounts do not count: the same directory may be
// writable through another mount.
std::optional<std::string> replaceable_by(const struct stat& dst, const struct stat& cst, long fstype) {
    if (fstype == kFuseSuperMagic) {
        return "is on a FUSE file system, whose owners and modes its mounter decides";
    }
    if (dst.st_uid != 0) {
        return "is in a directory owned by uid " + std::to_string(dst.st_uid) + ", who can rename it";
    }
    const bool sticky = (dst.st_mode & S_ISVTX) != 0;
    if ((dst.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (!sticky || cst.st_uid != 0)) {
        return sticky ? "belongs to uid " + std::to_string(cst.st_uid) + " in a directory others can write"
                      : std::string("is in a directory others can write");
    }
    return std::nullopt;
}

// Names on procfs, sysfs and cgroupfs are the kernel's: nothing below can be renamed.
bool kernel_names(long fstype) {
    return fstype == PROC_SUPER_MAGIC || fstype == SYSFS_MAGIC || fstype == CGROUP2_SUPER_MAGIC ||
           fstype == CGROUP_SUPER_MAGIC;
}

}  // namespace

std::optional<std::string> entry_replaceable(int dir_fd, const struct stat& dir, const struct stat& entry) {
    struct statfs sfs {};
    if (::fstatfs(dir_fd, &sfs) != 0) {
        return "cannot be examined";
    }
    const auto fstype = static_cast<long>(sfs.f_type);
    return kernel_names(fstype) ? std::nullopt : replaceable_by(dir, entry, fstype);
}

// The first component of `canonical` that a user other than root could replace before the
// child looks the path up again by name (replaceable_by), with the reason; nullopt when only
// root could. Components that are not directories (any more) end the walk as replaceable.
using Why = std::optional<std::string>;
Result<Why> replaceable_component(const std::string& canonical) {
    sys::UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat dst {};
    if (!dir.valid() || ::fstat(dir.get(), &dst) != 0) {
        return Why("/ cannot be examined");
    }
    const auto comps = util::split_path(canonical);
    std::string here;
    for (size_t i = 0; i < comps.size(); ++i) {
        DIAG_TRY(deadline::check("checking who could swap a path argument"));
        // Names on procfs, sysfs and cgroupfs are the kernel's: nothing below can be renamed
        // (/proc/self stays a symlink on purpose, path_resolve keeps it literal).
        struct statfs sfs {};
        if (::fstatfs(dir.get(), &sfs) != 0) {
            return Why((here.empty() ? "/" : here) + " cannot be examined");
        }
        const auto fstype = static_cast<long>(sfs.f_type);
        if (kernel_names(fstype)) {
            return Why();
        }
        here += "/" + comps[i];
        struct stat cst {};
        if (::fstatat(dir.get(), comps[i].c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0) {
            return Why(here + " changed while it was checked");
        }
        if (auto why = replaceable_by(dst, cst, fstype)) {
            return Why(here + " " + *why);
        }
        if (i + 1 == comps.size()) {
            break;
        }
        sys::UniqueFd next(::openat(dir.get(), comps[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid() || ::fstat(next.get(), &dst) != 0) {
            return Why(here + " changed while it was checked");
        }
        dir = std::move(next);
    }
    return Why();
}

}  // namespace diag::path_resolve
