// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/seccomp.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <iterator>
#include <vector>

namespace diag::seccomp {

namespace {

// The compat filter is fixed and small, so it is written out in BPF (libseccomp spent 0.2 ms per
// request generating it: one comparison per future syscall number). Syscalls numbered from 424
// on are the same on every architecture (the unified table), which is all it names.
#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
constexpr bool kX32 = true;  // x32 numbers carry bit 30 on the x86_64 audit arch
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
constexpr bool kX32 = false;
#else
#error "the compat seccomp filter is written for x86_64 and aarch64 (adr/0007)"
#endif
constexpr uint32_t kX32Bit = 0x40000000;
// Struct-argument syscalls seccomp cannot inspect: ENOSYS so libc falls back to open/openat/clone.
struct NamedNr {
    const char* name;
    uint32_t nr;
};
constexpr NamedNr kEnosys[] = {
    {"io_uring_setup", 425}, {"io_uring_enter", 426}, {"io_uring_register", 427}, {"clone3", 435}, {"openat2", 437}};
// The newest syscall this policy was written against; anything above gets ENOSYS.
constexpr uint32_t kMaxKnownNr = 470;

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

// A foreign ABI is killed; the struct-argument syscalls and every number above kMaxKnownNr get
// ENOSYS; everything else is left to the policy filter.
// The start of every hand-written program: a foreign architecture is killed, then the syscall
// number is loaded.
void native_arch_then_nr(std::vector<sock_filter>& c) {
    c.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    c.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
}

Program compat_program() {
    Program p;
    auto& c = p.code;
    native_arch_then_nr(c);
    if (kX32) {
        c.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 0, 1));
        c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    }
    constexpr size_t n = sizeof kEnosys / sizeof kEnosys[0];
    for (size_t i = 0; i < n; ++i) {
        // Jump over the checks after this one, the ceiling test and ALLOW, to ENOSYS.
        c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kEnosys[i].nr, static_cast<uint8_t>(n - i + 1), 0));
    }
    c.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, kMaxKnownNr, 1, 0));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)));
    p.flags = 0;  // silent: these are fallbacks, not attacks
    return p;
}

// A pipeline filter's extra filter: socket(2) and socketpair(2) refused with EACCES, everything
// else left to the others (the compat filter has killed foreign ABIs already; checked again here so
// this program stands on its own).
Program no_sockets_program() {
    Program p;
    auto& c = p.code;
    native_arch_then_nr(c);
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 2, 0));
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, 1, 0));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)));
    p.flags = kPolicyFlags;
    return p;
}

// A network rule's extra filter (adr/0018): an AF_INET/AF_INET6 socket is TCP (protocol 0 or
// IPPROTO_TCP, which Landlock's TCP rules cover; not SCTP or MPTCP, which they do not), an ICMP
// echo socket (ping), or, where `udp` (a request with no TCP destination: getent resolving names,
// ping learning its source address), UDP; and no TCP Fast Open (refuse_fastopen).
// Raw and every other type or protocol: EACCES. Other families are left to the policy filter.
void allow_protocols(std::vector<sock_filter>& c, const std::vector<uint32_t>& protocols) {
    c.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args) + 2 * sizeof(uint64_t)));
    const size_t n = protocols.size();
    for (size_t i = 0; i < n; ++i) {
        // Over the remaining checks and the refusal, to ALLOW.
        c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, protocols[i], static_cast<uint8_t>(n - i), 0));
    }
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

// TCP Fast Open connects inside sendto(2), sendmsg(2) and sendmmsg(2) (MSG_FASTOPEN), where no
// connect hook runs, so Landlock's TCP rules may not see it (an open upstream issue); no tool of a
// network rule needs it: EACCES. The flags are a plain argument (sendmsg's msghdr.msg_flags is
// ignored on send). Any other send: ALLOW, this program checks nothing else of it.
void refuse_fastopen(std::vector<sock_filter>& c) {
    constexpr uint32_t kFastOpen = 0x20000000;  // MSG_FASTOPEN
    const struct {
        uint32_t nr;
        uint32_t flags_arg;
    } sends[] = {{SYS_sendto, 3}, {SYS_sendmsg, 2}, {SYS_sendmmsg, 3}};
    for (const auto& s : sends) {
        c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, s.nr, 0, 4));  // not this one: to the next
        c.push_back(stmt(BPF_LD | BPF_W | BPF_ABS,
                         static_cast<uint32_t>(offsetof(seccomp_data, args) + s.flags_arg * sizeof(uint64_t))));
        c.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kFastOpen, 0, 1));
        c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)));
        c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    }
}

Program inet_program(bool udp) {
    constexpr uint32_t kTcp = 6;
    constexpr uint32_t kUdp = 17;
    constexpr uint32_t kIcmp = 1;
    constexpr uint32_t kIcmpV6 = 58;
    const std::vector<uint32_t> stream = {0, kTcp};
    const std::vector<uint32_t> dgram =
        udp ? std::vector<uint32_t>{kIcmp, kIcmpV6, 0, kUdp} : std::vector<uint32_t>{kIcmp, kIcmpV6};
    Program p;
    auto& c = p.code;
    native_arch_then_nr(c);
    refuse_fastopen(c);
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 1, 0));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    c.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args)));
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0));
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0));
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    c.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args) + sizeof(uint64_t)));
    c.push_back(stmt(BPF_ALU | BPF_AND | BPF_K, 0xf));  // the type without SOCK_NONBLOCK/SOCK_CLOEXEC
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 0, static_cast<uint8_t>(stream.size() + 3)));
    allow_protocols(c, stream);
    c.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SOCK_DGRAM, 0, static_cast<uint8_t>(dgram.size() + 3)));
    allow_protocols(c, dgram);
    c.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)));
    p.flags = kPolicyFlags;
    return p;
}

// kPolicyOffline, kPolicyNetwork: the policy filter for rules without and with network = true,
// generated at build time by diag-seccomp-gen (seccomp_policy.cc, libseccomp).
#include "seccomp_programs.inc"

int load_one(const Program& p) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(p.code.size());
    prog.filter = const_cast<sock_filter*>(p.code.data());  // the kernel copies it; never written
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p.flags, &prog) == 0 ? 0 : errno;
}

}  // namespace

Filters filters(bool network, bool filter, bool tcp_only) {
    Filters f;
    f.compat = compat_program();
    if (filter) {
        f.sockets = no_sockets_program();
    }
    if (network) {
        f.inet = inet_program(!tcp_only);
    }
    if (network) {
        f.policy.code.assign(std::begin(kPolicyNetwork), std::end(kPolicyNetwork));
    } else {
        f.policy.code.assign(std::begin(kPolicyOffline), std::end(kPolicyOffline));
    }
    f.policy.flags = kPolicyFlags;
    return f;
}

int load(const Filters& f) {
    if (int e = load_one(f.compat)) {
        return e;
    }
    if (!f.sockets.code.empty()) {
        if (int e = load_one(f.sockets)) {
            return e;
        }
    }
    if (!f.inet.code.empty()) {
        if (int e = load_one(f.inet)) {
            return e;
        }
    }
    return load_one(f.policy);
}

}  // namespace diag::seccomp
