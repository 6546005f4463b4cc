// SPDX-License-Identifier: Apache-2.0
// Resource limits for the child (docs/confinement.md §7): no core dumps, no file growth, bounded CPU,
// files, processes and heap. Not RLIMIT_AS: journalctl maps whole journal files.
#pragma once

#include <cstdint>

namespace diag::rlimits {

inline constexpr uint64_t kNoFile = 1024;      // journalctl keeps one fd per journal file
inline constexpr uint64_t kNProc = 512;        // per uid, counts every diag process on the host
inline constexpr uint64_t kData = 2ULL << 30;  // heap and private writable mappings

// Applies every limit in the child. `cpu_seconds` bounds CPU time (the wall-clock timeout is the
// supervisor's). Returns 0 or the errno of the failing setrlimit.
[[nodiscard]] int apply(uint64_t cpu_seconds);

}  // namespace diag::rlimits
