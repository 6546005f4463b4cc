// SPDX-License-Identifier: Apache-2.0
// Executable pinning: a command's program -> the (path, st_dev, st_ino) of the file that will run,
// reached only through root-owned directories that nobody else can write.
#pragma once

#include <string>
#include <vector>

#include "wrapper/policy/model.h"

namespace diag::policy_loader {

// Finds the executable for `c` through `search_path` and pins it (exe_path, dev, ino), or sets
// c.unavailable. Called only for the command about to run (and for all of them by --check and
// help): the loader itself does not touch executables.
void pin(policy::Command& c, const std::vector<std::string>& search_path);

}  // namespace diag::policy_loader
