// SPDX-License-Identifier: Apache-2.0
// The mount table (/proc/self/mountinfo) and what it says about where a place is shown: the
// mount a path lookup ends in, and every other mount of the same file system that shows the same
// object (bind-mount aliases), for paths and for deny patterns. Reads /proc, nothing else.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::mountinfo {

inline constexpr size_t kMaxMountTableBytes = 256u << 20;  // /proc/self/mountinfo (~150 bytes a mount)

struct Mount {
    std::string dev;    // "major:minor"
    std::string root;   // path inside the filesystem
    std::string point;  // mount point
    std::string id;     // mount id, and the id of the mount it is mounted on
    std::string parent;
};

// The whole mount table of this process, in the kernel's order (octal escapes decoded). Errors:
// kPolicyInvalid when it cannot be read whole: a table cut short would hide bind mounts of
// denied paths (fail open), so the caller refuses.
// `raw`, when given, receives the table's bytes as read.
[[nodiscard]] Result<std::vector<Mount>> read_mounts(std::string* raw = nullptr);

// The mount's device number, 0 when its "major:minor" field does not parse.
[[nodiscard]] dev_t mount_device(const Mount& m);

// `path` lies within `from`; returns the same relative location under `to`.
[[nodiscard]] std::string rebase(const std::string& path, const std::string& from, const std::string& to);

// Bind-mount aliases of an existing canonical path (docs/confinement.md §2, step 2): the same object
// seen through every other mount of the same filesystem, or the whole of a mount that shows a
// place inside it.
[[nodiscard]] std::vector<std::string> mount_aliases(const std::string& path, const std::vector<Mount>& mounts);

// Where else the places `pattern` (canonical, globs allowed within components) names are shown:
// for every mount whose point matches a prefix of the pattern, the rest of the pattern under
// every other mount of the same file system that shows that place, or the whole of a mount that
// shows a place inside a match. For patterns the expansion could not see: it has no paths to ask
// mount_aliases about. Hidden (over-mounted) mounts count too: more is denied, never less.
[[nodiscard]] std::vector<std::string> pattern_aliases(const std::string& pattern, const std::vector<Mount>& mounts);

}  // namespace diag::mountinfo
