// SPDX-License-Identifier: Apache-2.0
// Opening a file that is about to be checked against the denylist and granted by Landlock: the
// object opened, and its real path as the kernel resolved that very open. The check and the rule
// then go on one fd; a name is never checked and then opened again.
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"

namespace diag::real_open {

struct Opened {
    sys::UniqueFd fd;  // invalid when the open failed: then `err` is its errno
    int err = 0;
    std::string real;  // the real path of `fd`: absolute, no symlink, no "." or ".." component
};

// True when `path` is absolute and has no empty, "." or ".." component: opened without following
// a symlink, it is the real path of what it opened.
[[nodiscard]] bool normalized(const std::string& path);

// Opens the absolute `path` with `flags` | O_CLOEXEC. A normalized path is first opened with
// openat2(RESOLVE_NO_SYMLINKS): the kernel then walked it without following a symlink, so `path` is
// the real path of the object opened, proven by the open itself. A path with a symlink (or a
// kernel without openat2) is opened as the loader would open it, and the object named as
// /proc/self/fd/N reads. A failed open is no error (`err`, for callers that try the next
// directory); a /proc that cannot name the object is. Errors: kExecFailed "landlock: cannot tell
// where PATH leads".
[[nodiscard]] Result<Opened> open(const std::string& path, int flags);

// The real path of the object open as `fd`, as /proc/self/fd/N reads (`path` names it in errors).
// Errors: kExecFailed "landlock: cannot tell where PATH leads".
[[nodiscard]] Result<std::string> path_of(int fd, const std::string& path);

}  // namespace diag::real_open
