// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/rlimits.h"

#include <sys/resource.h>

#include <cerrno>

namespace diag::rlimits {

int apply(uint64_t cpu_seconds) {
    struct Limit {
        int resource;
        rlim_t value;
    };
    const Limit limits[] = {
        {RLIMIT_CORE, 0},   // no core files: a dump of a tool's memory could hold what it read
        {RLIMIT_FSIZE, 0},  // no file may grow (seccomp/Landlock stop the open; this stops the rest)
        {RLIMIT_CPU, static_cast<rlim_t>(cpu_seconds)},
        {RLIMIT_NOFILE, kNoFile},
        {RLIMIT_NPROC, kNProc},
#if !defined(__SANITIZE_ADDRESS__)
        // (Not in AddressSanitizer builds: its shadow mappings count as data and the child would
        // fail between fork and exec. Production builds always set it.)
        {RLIMIT_DATA, kData},
#endif
        {RLIMIT_MEMLOCK, 0},
        {RLIMIT_MSGQUEUE, 0},
        {RLIMIT_RTPRIO, 0},
    };
    for (const auto& l : limits) {
        rlimit cur{};
        if (getrlimit(l.resource, &cur) != 0) {
            return errno;
        }
        // Only ever lower a limit: raising a hard limit needs privilege and is never our business.
        const rlim_t hard = cur.rlim_max == RLIM_INFINITY || l.value < cur.rlim_max ? l.value : cur.rlim_max;
        const rlimit next{hard, hard};
        if (setrlimit(l.resource, &next) != 0) {
            return errno;
        }
    }
    return 0;
}

}  // namespace diag::rlimits
