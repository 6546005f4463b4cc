// SPDX-License-Identifier: Apache-2.0
// seccomp (libseccomp), the last step before execveat: no write-type syscalls, no open for
// writing, no mount/ptrace/bpf/keyring/namespace calls, sockets limited by family, foreign ABIs
// killed. Denials return an errno (tools fail politely) and are logged by the kernel audit.
// adr/0007-seccomp.md gives the reason for every group.
#pragma once

#include <seccomp.h>

#include <memory>

#include "wrapper/error.h"

namespace diag::seccomp {

struct Options {
    bool network = false;  // AF_INET/AF_INET6 sockets (e.g. getent's DNS); TCP still stopped by Landlock
    int exec_fd = -1;      // the one fd execveat may run (with AT_EMPTY_PATH); execve is refused
};

struct FilterDeleter {
    void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

struct Filters {
    Filter compat;  // silent: ENOSYS for openat2, clone3, io_uring_* and unknown future syscalls
    Filter policy;  // logged: EPERM/EACCES/EAFNOSUPPORT for everything that writes or escapes
};

// Builds both filters in the parent. Errors: kExecFailed naming the libseccomp call.
[[nodiscard]] Result<Filters> build(const Options& opts);

// In the child, last before execveat: loads compat then policy. Returns 0 or an errno.
[[nodiscard]] int load(const Filters& f);

}  // namespace diag::seccomp
