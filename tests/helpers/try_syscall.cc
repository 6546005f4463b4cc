// SPDX-License-Identifier: Apache-2.0
// try_syscall: performs one operation and exits with 0 on success or the errno of the failure,
// printing nothing (except where a mode says). In the spirit of bubblewrap's tests/try-syscall.c.
// It is the probe of the confinement tests: the wrapper runs it as a pinned program and the test
// reads the outcome from the exit status. No project dependencies.
//
//   try_syscall MODE [ARGS]
//
// Exit status: 0 success, ERRNO on failure, 254 when something impossible happened (a mode that
// must not return did), 255 on a usage error.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr int kUsage = 255;
constexpr int kImpossible = 254;

// 0 when `rc` is not -1, else errno (never 0: a failure always exits non-zero).
int outcome(long rc) {
    if (rc != -1) {
        return 0;
    }
    return errno != 0 ? errno : kImpossible;
}

[[noreturn]] void sleep_forever() {
    for (;;) {
        timespec ts{3600, 0};
        ::nanosleep(&ts, nullptr);
    }
}

int usage() {
    std::fputs(
        "usage: try_syscall MODE [ARGS]\n"
        "  unlink P | rmdir P | mkdir P | chmod P | chown P | truncate P | utime P\n"
        "  rename A B | link A B | symlink TARGET LINK\n"
        "  open-write P | open-creat P | open-trunc P | open-append P | read P | exec P | memfd-exec ELF | "
        "journal-forge SOCKET\n"
        "  setsid | memfd | memfd-secret | ptrace | socket-inet | socket-unix | socketpair | socket-packet |\n"
        "  connect-tcp HOST PORT | connect-then HOST PORT OTHER (OTHER's errno; 253: PORT failed) |\n"
        "  fastopen-then HOST PORT OTHER | fastopen-msg-then HOST PORT OTHER (OTHER by TCP Fast Open) |\n"
        "  bind-tcp HOST PORT | socket DOMAIN TYPE PROTOCOL [IGNORED...]\n"
        "  unshare-user | mount [DIR] | int80-getpid | x32-getpid | nr NUMBER (all arguments 0)\n"
        "  spawn-setsid-child TOKEN | sleep-forever TOKEN | print-bytes N | print-pattern N | print-both N\n"
        "  vmsplice-late N | vmsplice\n",
        stderr);
    return kUsage;
}

int open_with(const char* path, int flags) {
    const int fd = ::open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0) {
        return outcome(-1);
    }
    ::close(fd);
    return 0;
}

int read_file(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return outcome(-1);
    }
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            return e;
        }
        size_t off = 0;
        while (off < static_cast<size_t>(n)) {
            const ssize_t w = ::write(STDOUT_FILENO, buf + off, static_cast<size_t>(n) - off);
            if (w < 0) {
                const int e = errno;
                ::close(fd);
                return e;
            }
            off += static_cast<size_t>(w);
        }
    }
    ::close(fd);
    return 0;
}

// setsid() always fails for a process group leader (and the wrapper's child is one: it made its
// own session), so the call is made by a forked child, where only a filter can refuse it.
int try_setsid() {
    const pid_t pid = ::fork();
    if (pid < 0) {
        return outcome(-1);
    }
    if (pid == 0) {
        ::_exit(outcome(::setsid()));
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) < 0) {
        return outcome(-1);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : kImpossible;
}

int connect_tcp(const char* host, const char* port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    char* end = nullptr;
    const long p = std::strtol(port, &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535 || ::inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return usage();
    }
    sa.sin_port = htons(static_cast<uint16_t>(p));
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return outcome(-1);
    }
    const int rc = outcome(::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa));
    ::close(fd);
    return rc;
}

// connect-then: the destination the request named (PORT) must be reached, or 253; then the exit
// status is OTHER's outcome: what a child that goes on to another port meets.
constexpr int kFirstFailed = 253;
int connect_then(const char* host, const char* port, const char* other) {
    if (connect_tcp(host, port) != 0) {
        return kFirstFailed;
    }
    return connect_tcp(host, other);
}

// fastopen-then: as connect-then, but OTHER is reached by TCP Fast Open, sendto(2) or sendmsg(2)
// with MSG_FASTOPEN: a connect that no connect(2) hook sees (Landlock's TCP rules among them).
int fastopen(const char* host, const char* port, bool use_sendmsg) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::strtol(port, nullptr, 10)));
    if (::inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return usage();
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return outcome(-1);
    }
    char byte = 'x';
    long rc = 0;
    if (use_sendmsg) {
        iovec iov{&byte, 1};
        msghdr msg{};
        msg.msg_name = &sa;
        msg.msg_namelen = sizeof sa;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        rc = ::sendmsg(fd, &msg, MSG_FASTOPEN | MSG_NOSIGNAL);
    } else {
        rc = ::sendto(fd, &byte, 1, MSG_FASTOPEN | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    }
    const int out = outcome(rc);
    ::close(fd);
    return out;
}

int fastopen_then(const char* host, const char* port, const char* other, bool use_sendmsg) {
    if (connect_tcp(host, port) != 0) {
        return kFirstFailed;
    }
    return fastopen(host, other, use_sendmsg);
}

int bind_tcp(const char* host, const char* port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::strtol(port, nullptr, 10)));
    if (::inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return usage();
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return outcome(-1);
    }
    const int rc = outcome(::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa));
    ::close(fd);
    return rc;
}

int socket_of(int domain, int type, int protocol) {
    const int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
        return outcome(-1);
    }
    ::close(fd);
    return 0;
}

int int80_getpid() {
#if defined(__x86_64__)
    // The i386 system call ABI from a 64-bit process: eax = 20 (getpid in the i386 table). The
    // kernel zeroes r8-r11 on the way back from a compat entry.
    long ret = 20;
    __asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
    if (ret < 0) {
        return static_cast<int>(-ret);
    }
    return ret == ::getpid() ? 0 : kImpossible;
#else
    return ENOSYS;
#endif
}

int spawn_setsid_child() {
    const pid_t pid = ::fork();
    if (pid < 0) {
        return outcome(-1);
    }
    if (pid == 0) {
        // Try to leave the process group the supervisor kills; the result does not matter: the
        // descendant must not survive the request either way. TOKEN stays in argv (same image).
        (void)::setsid();
        sleep_forever();
    }
    return 0;
}

// Byte i of the pattern the print-pattern modes write (tests/integration compute the same).
char pattern_byte(unsigned long long i, unsigned salt) { return static_cast<char>((i * 131 + (i >> 8) + salt) & 0xff); }

bool write_fully(int fd, const char* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// N bytes of the pattern on stdout (salt 0); with `both`, N more on stderr (salt 7), the two
// streams interleaved in chunks of 1000 bytes.
int print_pattern(const char* count, bool both) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(count, &end, 10);
    if (*end != '\0' || count[0] == '-') {
        return usage();
    }
    char chunk[1000];
    for (unsigned long long off = 0; off < n; off += sizeof chunk) {
        const size_t len = static_cast<size_t>(n - off < sizeof chunk ? n - off : sizeof chunk);
        for (size_t k = 0; k < len; ++k) chunk[k] = pattern_byte(off + k, 0);
        if (!write_fully(STDOUT_FILENO, chunk, len)) return outcome(-1);
        if (both) {
            for (size_t k = 0; k < len; ++k) chunk[k] = pattern_byte(off + k, 7);
            if (!write_fully(STDERR_FILENO, chunk, len)) return outcome(-1);
        }
    }
    return 0;
}

// N bytes of the pattern, then one page of 'A' put into stdout by reference (vmsplice), which
// is rewritten to 'B' 0.3 s later: a relay that delivers the page by reference while hashing it
// earlier (or the other way round) records a digest of bytes the client did not get.
int vmsplice_late(const char* count) {
    if (int rc = print_pattern(count, false); rc != 0) {
        return rc;
    }
    alignas(4096) static char page[4096];
    std::memset(page, 'A', sizeof page);
    iovec iov{page, sizeof page};
    if (::vmsplice(STDOUT_FILENO, &iov, 1, 0) != static_cast<ssize_t>(sizeof page)) {
        return outcome(-1);
    }
    timespec ts{0, 300 * 1000 * 1000};
    ::nanosleep(&ts, nullptr);
    std::memset(page, 'B', sizeof page);
    return 0;
}

// One page of 'A' into stdout by reference (vmsplice); stdout must be a pipe.
int vmsplice_page() {
    alignas(4096) static char page[4096];
    std::memset(page, 'A', sizeof page);
    iovec iov{page, sizeof page};
    return outcome(::vmsplice(STDOUT_FILENO, &iov, 1, 0));
}

// Copies the ELF at `path` into a memfd, places it at `fd_number` (the fd number the wrapper
// execs its checked binary from) and execs it: an executable that never had a path, so no
// file-system rule sees it. 0 only if the exec happened and the program exited 0.
int memfd_exec(const char* path, int fd_number) {
    const int mem = static_cast<int>(::syscall(SYS_memfd_create, "probe", 0));
    if (mem < 0) {
        return outcome(-1);
    }
    const int src = ::open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0) {
        return outcome(-1);
    }
    char buf[65536];
    for (ssize_t n; (n = ::read(src, buf, sizeof buf)) != 0;) {
        if (n < 0 || ::write(mem, buf, static_cast<size_t>(n)) != n) {
            return outcome(-1);
        }
    }
    if (::dup2(mem, fd_number) < 0) {
        return outcome(-1);
    }
    char* const args[] = {const_cast<char*>(path), nullptr};
    char* const env[] = {nullptr};
    return outcome(::syscall(SYS_execveat, fd_number, "", args, env, AT_EMPTY_PATH));
}

// Sends one journald-native datagram claiming to be a record of diag-wrapper to the datagram
// socket at `path`, as a forger would.
int journal_forge(const char* path) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return outcome(-1);
    }
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    const char msg[] = "SYSLOG_IDENTIFIER=diag-wrapper\nMESSAGE={\"forged\":true}\n";
    return outcome(::sendto(fd, msg, sizeof msg - 1, 0, reinterpret_cast<const sockaddr*>(&a), sizeof a));
}

int print_bytes(const char* count) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(count, &end, 10);
    if (*end != '\0' || count[0] == '-') {
        return usage();
    }
    static char buf[65536];
    std::memset(buf, 'x', sizeof buf);
    for (unsigned long long left = n; left > 0;) {
        const size_t chunk = left < sizeof buf ? static_cast<size_t>(left) : sizeof buf;
        if (!write_fully(STDOUT_FILENO, buf, chunk)) {
            return outcome(-1);
        }
        left -= chunk;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        return usage();
    }
    const std::string mode = argv[1];
    const int nargs = argc - 2;
    const char* a = nargs >= 1 ? argv[2] : nullptr;
    const char* b = nargs >= 2 ? argv[3] : nullptr;
    errno = 0;

    // One path argument.
    if (nargs == 1) {
        if (mode == "unlink") return outcome(::unlink(a));
        if (mode == "rmdir") return outcome(::rmdir(a));
        if (mode == "mkdir") return outcome(::mkdir(a, 0755));
        if (mode == "chmod") return outcome(::chmod(a, 0700));
        if (mode == "chown") return outcome(::chown(a, 65534, 65534));
        if (mode == "truncate") return outcome(::truncate(a, 0));
        if (mode == "utime") {
            const timespec times[2] = {{0, 0}, {0, 0}};  // the epoch: a visible change
            return outcome(::utimensat(AT_FDCWD, a, times, 0));
        }
        if (mode == "open-write") return open_with(a, O_WRONLY);
        if (mode == "open-creat") return open_with(a, O_RDONLY | O_CREAT);
        if (mode == "open-trunc") return open_with(a, O_RDONLY | O_TRUNC);
        if (mode == "open-append") return open_with(a, O_WRONLY | O_APPEND);
        if (mode == "read") return read_file(a);
        if (mode == "exec") {
            char* const args[] = {const_cast<char*>(a), nullptr};
            ::execv(a, args);
            return outcome(-1);
        }
        if (mode == "sleep-forever") sleep_forever();
        if (mode == "spawn-setsid-child") return spawn_setsid_child();
        if (mode == "print-bytes") return print_bytes(a);
        if (mode == "print-pattern") return print_pattern(a, false);
        if (mode == "print-both") return print_pattern(a, true);
        if (mode == "vmsplice-late") return vmsplice_late(a);
        if (mode == "nr") return outcome(::syscall(std::strtol(a, nullptr, 10), 0, 0, 0, 0, 0, 0));
        if (mode == "memfd-exec") return memfd_exec(a, 63);
        if (mode == "journal-forge") return journal_forge(a);
    }
    // Two path arguments.
    if (nargs == 2) {
        if (mode == "rename") return outcome(::rename(a, b));
        if (mode == "link") return outcome(::link(a, b));
        if (mode == "symlink") return outcome(::symlink(a, b));
        if (mode == "connect-tcp") return connect_tcp(a, b);
        if (mode == "bind-tcp") return bind_tcp(a, b);
    }
    if (nargs == 3 && mode == "connect-then") return connect_then(a, b, argv[4]);
    if (nargs == 3 && mode == "fastopen-then") return fastopen_then(a, b, argv[4], false);
    if (nargs == 3 && mode == "fastopen-msg-then") return fastopen_then(a, b, argv[4], true);
    // socket DOMAIN TYPE PROTOCOL [ignored...]: the numbers as socket(2) takes them.
    if (nargs >= 3 && mode == "socket") {
        return socket_of(std::atoi(a), std::atoi(b), std::atoi(argv[4]));
    }
    if (nargs == 0) {
        if (mode == "setsid") return try_setsid();
        if (mode == "memfd") return outcome(::syscall(SYS_memfd_create, "probe", 0));
        if (mode == "vmsplice") return vmsplice_page();
        if (mode == "memfd-secret") return outcome(::syscall(447 /* memfd_secret */, 0));
        if (mode == "ptrace") return outcome(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr));
        if (mode == "socket-inet") return socket_of(AF_INET, SOCK_STREAM, 0);
        if (mode == "socket-unix") return socket_of(AF_UNIX, SOCK_STREAM, 0);
        if (mode == "socketpair") {
            int sv[2];
            return outcome(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
        }
        if (mode == "socket-packet") return socket_of(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
        if (mode == "unshare-user") return outcome(::unshare(CLONE_NEWUSER));
        if (mode == "int80-getpid") return int80_getpid();
#if defined(__x86_64__)
        if (mode == "x32-getpid") return outcome(::syscall(0x40000000 | SYS_getpid));
#endif
    }
    if (mode == "mount" && nargs <= 1) {
        // A tiny tmpfs on DIR (default /mnt); the tests always pass a scratch directory.
        return outcome(::mount("tmpfs", a != nullptr ? a : "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, "size=16k"));
    }
    return usage();
}
