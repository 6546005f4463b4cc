// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/exec.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "wrapper/base/parse.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/confine/seccomp.h"

namespace diag::exec {

namespace {

constexpr size_t kShebangMax = 256;

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

// Puts a copy of `fd` at the fixed fd `slot` (close-on-exec); refused when `slot` is taken.
Result<sys::UniqueFd> place_at(int fd, int slot, const std::string& what) {
    if (::fcntl(slot, F_GETFD) != -1 || errno != EBADF) {
        return make_error(ErrorCode::kExecFailed,
                          "fd " + std::to_string(slot) + " is already open; " + what + " must go there");
    }
    if (::dup3(fd, slot, O_CLOEXEC) != slot) {
        return sys_error(ErrorCode::kExecFailed, "dup3(" + what + ", " + std::to_string(slot) + ")", errno);
    }
    return sys::UniqueFd(slot);
}

static_assert(bound_fd(0) == seccomp::kExecFd - 1 && bound_fd(kMaxBoundFds - 1) > 2,
              "held files sit just below the exec fd, above stdio");

}  // namespace

Result<Prepared> prepare(const policy::Command& c, const std::vector<std::string>& args, std::vector<std::string> envp,
                         const std::vector<int>& bound) {
    Prepared p;
    if (bound.size() > static_cast<size_t>(kMaxBoundFds)) {
        return make_error(ErrorCode::kExecFailed, "more than " + std::to_string(kMaxBoundFds) + " files to hand over");
    }
    for (size_t k = 0; k < bound.size(); ++k) {
        DIAG_TRY_ASSIGN(sys::UniqueFd held, place_at(bound[k], bound_fd(static_cast<int>(k)), "a checked file"));
        p.bound.push_back(std::move(held));
    }
    DIAG_TRY_ASSIGN(p.exe, sys::open_trusted(c.exe_path, O_RDONLY, 0, ErrorCode::kExecFailed));
    DIAG_TRY_ASSIGN(struct stat st, sys::fstat_fd(p.exe.get(), c.exe_path, ErrorCode::kExecFailed));
    if (st.st_dev != c.exe_dev || st.st_ino != c.exe_ino || !S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kExecFailed, c.exe_path + ": changed since the policy was loaded");
    }
    // The seccomp policy filter was compiled for one execveat fd: put the checked file there. In a
    // pipeline the first stage holds it; a later stage's goes above it, and its child moves it there
    // (exe_to_exec_fd).
    if (::fcntl(seccomp::kExecFd, F_GETFD) == -1 && errno == EBADF) {
        DIAG_TRY_ASSIGN(p.exe, place_at(p.exe.get(), seccomp::kExecFd, "the executable"));
    } else {
        const int above = ::fcntl(p.exe.get(), F_DUPFD_CLOEXEC, seccomp::kExecFd + 1);
        if (above < 0) {
            return sys_error(ErrorCode::kExecFailed, "fcntl(F_DUPFD_CLOEXEC)", errno);
        }
        p.exe = sys::UniqueFd(above);
    }
    char head[kShebangMax];
    const ssize_t n = ::pread(p.exe.get(), head, sizeof head, 0);
    if (n < 0) {
        return sys_error(ErrorCode::kExecFailed, "pread(" + c.exe_path + ")", errno);
    }
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
        // The kernel starts the interpreter by the path in the "#!" line: it must be trusted too.
        std::string line(head + 2, static_cast<size_t>(n - 2));
        line = line.substr(0, line.find('\n'));
        const size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos) {
            return make_error(ErrorCode::kExecFailed, c.exe_path + ": empty #! line");
        }
        const std::string interp = line.substr(start, line.find_first_of(" \t", start) - start);
        DIAG_TRY_ASSIGN(std::string real, sys::real_path(interp, ErrorCode::kExecFailed));
        DIAG_TRY_ASSIGN(sys::UniqueFd ifd, sys::open_trusted(real, O_RDONLY, 0, ErrorCode::kExecFailed));
        p.script = true;
        p.exec_paths.push_back(real);
        if (std::string ld = landlock::elf_interpreter(ifd.get()); !ld.empty()) {
            p.exec_paths.push_back(ld);
        }
    } else if (std::string ld = landlock::elf_interpreter(p.exe.get()); !ld.empty()) {
        p.exec_paths.push_back(ld);
    }
    p.exec_paths.push_back(c.exe_path);
    p.exe_path = c.exe_path;
    p.argv.push_back(c.program.substr(c.program.rfind('/') + 1));
    p.argv.insert(p.argv.end(), args.begin(), args.end());
    p.envp = std::move(envp);
    p.argv_ptrs = c_strings(p.argv);
    p.envp_ptrs = c_strings(p.envp);
    return p;
}

int new_session() { return ::setsid() < 0 ? errno : 0; }

int die_with_parent(pid_t parent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        return errno;
    }
    return ::getppid() == parent ? 0 : ESRCH;
}

int reset_signals() {
    sigset_t all;
    ::sigemptyset(&all);
    if (::sigprocmask(SIG_SETMASK, &all, nullptr) != 0) {
        return errno;
    }
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) {
            continue;
        }
        // Errors are expected for the signal numbers glibc reserves; nothing else can fail here.
        (void)::signal(sig, SIG_DFL);
    }
    return 0;
}

int close_extra_fds() {
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
        return 0;
    }
    return close_extra_fds_by_walk();  // kernels before 5.11
}

int close_extra_fds_by_walk() {
    // getdents64 into a stack buffer (no DIR*, no allocation: the child shares the supervisor's
    // memory).
    const int dfd = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return errno;
    }
    alignas(8) char buf[4096];
    for (;;) {
        const long n = ::syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (n <= 0) {
            const int err = n < 0 ? errno : 0;
            ::close(dfd);
            return err;
        }
        for (long off = 0; off < n;) {
            const auto* e = reinterpret_cast<const struct dirent64*>(buf + off);
            // parse_int works on the name in place (no allocation).
            const auto fd = util::parse_int(e->d_name);
            if (fd && *fd > 2 && *fd != dfd && *fd <= INT_MAX) {
                ::fcntl(static_cast<int>(*fd), F_SETFD, FD_CLOEXEC);
            }
            off += e->d_reclen;
        }
    }
}

int umask_cwd() {
    ::umask(077);
    return ::chdir("/") != 0 ? errno : 0;
}

int exe_to_exec_fd(const Prepared& p) {
    if (p.exe.get() == seccomp::kExecFd) {
        return 0;
    }
    return ::dup3(p.exe.get(), seccomp::kExecFd, O_CLOEXEC) == seccomp::kExecFd ? 0 : errno;
}

int no_new_privs() { return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ? errno : 0; }

int execute(const Prepared& p) {
    for (const auto& f : p.bound) {
        if (::fcntl(f.get(), F_SETFD, 0) != 0) {
            return errno;
        }
    }
    if (p.script) {
        // The interpreter opens the script as /dev/fd/N, so this one fd must survive exec.
        const int flags = ::fcntl(seccomp::kExecFd, F_GETFD);
        if (flags < 0 || ::fcntl(seccomp::kExecFd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
            return errno;
        }
    }
    ::syscall(SYS_execveat, seccomp::kExecFd, "", p.argv_ptrs.data(), p.envp_ptrs.data(), AT_EMPTY_PATH);
    return errno;
}

}  // namespace diag::exec
