// SPDX-License-Identifier: Apache-2.0
// ELF dependency fuzzer: any bytes, as a file, parsed by elf_deps::read. It returns an error or a
// result, never reads out of bounds (the sanitizers watch), and what it returns is bounded.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "wrapper/confine/elf_deps.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const int fd = ::memfd_create("elf", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (::write(fd, data, size) == static_cast<ssize_t>(size)) {
        auto d = diag::elf_deps::read(fd, "input");
        if (d.ok() && (d->needed.size() > diag::elf_deps::kMaxDynamicEntries || d->interpreter.size() > 4096)) {
            std::abort();
        }
    }
    ::close(fd);
    return 0;
}
