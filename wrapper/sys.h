// SPDX-License-Identifier: Apache-2.0
// Thin syscall wrappers: the one place that touches the kernel for file identity and ownership, so
// every stage reports failures the same way ("call(args): strerror").
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "wrapper/error.h"

namespace diag::sys {

// Owns one file descriptor.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept;
    ~UniqueFd();

    [[nodiscard]] int get() const { return fd_; }
    [[nodiscard]] bool valid() const { return fd_ >= 0; }
    int release();

  private:
    int fd_ = -1;
};

// fstat() on an fd; error code `code` on failure.
[[nodiscard]] Result<struct stat> fstat_fd(int fd, const std::string& what, ErrorCode code);

// A whole small file (/proc, /etc/machine-id), or nullopt when it cannot be read or is larger
// than `max` bytes: never a silent prefix. No iostreams: every request starts a new process, and
// they cost more than the read.
[[nodiscard]] std::optional<std::string> read_small_file(const std::string& path, size_t max);

// Reads a whole regular file from an fd opened for reading, up to `max` bytes.
[[nodiscard]] Result<std::string> read_all(int fd, const std::string& what, size_t max);

// Refuses `st` unless it is owned by `owner` and not writable by group or other. Directories with
// the sticky bit may be group/other-writable (/tmp, /nix/store): nobody can replace a root-owned
// entry in them.
[[nodiscard]] Status check_trusted(const struct stat& st, const std::string& what, uid_t owner, ErrorCode code);

// Opens `path` (absolute, canonical: no symlinks) with `flags` | O_NOFOLLOW | O_CLOEXEC after checking
// that every ancestor directory passes check_trusted(), then checks the opened object itself. A
// symlink swapped in after canonicalization fails with ELOOP: fail closed.
[[nodiscard]] Result<UniqueFd> open_trusted(const std::string& path, int flags, uid_t owner, ErrorCode code);

// The one line the client sees from the wrapper: "diag-wrapper: LINE\n" on stderr, one write(2).
void say(const std::string& line);

// realpath(3) as a Result.
[[nodiscard]] Result<std::string> real_path(const std::string& path, ErrorCode code);

}  // namespace diag::sys
