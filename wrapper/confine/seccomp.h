// SPDX-License-Identifier: Apache-2.0
// seccomp, the last step before execveat: no write-type syscalls, no open for writing, no
// mount/ptrace/bpf/keyring/namespace calls, sockets limited by family, foreign ABIs killed.
// Denials return an errno (tools fail politely) and are logged by the kernel audit.
// adr/0007-seccomp.md gives the reason for every group.
//
// The wrapper carries compiled programs only: the policy filter is compiled by libseccomp when
// the wrapper is built (seccomp_policy.cc, diag-seccomp-gen), the compat filter is written out
// in BPF here. Nothing is compiled per request.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <vector>

namespace diag::seccomp {

// The one fd execveat may run (with AT_EMPTY_PATH): exec::prepare puts the checked executable
// there, and the compiled policy filter refuses execveat of any other fd.
inline constexpr int kExecFd = 63;
// Only the policy filter logs: the kernel logs per the flags of the filter whose action wins.
inline constexpr unsigned int kPolicyFlags = SECCOMP_FILTER_FLAG_LOG;

// One compiled filter and the seccomp(2) flags to load it with.
struct Program {
    std::vector<sock_filter> code;
    unsigned int flags = 0;
};

struct Filters {
    Program compat;   // silent: ENOSYS for openat2, clone3, io_uring_* and unknown future syscalls
    Program policy;   // logged: EPERM/EACCES/EAFNOSUPPORT for everything that writes or escapes
    Program sockets;  // pipeline filters only (adr/0015): no socket at all; empty otherwise
    Program inet;     // network rules only (adr/0018): TCP, ICMP echo, UDP only without destinations
};

// The filters for a rule with or without network = true; `filter`: a pipeline filter, which reads
// only its stdin and gets no socket of any family either (a Unix socket would reach local
// services that no file system rule covers). A network rule's inet sockets are TCP (0 or
// IPPROTO_TCP: what Landlock's TCP rules see), ICMP echo, and UDP unless `tcp_only` (the request
// names TCP destinations, which are never names: no DNS); raw, SCTP, MPTCP and the rest: EACCES.
[[nodiscard]] Filters filters(bool network, bool filter = false, bool tcp_only = false);

// In the child, last before execveat: loads compat then policy with seccomp(2), nothing else (no
// allocation, no library). The caller has set no_new_privs. Returns 0 or an errno.
[[nodiscard]] int load(const Filters& f);

}  // namespace diag::seccomp
