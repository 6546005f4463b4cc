// SPDX-License-Identifier: Apache-2.0
// Who could swap a path: whether a user other than root could replace a component of a
// canonical path between the check of an argument and the child's own lookup of it by name.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "wrapper/base/error.h"

namespace diag::path_resolve {

// The first component of `canonical` that a user other than root could replace before the
// child looks the path up again by name, with the reason ("/srv/x is in a directory owned by uid
// 1000, who can rename it"); nullopt when only root could. A component that cannot be examined,
// or is not a directory (any more) where one was walked, is reported as replaceable. Names on
// procfs, sysfs and cgroupfs are the kernel's and never replaceable. Errors: decision-timeout.
[[nodiscard]] Result<std::optional<std::string>> replaceable_component(const std::string& canonical);

// Whether a user other than root could replace the entry (stat `entry`) of the directory open as
// `dir_fd` (stat `dir`): its reason, as replaceable_component() words it after the entry's path.
[[nodiscard]] std::optional<std::string> entry_replaceable(int dir_fd, const struct stat& dir,
                                                           const struct stat& entry);

}  // namespace diag::path_resolve
