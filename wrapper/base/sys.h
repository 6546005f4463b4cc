// SPDX-License-Identifier: Apache-2.0
// Thin syscall wrappers: the one place that touches the kernel for file identity and ownership, so
// every stage reports failures the same way ("call(args): strerror").
#pragma once

#include <sys/stat.h>

#include <csignal>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "wrapper/base/error.h"

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

// Puts fds in non-blocking mode for the guard's lifetime and then restores the file status
// flags each had. All flags are read before any is changed, and restored in reverse order, so two
// fds that share one open file description (stdout and stderr on one pipe) get back what they had.
// An fd whose flags cannot be read (closed) is left alone: writing to it fails at once anyway.
class NonBlocking {
  public:
    explicit NonBlocking(std::initializer_list<int> fds);
    NonBlocking(const NonBlocking&) = delete;
    NonBlocking& operator=(const NonBlocking&) = delete;
    ~NonBlocking();

  private:
    static constexpr size_t kMaxFds = 2;
    int fd_[kMaxFds] = {-1, -1};
    int flags_[kMaxFds] = {0, 0};
    size_t n_ = 0;
};

// Writes all of `data` to `fd`, waiting at most `millis` in all for a reader that does not keep
// up (the fd is non-blocking meanwhile, its flags restored after). False when the bound passed or
// the fd refused the data (the reader hung up): the rest is dropped.
[[nodiscard]] bool write_within(int fd, std::string_view data, int millis);

// How long say() waits for a client that does not read before it drops the line.
inline constexpr int kSayMillis = 100;

// The one line the client sees from the wrapper: "diag-wrapper: LINE\n" on stderr. It never
// waits more than kSayMillis for a client that has stopped reading (the line is dropped then: the
// audit record has the outcome). Once hold_terminating_signals() has run, a client that hung up
// costs an EPIPE, not the process.
void say(const std::string& line);

// The signals that end a process from outside: SIGHUP when its session or terminal goes away,
// SIGTERM, SIGINT and SIGQUIT from an operator, a terminal or a service manager.
inline constexpr int kTerminatingSignals[] = {SIGHUP, SIGTERM, SIGINT, SIGQUIT};

// For the rest of the process: SIGPIPE is ignored (a write to a client that hung up fails with
// EPIPE) and every asynchronous signal is blocked (kTerminatingSignals among them), so nothing
// but SIGKILL ends the wrapper before it has written its end record (SIGSTOP can still pause it); the supervisor sees
// them on its signalfd (which also reports those already pending) and ends the command. Children reset both before exec
// (exec::reset_signals). Errors: kInternal (sigaction/sigprocmask).
[[nodiscard]] Status hold_terminating_signals();

// realpath(3) as a Result.
[[nodiscard]] Result<std::string> real_path(const std::string& path, ErrorCode code);

}  // namespace diag::sys
