// SPDX-License-Identifier: Apache-2.0
// seccomp (libseccomp), the last step before execveat: no write-type syscalls, no open for
// writing, no mount/ptrace/bpf/keyring/namespace calls, sockets limited by family, foreign ABIs
// killed. Denials return an errno (tools fail politely) and are logged by the kernel audit.
// adr/0007-seccomp.md gives the reason for every group.
#pragma once

#include <linux/filter.h>
#include <seccomp.h>

#include <memory>
#include <vector>

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

// One compiled filter: the BPF program libseccomp generated, and the seccomp(2) flags to load it with.
struct Program {
    std::vector<sock_filter> code;
    unsigned int flags = 0;
};

struct Filters {
    Program compat;  // silent: ENOSYS for openat2, clone3, io_uring_* and unknown future syscalls
    Program policy;  // logged: EPERM/EACCES/EAFNOSUPPORT for everything that writes or escapes
};

// Builds and compiles both filters in the parent. Errors: kExecFailed naming the libseccomp call.
[[nodiscard]] Result<Filters> build(const Options& opts);

// In the child, last before execveat: loads compat then policy with seccomp(2), nothing else (no
// allocation, no library state: the compiling was done by build()). The caller has set
// no_new_privs. Returns 0 or an errno.
[[nodiscard]] int load(const Filters& f);

}  // namespace diag::seccomp
