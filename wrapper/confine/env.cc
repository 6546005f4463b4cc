// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/env.h"

namespace diag::env {

std::vector<std::string> build(const std::vector<std::string>& search_path) {
    std::string path = "PATH=";
    for (size_t i = 0; i < search_path.size(); ++i) {
        path += (i ? ":" : "") + search_path[i];
    }
    return {
        path,
        "LANG=C.UTF-8",
        "LC_ALL=C.UTF-8",
        "TZ=UTC",
        std::string("HOME=") + kHome,
        "TERM=dumb",
        // Pagers: every tool that might start one gets cat or nothing, and less is told to be safe
        // should anything still reach it.
        "PAGER=cat",
        "MANPAGER=cat",
        "SYSTEMD_PAGER=",
        "SYSTEMD_PAGERSECURE=1",
        "SYSTEMD_COLORS=0",
        "SYSTEMD_URLIFY=0",
        "LESSSECURE=1",
        "NO_COLOR=1",
    };
}

}  // namespace diag::env
