// SPDX-License-Identifier: Apache-2.0
// The decision stage against what another local account can build where every account may
// write (/tmp, /var/tmp, /dev/shm): CPU time and peak memory of the wrapper deciding one request,
// measured with wait4(2). The wrapper runs with --explain (policy, deny list, resolve, scans;
// nothing executed), as RUNAS.
//   diag_bench_worst RUNAS WRAPPER POLICY DIR [REPS]
// DIR: a root-owned directory the policy's grep and cat rules may read; uid 4243 builds the
// fixtures in DIR/shm1, shm2, shm3 (root-owned, 1777, as /dev/shm: trees a request may name
// without being refused as swappable). Run as root.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

constexpr uid_t kOther = 4243;

struct Cost {
    int status = -1;
    double cpu_ms = 0;
    double rss_mb = 0;
    double wall_ms = 0;
    std::string first_line;
};

// Runs fn in a child as `uid`; false when it could not or fn failed.
bool as_user(uid_t uid, const std::function<bool()>& fn) {
    const pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) {
            _exit(1);
        }
        umask(022);
        _exit(fn() ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// `levels` directories named `name` below the open directory `fd` (consumed); the deepest, open.
int chain(int fd, const char* name, int levels) {
    for (int i = 0; fd >= 0 && i < levels; ++i) {
        mkdirat(fd, name, 0755);
        const int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
    }
    return fd;
}

// A chain about 1900 deep whose path passes 39 absolute symlinks, each at the end of a
// 48-level segment and naming its own directory by its full path (the deepest point so far), so
// every hop walks the chain again from "/": ~37,000 components. deep_chain_arg() is that path.
// Its directories are the other account's: the file is held open for the child, and the walk
// is what costs.
std::string segment() {
    std::string s;
    for (int k = 0; k < 48; ++k) {
        s += "/a";
    }
    return s;
}

std::string deep_chain_arg(const std::string& shm) {
    std::string arg = shm + "/d";
    for (int i = 0; i < 39; ++i) {
        arg += segment() + "/s";
    }
    return arg + "/file";
}

bool deep_chain(const std::string& shm) {
    std::string canonical = shm + "/d";
    if (mkdir(canonical.c_str(), 0755) != 0) {
        return false;
    }
    int fd = open(canonical.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; fd >= 0 && i < 39; ++i) {
        fd = chain(fd, "a", 48);
        canonical += segment();
        if (fd < 0 || symlinkat(canonical.c_str(), fd, "s") != 0) {
            return false;
        }
    }
    const int f = openat(fd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    close(fd);
    close(f);
    return f >= 0;
}

// 60,000 sibling directories below a path of about 3,700 bytes: shm/w/d.../d (grep -r shm).
bool wide_and_long(const std::string& shm) {
    const std::string w = shm + "/w";
    if (mkdir(w.c_str(), 0755) != 0) {
        return false;
    }
    const std::string name(36, 'd');
    const int fd = chain(open(w.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), name.c_str(), 100);  // 3,700 bytes
    if (fd < 0) {
        return false;
    }
    for (int i = 0; i < 60000; ++i) {
        if (mkdirat(fd, std::to_string(i).c_str(), 0755) != 0 && errno != EEXIST) {
            close(fd);
            return false;
        }
    }
    close(fd);
    return true;
}

// One tree just under the per-tree entry bound (200,000): shm/t with 190,000 empty files (32
// times grep -r shm).
bool big_tree(const std::string& shm) {
    const std::string t = shm + "/t";
    if (mkdir(t.c_str(), 0755) != 0) {
        return false;
    }
    const int fd = open(t.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; fd >= 0 && i < 190000; ++i) {
        const std::string sub = std::to_string(i / 1000);
        if (i % 1000 == 0) {
            mkdirat(fd, sub.c_str(), 0755);
        }
        const int f = openat(fd, (sub + "/" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (f < 0) {
            close(fd);
            return false;
        }
        close(f);
    }
    if (fd >= 0) {
        close(fd);
    }
    return fd >= 0;
}

Cost decide(const passwd& runas, const std::string& wrapper, const std::string& policy, const std::string& request) {
    int out[2];
    if (pipe(out) != 0) {
        return {};
    }
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        close(out[0]);
        if (setgroups(0, nullptr) != 0 || setresgid(runas.pw_gid, runas.pw_gid, runas.pw_gid) != 0 ||
            setresuid(runas.pw_uid, runas.pw_uid, runas.pw_uid) != 0) {
            _exit(126);
        }
        const char* argv[] = {wrapper.c_str(), "--policy", policy.c_str(), "--explain", "--", request.c_str(), nullptr};
        const char* env[] = {"PATH=/usr/bin:/bin", nullptr};
        execve(argv[0], const_cast<char**>(argv), const_cast<char**>(env));
        _exit(127);
    }
    close(out[1]);
    Cost c;
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) {
        text.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    int st = 0;
    rusage ru{};
    wait4(pid, &st, 0, &ru);
    c.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    c.cpu_ms = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
    c.rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
    // "decision: allow|deny" and the reason line, for the table.
    for (const char* key : {"decision: ", "reason: "}) {
        const size_t at = text.find(key);
        if (at != std::string::npos) {
            c.first_line += (c.first_line.empty() ? "" : " ") +
                            text.substr(at + std::strlen(key), text.find('\n', at) - at - std::strlen(key));
        }
    }
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5 || argc > 6) {
        std::fprintf(stderr, "usage: diag_bench_worst RUNAS WRAPPER POLICY DIR [REPS]\n");
        return 2;
    }
    const passwd* pw = getpwnam(argv[1]);
    if (pw == nullptr) {
        std::fprintf(stderr, "diag_bench_worst: no user %s\n", argv[1]);
        return 2;
    }
    const passwd runas = *pw;
    const std::string wrapper = argv[2];
    const std::string policy = argv[3];
    const std::string dir = argv[4];
    const int reps = argc == 6 ? std::max(1, std::atoi(argv[5])) : 3;
    const std::function<bool(const std::string&)> builders[] = {deep_chain, wide_and_long, big_tree};
    for (int i = 0; i < 3; ++i) {
        const std::string shm = dir + "/shm" + std::to_string(i + 1);
        struct stat st {};
        if (stat(shm.c_str(), &st) == 0) {
            continue;  // built by an earlier run
        }
        std::fprintf(stderr, "building %s as uid %u ...\n", shm.c_str(), kOther);
        if (mkdir(shm.c_str(), 0755) != 0 || chmod(shm.c_str(), 01777) != 0 ||
            !as_user(kOther, [&] { return builders[i](shm); })) {
            std::fprintf(stderr, "diag_bench_worst: %s could not be built\n", shm.c_str());
            return 1;
        }
    }
    std::string many = "grep -r x";
    for (int i = 0; i < 32; ++i) {
        many += " " + dir + "/shm3";
    }
    const struct {
        const char* name;
        std::string request;
    } cases[] = {
        {"baseline: cat a small file", "cat " + dir + "/small.txt"},
        {"1900-deep chain, 39 absolute hops", "cat " + deep_chain_arg(dir + "/shm1")},
        {"60,000 sibling dirs under 3,700 bytes", "grep -r x " + dir + "/shm2"},
        {"32 tree operands of 190,000 entries", many},
    };
    std::printf("%-40s %10s %10s %10s  %s\n", "case (median of runs)", "cpu ms", "maxrss MB", "wall ms", "decision");
    for (const auto& c : cases) {
        std::vector<Cost> runs;
        for (int i = 0; i < reps; ++i) {
            runs.push_back(decide(runas, wrapper, policy, c.request));
        }
        std::sort(runs.begin(), runs.end(), [](const Cost& a, const Cost& b) { return a.cpu_ms < b.cpu_ms; });
        const Cost& m = runs[runs.size() / 2];
        std::printf("%-40s %10.1f %10.1f %10.1f  %s\n", c.name, m.cpu_ms, m.rss_mb, m.wall_ms, m.first_line.c_str());
    }
    return 0;
}
