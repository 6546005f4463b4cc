// SPDX-License-Identifier: Apache-2.0
// The policy filter's rules, compiled with libseccomp. Runs at build time (diag-seccomp-gen) and
// in the tests; the wrapper itself carries only the resulting programs (seccomp.cc).
#include "wrapper/confine/seccomp_policy.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

namespace diag::seccomp {

namespace {

struct FilterDeleter {
    void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

// Groups (adr/0007): every syscall that changes the file system, mounts, loads code into the
// kernel, crosses into another process, touches keyrings or namespaces, or changes the clock.
constexpr const char* kEperm[] = {
    // file system mutation (Landlock cannot stop chmod/chown/utime/xattr: docs/confinement.md §1)
    "unlink",
    "unlinkat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "fchownat",
    "lchown",
    "truncate",
    "ftruncate",
    "fallocate",
    "creat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "open_by_handle_at",
    // mounts, old and new API
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    // kernel code, machine state, clock
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "vhangup",
    "modify_ldt",
    "uselib",
    // other processes and the kernel's debug/tracing interfaces
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    // keyrings and namespaces (user namespaces are off on hardened hosts; never needed here)
    "add_key",
    "keyctl",
    "request_key",
    "unshare",
    "setns",
    // leaving the session and process group the supervisor kills as a whole
    "setsid",
    "setpgid",
    // persistent IPC objects outlive the request
    "msgget",
    "semget",
    "shmget",
    "mq_open",
    "mq_unlink",
    // program execution: only the supervisor's one execveat (below); Landlock enforces it by path
    "execve",
    // an executable without a path: Landlock governs execution by path and has no say over an
    // anonymous memory file, which a tool that gained code execution could fill, move to the
    // fd number the execveat rule allows, and run (RLIMIT_FSIZE = 0 stops the filling too)
    "memfd_create",
    // pages of the process's own memory put into a pipe by reference: it could rewrite them after
    // the relay hashed them and before the client read them. Nothing here needs it (adr/0022)
    "vmsplice",
};

// Newer than libseccomp 2.5.4 knows: added by number (the unified table, the same on every
// architecture from 424 on).
struct ByNumber {
    const char* name;
    int nr;
};
constexpr ByNumber kEpermByNumber[] = {{"fchmodat2", 452},   {"setxattrat", 463},   {"removexattrat", 466},
                                       {"quotactl_fd", 443}, {"file_setattr", 469}, {"memfd_secret", 447}};

// One argument comparison; libseccomp's SCMP_A* macros are C compound literals, which C++
// compilers other than GCC reject.
scmp_arg_cmp cmp_arg(unsigned int arg, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
    scmp_arg_cmp c{};
    c.arg = arg;
    c.op = op;
    c.datum_a = a;
    c.datum_b = b;
    return c;
}

Error lib_error(const std::string& call, int rc) { return sys_error(ErrorCode::kExecFailed, "seccomp " + call, -rc); }

Status add(scmp_filter_ctx ctx, uint32_t action, int nr, const std::string& name, unsigned argc = 0,
           const scmp_arg_cmp* args = nullptr) {
    const int rc = seccomp_rule_add_array(ctx, action, nr, argc, args);
    if (rc != 0 && rc != -EEXIST) {
        return lib_error("seccomp_rule_add(" + name + ")", rc);
    }
    return ok_status();
}

Status add_named(scmp_filter_ctx ctx, uint32_t action, const char* name, unsigned argc = 0,
                 const scmp_arg_cmp* args = nullptr) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        return ok_status();  // not a syscall on this architecture (e.g. "open" on arm64)
    }
    return add(ctx, action, nr, name, argc, args);
}

Result<Filter> new_filter() {
    Filter f(seccomp_init(SCMP_ACT_ALLOW));
    if (!f) {
        return make_error(ErrorCode::kExecFailed, "seccomp_init failed");
    }
    // A foreign ABI (i386 int 0x80, x32) has no legitimate caller here: kill the process.
    if (int rc = seccomp_attr_set(f.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc != 0) {
        return lib_error("attr ACT_BADARCH", rc);
    }
    // Binary search over syscall numbers instead of a linear chain: shorter paths for every
    // syscall of the child, and for the kernel's per-syscall action cache built at load.
    if (int rc = seccomp_attr_set(f.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0) {
        return lib_error("attr CTL_OPTIMIZE", rc);
    }
    return f;
}

// The BPF program libseccomp generates for `ctx` (seccomp_export_bpf writes it to an fd; 2.5
// has no in-memory export).
Result<Program> compile(scmp_filter_ctx ctx) {
    struct Memfd {
        int fd;
        ~Memfd() {
            if (fd >= 0) ::close(fd);
        }
        int get() const { return fd; }
    } mem{static_cast<int>(::syscall(SYS_memfd_create, "diag-seccomp", MFD_CLOEXEC))};
    if (mem.get() < 0) {
        return sys_error(ErrorCode::kExecFailed, "memfd_create", errno);
    }
    if (int rc = seccomp_export_bpf(ctx, mem.get()); rc != 0) {
        return lib_error("seccomp_export_bpf", rc);
    }
    const off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0 ||
        size > static_cast<off_t>(BPF_MAXINSNS * sizeof(sock_filter))) {
        return make_error(ErrorCode::kExecFailed, "seccomp_export_bpf: program of " + std::to_string(size) + " bytes");
    }
    Program p;
    p.code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), p.code.data(), static_cast<size_t>(size), 0) != size) {
        return sys_error(ErrorCode::kExecFailed, "seccomp program read", errno);
    }
    p.flags = kPolicyFlags;
    return p;
}

}  // namespace

Result<Program> compile_policy(bool network) {
    DIAG_TRY_ASSIGN(Filter policy_filter, new_filter());
    scmp_filter_ctx pol = policy_filter.get();

    for (const char* name : kEperm) {
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EPERM), name));
    }
    for (const auto& s : kEpermByNumber) {
        DIAG_TRY(add(pol, SCMP_ACT_ERRNO(EPERM), s.nr, s.name));
    }
    // execveat: only the supervisor's own exec of the checked fd. Everything else is EPERM (and
    // Landlock refuses to execute anything but the pinned binary and its interpreter).
    {
        const scmp_arg_cmp other_fd[] = {cmp_arg(0, SCMP_CMP_NE, static_cast<scmp_datum_t>(kExecFd))};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EPERM), "execveat", 1, other_fd));
        const scmp_arg_cmp other_flags[] = {cmp_arg(4, SCMP_CMP_NE, static_cast<scmp_datum_t>(AT_EMPTY_PATH))};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EPERM), "execveat", 1, other_flags));
    }
    // Opening for writing, creating, truncating or appending: EACCES. One rule per flag: the
    // comparisons of one rule are ANDed, separate rules are ORed.
    struct FlagRule {
        scmp_datum_t mask;
        scmp_datum_t value;
    };
    constexpr FlagRule kOpenFlags[] = {{O_ACCMODE, O_WRONLY}, {O_ACCMODE, O_RDWR},  {O_CREAT, O_CREAT},
                                       {O_TRUNC, O_TRUNC},    {O_APPEND, O_APPEND}, {020000000, 020000000}};
    for (const auto& f : kOpenFlags) {
        const scmp_arg_cmp open_cmp[] = {cmp_arg(1, SCMP_CMP_MASKED_EQ, f.mask, f.value)};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EACCES), "open", 1, open_cmp));
        const scmp_arg_cmp openat_cmp[] = {cmp_arg(2, SCMP_CMP_MASKED_EQ, f.mask, f.value)};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EACCES), "openat", 1, openat_cmp));
    }
    // clone with any namespace flag.
    {
        constexpr scmp_datum_t kNsFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                          CLONE_NEWPID | CLONE_NEWNET | 0x00000080 /* CLONE_NEWTIME */;
        for (scmp_datum_t bit = 1; bit != 0 && bit <= kNsFlags; bit <<= 1) {
            if ((kNsFlags & bit) != 0) {
                const scmp_arg_cmp cmp[] = {cmp_arg(0, SCMP_CMP_MASKED_EQ, bit, bit)};
                DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EPERM), "clone", 1, cmp));
            }
        }
    }
    // personality: refuse the flags that weaken the address space (ADDR_NO_RANDOMIZE,
    // READ_IMPLIES_EXEC, ...). libseccomp cannot compare one argument twice in a rule, so one rule
    // per flag; the query value 0xffffffff has every bit set and is refused too (nothing needs it).
    for (scmp_datum_t flag :
         {static_cast<scmp_datum_t>(ADDR_NO_RANDOMIZE), static_cast<scmp_datum_t>(READ_IMPLIES_EXEC),
          static_cast<scmp_datum_t>(ADDR_COMPAT_LAYOUT), static_cast<scmp_datum_t>(MMAP_PAGE_ZERO),
          static_cast<scmp_datum_t>(ADDR_LIMIT_32BIT), static_cast<scmp_datum_t>(ADDR_LIMIT_3GB),
          static_cast<scmp_datum_t>(UNAME26), static_cast<scmp_datum_t>(FDPIC_FUNCPTRS)}) {
        const scmp_arg_cmp cmp[] = {cmp_arg(0, SCMP_CMP_MASKED_EQ, flag, flag)};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EPERM), "personality", 1, cmp));
    }
    // Terminal input injection (CVE-2017-5226 class).
    for (scmp_datum_t req : {static_cast<scmp_datum_t>(TIOCSTI), static_cast<scmp_datum_t>(TIOCLINUX)}) {
        const scmp_arg_cmp cmp[] = {cmp_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffULL, req)};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, cmp));
    }
    // Sockets: AF_UNIX (D-Bus, nscd, journald), AF_NETLINK (ss, ip), AF_INET/6 only when the rule
    // needs the network. Every other family: EAFNOSUPPORT.
    for (int family = 0; family <= AF_NETLINK; ++family) {
        const bool allowed =
            family == AF_UNIX || family == AF_NETLINK || (network && (family == AF_INET || family == AF_INET6));
        if (!allowed) {
            const scmp_arg_cmp cmp[] = {cmp_arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))};
            DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, cmp));
        }
    }
    {
        // Unix datagram sockets: journald's native socket and /dev/log take datagrams, and journald
        // stamps an entry with the sender's _UID, the diag account's here, so a command that gained
        // code execution could send records the auditors' reader would trust (its _EXE is missing
        // when it exits at once). The wrapper sends the records; nothing it runs needs to. Stream
        // sockets (D-Bus, nscd) stay.
        const scmp_arg_cmp cmp[] = {cmp_arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(AF_UNIX)),
                                    cmp_arg(1, SCMP_CMP_MASKED_EQ, 0xf, static_cast<scmp_datum_t>(SOCK_DGRAM))};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EACCES), "socket", 2, cmp));
    }
    {
        // Every family above AF_NETLINK in one rule (AF_NETLINK is the highest one allowed).
        const scmp_arg_cmp cmp[] = {cmp_arg(0, SCMP_CMP_GT, static_cast<scmp_datum_t>(AF_NETLINK))};
        DIAG_TRY(add_named(pol, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, cmp));
    }
    return compile(pol);
}

std::string libseccomp_version() {
    const scmp_version* v = seccomp_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

}  // namespace diag::seccomp
