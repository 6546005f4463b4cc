// SPDX-License-Identifier: Apache-2.0
// Which processes are alive: what the tests that check "nothing survives" look for.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "wrapper/base/sys.h"

namespace diag::testing {

// Every live process whose argv contains `token` (zombies have an empty cmdline). A process may
// exit while we read it (ESRCH): read_small_file then says nullopt, and it is skipped.
inline std::vector<pid_t> pids_with(const std::string& token) {
    std::vector<pid_t> out;
    if (token.empty()) {
        return out;
    }
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        const auto cmdline = sys::read_small_file("/proc/" + name + "/cmdline", 1 << 20);
        if (cmdline && cmdline->find(token) != std::string::npos) {
            out.push_back(static_cast<pid_t>(std::stol(name)));
        }
    }
    return out;
}

}  // namespace diag::testing
