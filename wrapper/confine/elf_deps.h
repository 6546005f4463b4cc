// SPDX-License-Identifier: Apache-2.0
// The shared objects the dynamic loader will map for an executable: DT_NEEDED walked recursively,
// each name searched as the loader searches it (DT_RPATH or DT_RUNPATH with $ORIGIN, then the
// system directories). The filter ruleset grants exactly these files (landlock::build_filter).
// The files are parsed with bounds checks: a truncated or hostile ELF is an error, never a read
// out of bounds, and the walk is bounded in depth and breadth.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"

namespace diag::elf_deps {

inline constexpr size_t kMaxLibraries = 256;
inline constexpr size_t kMaxDepth = 16;
inline constexpr size_t kMaxStringTable = 1 << 20;
inline constexpr size_t kStringWindow = 4096;  // read past the last string's offset at first
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
// The same for a file whose fstat is `st` already.
[[nodiscard]] Result<Dynamic> read(int fd, const std::string& name, const struct stat& st);

// The directories the loader searches after DT_RUNPATH/DT_RPATH on this platform: the directory of
// the interpreter, whose real path is `interp_real` (empty: unknown, left out), then the multiarch
// and the plain library directories.
[[nodiscard]] std::vector<std::string> system_dirs(const std::string& interp_real);

// A shared object the loader maps: the path it was found at, open as the object that was parsed
// (real_open: O_RDONLY), its real path as opened and its fstat. The ruleset checks and grants
// this object.
struct Library {
    std::string path;
    sys::UniqueFd fd;
    std::string real;
    struct stat st {};  // fstat of fd
};

// The shared objects the loader maps for the ELF executable `exe`, parsed as `exe_dyn` (the
// interpreter not included; its real path `interp_real` is where the system search starts), in the
// order they were found, each open. A static executable has none. Errors: those of read() and
// real_open::open, kExecFailed "NAME: library LIB not found", and more than kMaxLibraries objects
// or a chain deeper than kMaxDepth.
[[nodiscard]] Result<std::vector<Library>> libraries(const Dynamic& exe_dyn, const std::string& exe,
                                                     const std::string& interp_real);

// The same for the file `exe`, opened by name, as paths (the interpreter resolved by real_open).
[[nodiscard]] Result<std::vector<std::string>> libraries(const std::string& exe);

}  // namespace diag::elf_deps
