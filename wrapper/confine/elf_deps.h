// SPDX-License-Identifier: Apache-2.0
// The shared objects the dynamic loader will map for an executable: DT_NEEDED walked recursively,
// each name searched as the loader searches it (DT_RPATH or DT_RUNPATH with $ORIGIN, then the
// system directories). The filter ruleset grants exactly these files (landlock::build_filter).
// The files are parsed with bounds checks: a truncated or hostile ELF is an error, never a read
// out of bounds, and the walk is bounded in depth and breadth.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::elf_deps {

inline constexpr size_t kMaxLibraries = 256;
inline constexpr size_t kMaxDepth = 16;
inline constexpr size_t kMaxStringTable = 1 << 20;
inline constexpr size_t kMaxDynamicEntries = 4096;
inline constexpr size_t kMaxProgramHeaders = 256;

// What the loader reads from one ELF file.
struct Dynamic {
    unsigned machine = 0;     // e_machine: a library of another machine is skipped, as the loader does
    bool dynamic = false;     // has PT_DYNAMIC (false: static, nothing to load)
    std::string interpreter;  // PT_INTERP, empty when none
    std::vector<std::string> needed;
    std::vector<std::string> rpath;    // DT_RPATH, split at ':'
    std::vector<std::string> runpath;  // DT_RUNPATH, split at ':'
};

// Parses the ELF file open as `fd` (`name` for errors). Errors: kExecFailed "NAME: not a 64-bit
// native ELF file", "NAME: truncated or malformed ELF (...)".
[[nodiscard]] Result<Dynamic> read(int fd, const std::string& name);

// The directories the loader searches after DT_RUNPATH/DT_RPATH on this platform: the directory of
// the interpreter `interp` (resolved), then the multiarch and the plain library directories.
[[nodiscard]] std::vector<std::string> system_dirs(const std::string& interp);

// The shared objects the loader maps for the ELF executable `exe` (absolute paths as found, the
// interpreter not included), in the order they were found. A static executable has none.
// Errors: those of read(), kExecFailed "NAME: library LIB not found", and more than kMaxLibraries
// objects or a chain deeper than kMaxDepth.
[[nodiscard]] Result<std::vector<std::string>> libraries(const std::string& exe);

}  // namespace diag::elf_deps
