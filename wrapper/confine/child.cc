// SPDX-License-Identifier: Apache-2.0
// The child, from clone to execveat: see child.h. Every step below runs in a process that shares
// the supervisor's memory: no allocation, no logging, no exceptions.
#include "wrapper/confine/child.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "wrapper/confine/landlock.h"
#include "wrapper/confine/rlimits.h"
#include "wrapper/confine/seccomp.h"

namespace diag::child {

namespace {

constexpr size_t kChildStackBytes = 256 * 1024;

#if defined(__SANITIZE_ADDRESS__)
void unpoison_for_sanitizer(void* p, size_t n) { __asan_unpoison_memory_region(p, n); }
#else
void unpoison_for_sanitizer(void*, size_t) {}
#endif

// The child shares our memory until it execs (below). ThreadSanitizer keeps each thread's state
// (its stack of frames, the locks it holds) in that thread's memory, which such a child shares
// and changes: it then reports races on data every access of which holds the lock. Under it (the
// `tsan` preset only) the child gets a copy of our memory, as fork(2) gives.
#if defined(__SANITIZE_THREAD__)
constexpr int kShareMemory = 0;
#else
constexpr int kShareMemory = CLONE_VM | CLONE_VFORK;
#endif

// A ChildFailure as it crosses the fail pipe: the stage copied, since the child's pointers mean
// nothing to a reader that outlives its exit.
struct WireFailure {
    char stage[40];
    int err;
};

struct ChildStart {
    const supervise::ChildMain* main;
    int in_r;  // -1: /dev/null
    int out_w;
    int err_w;
    int fail_w;
    pid_t parent;
};

// stdin from `in_r`, or from /dev/null when it is -1 (the first stage of a pipeline reads
// nothing). Returns 0 or an errno.
int set_stdin(int in_r) {
    const int fd = in_r >= 0 ? in_r : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    const int err = ::dup2(fd, STDIN_FILENO) < 0 ? errno : 0;
    if (in_r < 0) {
        ::close(fd);
    }
    return err;
}

// The child until execveat: nothing is logged from here; a failing step is written to the fail
// pipe and the child exits 125.
int child_start(void* arg) {
    const auto& a = *static_cast<const ChildStart*>(arg);
    supervise::ChildFailure f{"dup2", 0};
    // The pipes first, while nothing restricts the child: dup2 clears close-on-exec on 0, 1 and 2
    // only, so every other pipe end of the pipeline is gone at exec.
    if (int e = set_stdin(a.in_r)) {
        f = {"stdin", e};
    } else if (::dup2(a.out_w, STDOUT_FILENO) < 0 || ::dup2(a.err_w, STDERR_FILENO) < 0) {
        f.err = errno;
    } else if (::getppid() != a.parent) {
        f = {"parent-gone", ESRCH};
    } else {
        f = (*a.main)();
    }
    WireFailure w{};
    for (size_t i = 0; i + 1 < sizeof w.stage && f.stage[i] != '\0'; ++i) {
        w.stage[i] = f.stage[i];
    }
    w.err = f.err;
    (void)!::write(a.fail_w, &w, sizeof w);
    ::_exit(125);
}

}  // namespace

supervise::ChildFailure confine_and_exec(const confinement::Confinement& c, const exec::Prepared& p, pid_t parent,
                                         uint64_t cpu_seconds) {
    // Own session and process group: the supervisor kills the group (before seccomp forbids
    // setsid).
    if (int e = exec::new_session()) return {"setsid", e};
    // Die with the supervisor; re-check the parent for the fork race.
    if (int e = exec::die_with_parent(parent)) return {"pdeathsig", e};
    // Unblock and reset signals (the supervisor blocked some for its signalfd): a blocked mask and
    // an ignored disposition both survive execve.
    if (int e = exec::reset_signals()) return {"signals", e};
    // Every fd above 2 close-on-exec: an inherited fd bypasses Landlock (docs/confinement.md §1, §3).
    // The executable and the held-open files are the exceptions execute() makes, last.
    if (int e = exec::close_extra_fds()) return {"close-fds", e};
    // The executable at the one fd seccomp lets execveat run (close-on-exec like the rest).
    if (int e = exec::exe_to_exec_fd(p)) return {"exec-fd", e};
    // umask 077, cwd /: while nothing restricts the child yet, so neither needs a Landlock or
    // seccomp rule (stdin was set by start(), before this).
    if (int e = exec::umask_cwd()) return {"umask-cwd", e};
    // Resource limits, while setrlimit is still allowed.
    if (int e = rlimits::apply(cpu_seconds)) return {"rlimits", e};
    // no_new_privs: required by Landlock (without CAP_SYS_ADMIN) and by seccomp, so it comes before
    // both (https://docs.kernel.org/userspace-api/no_new_privs.html).
    if (int e = exec::no_new_privs()) return {"no-new-privs", e};
    // Landlock: the denylist, enforced by the kernel for every open of the child. As late as
    // possible, so the steps above are not bound by it; landlock_restrict_self fails with EPERM
    // without no_new_privs (https://docs.kernel.org/userspace-api/landlock.html).
    if (c.landlock.fd.valid()) {
        if (int e = landlock::restrict_self(c.landlock)) return {"landlock", e};
    }
    // seccomp last: it forbids calls the steps above make (setsid, prctl is allowed), and its
    // policy filter allows execveat of the checked fd only
    // (https://docs.kernel.org/userspace-api/seccomp_filter.html).
    if (int e = seccomp::load(c.seccomp)) return {"seccomp", e};
    // execveat of the checked fd: the name is never looked up again.
    return {"execveat", exec::execute(p)};
}

Result<pid_t> start(const supervise::ChildMain& main, int in_r, int out_w, int err_w, int fail_w) {
    // The child shares our memory and we sleep until it has exec'd or exited (CLONE_VM |
    // CLONE_VFORK, as posix_spawn does): no page tables copied, no copy-on-write faults on either
    // side. It runs on its own stack; it has its own fd table, signal handlers, cwd and umask.
    ChildStart start_args{&main, in_r, out_w, err_w, fail_w, ::getpid()};
    void* stack =
        ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        return sys_error(ErrorCode::kExecFailed, "mmap(child stack)", errno);
    }
    const pid_t pid =
        ::clone(child_start, static_cast<char*>(stack) + kChildStackBytes, kShareMemory | SIGCHLD, &start_args);
    const int clone_errno = errno;
    // The child's frames left AddressSanitizer's stack redzones in the shadow of this memory (it
    // shares ours); unpoisoned, the next child that gets the same pages does not trip on them.
    unpoison_for_sanitizer(stack, kChildStackBytes);
    ::munmap(stack, kChildStackBytes);  // the child has exec'd or exited: its stack is ours again
    if (pid < 0) {
        return sys_error(ErrorCode::kExecFailed, "clone", clone_errno);
    }
    return pid;
}

Status exec_result(int fail_r) {
    // EOF on fail_pipe: execveat succeeded (the write end was close-on-exec).
    WireFailure w{};
    ssize_t n;
    do {
        n = ::read(fail_r, &w, sizeof w);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof w)) {
        w.stage[sizeof w.stage - 1] = '\0';
        return make_error(ErrorCode::kExecFailed, std::string("child stage ") + w.stage + ": " + std::strerror(w.err));
    }
    return ok_status();
}

}  // namespace diag::child
