// SPDX-License-Identifier: Apache-2.0
// Benchmarks for the numbers the confinement issue sets targets for:
//   diag_bench setup WRAPPER_UNUSED            Landlock + seccomp setup for 10/100/1000 denied paths
//   diag_bench requests RUNAS WRAPPER POLICY FILE [cat-only]
//                                               per-request overhead vs running the command directly
//   diag_bench stream RUNAS WRAPPER POLICY FILE     throughput of FILE through the wrapper vs directly
//   diag_bench shipped RUNAS FLOOR WRAPPER IMAGED_POLICY FILES_POLICY SMALL_POLICY FILE
//                                               `cat FILE`: the floor's overhead next to the wrapper's
//                                               with a policy compiled (--compile), from its files,
//                                               and with a small policy; then `stat -c %s FILE`
//                                               (a rule reading the file system) compiled
//   diag_bench scaling RUNAS WRAPPER FILE POLICY...  `cat FILE` overhead under each policy
//   diag_bench rss RUNAS WRAPPER POLICY FILE        peak RSS of the wrapper for small requests
// RUNAS is the user both the direct and the wrapped runs run as (e.g. nobody: uid, primary gid,
// no supplementary groups, set in the forked child before exec), or "-" for the caller.
// Medians over repeated runs; run as root (the policy must be root-owned).
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "wrapper/confine/env.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/confine/seccomp.h"
#include "wrapper/policy/deny_list.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// The peak RSS (KiB) of the last process run() waited for: its own, or a child's it waited for
// if that was larger (wait4 reports the larger of the two).
long g_last_maxrss_kb = 0;

// Runs argv with env, stdout to `out_fd` (or /dev/null), waits; returns wall ms.
// The user every run is started as (RUNAS), when one was given.
struct Cred {
    uid_t uid;
    gid_t gid;
};
std::optional<Cred> g_runas;

double run(const std::vector<std::string>& argv, const std::vector<std::string>& env, int out_fd = -1) {
    const auto t = Clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(out_fd >= 0 ? out_fd : null, 1);
        dup2(null, 2);
        if (g_runas && (setgroups(0, nullptr) != 0 || setresgid(g_runas->gid, g_runas->gid, g_runas->gid) != 0 ||
                        setresuid(g_runas->uid, g_runas->uid, g_runas->uid) != 0)) {
            _exit(126);
        }
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        std::vector<char*> e;
        for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
        e.push_back(nullptr);
        execve(a[0], a.data(), e.data());
        _exit(127);
    }
    int st = 0;
    struct rusage ru {};
    wait4(pid, &st, 0, &ru);
    g_last_maxrss_kb = ru.ru_maxrss;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        std::fprintf(stderr, "bench: %s exited with status %d\n", argv[0].c_str(), st);
        std::exit(1);
    }
    return ms_since(t);
}

int setup() {
    std::printf("%-8s %10s %10s %12s %12s %10s\n", "denied", "rules", "deny ms", "landlock ms", "seccomp ms",
                "total ms");
    for (int n : {10, 100, 1000}) {
        char tmpl[] = "/tmp/diagbench.XXXXXX";
        const std::string dir = mkdtemp(tmpl);
        std::vector<diag::deny_list::RawDeny> raw;
        // Denied paths spread the way real ones are: a few per directory, in many directories.
        for (int i = 0; i < n; ++i) {
            const std::string d = dir + "/svc" + std::to_string(i / 4);
            std::filesystem::create_directories(d);
            const std::string f = d + "/secret" + std::to_string(i % 4);
            std::ofstream(f) << "x";
            raw.push_back({f, "bench"});
        }
        std::vector<double> tdeny, tll, tsc, ttotal;
        size_t rules = 0;
        for (int rep = 0; rep < 21; ++rep) {
            const auto t0 = Clock::now();
            auto deny = diag::deny_list::build_deny(raw);
            const double a = ms_since(t0);
            const auto t1 = Clock::now();
            auto ll = diag::landlock::build(*deny, {"/usr/bin/true"});
            const double b = ms_since(t1);
            const auto t2 = Clock::now();
            const auto sc = diag::seccomp::filters(false);  // compiled at build time: a copy
            const double c = ms_since(t2);
            if (!deny.ok() || !ll.ok() || sc.policy.code.empty()) {
                std::fprintf(stderr, "bench: setup failed\n");
                return 1;
            }
            rules = ll->rules;
            tdeny.push_back(a);
            tll.push_back(b);
            tsc.push_back(c);
            ttotal.push_back(a + b + c);
        }
        std::printf("%-8d %10zu %10.3f %12.3f %12.3f %10.3f\n", n, rules, median(tdeny), median(tll), median(tsc),
                    median(ttotal));
        std::filesystem::remove_all(dir);
    }
    return 0;
}

int requests(const std::string& wrapper, const std::string& policy, const std::string& file, bool cat_only) {
    const int reps = 400;
    struct Case {
        std::string name;
        std::vector<std::string> direct;
        std::string request;
    } cases[] = {
        {"/bin/true", {"/usr/bin/true"}, "true"},
        {"cat small file", {"/usr/bin/cat", file}, "cat " + file},
    };
    // The direct run gets the environment the wrapper gives its child (env.cc: C.UTF-8 locale,
    // TZ, pager settings), so both run the same command the same way: with LC_ALL=C.UTF-8, cat
    // loads the locale's files, which is the command's cost, not the wrapper's. The same command
    // with only PATH set is shown beside it.
    const std::vector<std::string> child_env = diag::env::build({"/usr/bin", "/bin"});
    std::printf("%-16s %12s %12s %12s %14s\n", "command", "direct ms", "wrapper ms", "overhead ms", "bare-env ms");
    for (const auto& c : cases) {
        if (cat_only && c.request.rfind("cat ", 0) != 0) {
            continue;  // the shipped policy has no `true` rule
        }
        std::vector<double> d, w, bare;
        // The wrapper builds its child's environment itself; diag_bench_floor passes its own on.
        std::vector<std::string> with_request = child_env;
        with_request.push_back("SSH_ORIGINAL_COMMAND=" + c.request);
        for (int i = 0; i < reps; ++i) {
            d.push_back(run(c.direct, child_env));
            w.push_back(run({wrapper, "--policy", policy}, with_request));
            bare.push_back(run(c.direct, {"PATH=/usr/bin:/bin"}));
        }
        std::printf("%-16s %12.3f %12.3f %12.3f %14.3f\n", c.name.c_str(), median(d), median(w), median(w) - median(d),
                    median(bare));
    }
    return 0;
}

// Median overheads over `reps` rounds of `request` (`cat FILE` unless given), every round running
// the direct command (`direct`: the request's words with the program's path) and then each of
// `wrapped` (argv prefixes; the request goes in SSH_ORIGINAL_COMMAND) in turn, so all of them see
// the same drift of the machine.
std::vector<double> interleaved_overheads(const std::vector<std::vector<std::string>>& wrapped, const std::string& file,
                                          int reps, double& direct_ms, std::vector<std::string> direct_argv = {}) {
    if (direct_argv.empty()) {
        direct_argv = {"/usr/bin/cat", file};
    }
    std::string request = std::filesystem::path(direct_argv[0]).filename();
    for (size_t i = 1; i < direct_argv.size(); ++i) {
        request += " " + direct_argv[i];
    }
    const std::vector<std::string> child_env = diag::env::build({"/usr/bin", "/bin"});
    std::vector<std::string> with_request = child_env;
    with_request.push_back("SSH_ORIGINAL_COMMAND=" + request);
    std::vector<double> direct;
    std::vector<std::vector<double>> times(wrapped.size());
    for (int i = 0; i < reps; ++i) {
        direct.push_back(run(direct_argv, child_env));
        for (size_t w = 0; w < wrapped.size(); ++w) {
            times[w].push_back(run(wrapped[w], with_request));
        }
    }
    direct_ms = median(direct);
    std::vector<double> out;
    for (const auto& t : times) {
        out.push_back(median(t) - direct_ms);
    }
    return out;
}

// The target: the wrapper with the shipped policy at most 2x the floor's overhead.
int shipped(const std::string& floor, const std::string& wrapper, const std::string& imaged, const std::string& files,
            const std::string& small, const std::string& file) {
    double direct = 0;
    const auto o = interleaved_overheads({{floor, "--policy", imaged},
                                          {wrapper, "--policy", imaged},
                                          {wrapper, "--policy", files},
                                          {wrapper, "--policy", small}},
                                         file, 400, direct);
    std::printf("cat small file, median of 400, interleaved: direct %.3f ms\n", direct);
    std::printf("%-44s %12s %10s\n", "", "overhead ms", "x floor");
    std::printf("%-44s %12.3f %10.2f\n", "the floor (fork, exec, wait)", o[0], 1.0);
    std::printf("%-44s %12.3f %10.2f\n", "wrapper, shipped policy, compiled image", o[1], o[1] / o[0]);
    std::printf("%-44s %12.3f %10.2f\n", "wrapper, shipped policy, from its files", o[2], o[2] / o[0]);
    std::printf("%-44s %12.3f %10.2f\n", "wrapper, bench policy (4 deny entries)", o[3], o[3] / o[0]);
    // cat's rule reads only its operands (adr/0023); stat's reads the file system outside the
    // denylist (name-service files), so its child gets the complement ruleset.
    const auto s = interleaved_overheads({{floor, "--policy", imaged}, {wrapper, "--policy", imaged}}, file, 400,
                                         direct, {"/usr/bin/stat", "-c", "%s", file});
    std::printf("stat -c %%s small file (a rule reading the file system), median of 400: direct %.3f ms\n", direct);
    std::printf("%-44s %12.3f %10.2f\n", "the floor (fork, exec, wait)", s[0], 1.0);
    std::printf("%-44s %12.3f %10.2f\n", "wrapper, shipped policy, compiled image", s[1], s[1] / s[0]);
    return 0;
}

// The per-request cost against the number of rules: one `cat` request under each policy.
int scaling(const std::string& wrapper, const std::string& file, const std::vector<std::string>& policies) {
    std::vector<std::vector<std::string>> wrapped;
    for (const auto& p : policies) {
        wrapped.push_back({wrapper, "--policy", p});
    }
    double direct = 0;
    const auto o = interleaved_overheads(wrapped, file, 400, direct);
    std::printf("%-40s %12s %12s\n", "policy (cat small file, median of 400)", "overhead ms", "vs first");
    for (size_t i = 0; i < o.size(); ++i) {
        std::printf("%-40s %12.3f %+11.1f%%\n", policies[i].substr(policies[i].rfind('/') + 1).c_str(), o[i],
                    100.0 * (o[i] - o[0]) / o[0]);
    }
    return 0;
}

// A 3-stage pipeline through the wrapper (a confined child per stage, adr/0013) next to the single
// command it starts with, and next to the same pipeline run directly by sh.
int pipeline(const std::string& wrapper, const std::string& policy, const std::string& file) {
    const int reps = 200;
    const std::string request = "cat " + file + " | grep -c hello | head -n 1";
    const std::vector<std::string> child_env = diag::env::build({"/usr/bin", "/bin"});
    std::vector<double> direct, single, piped;
    for (int i = 0; i < reps; ++i) {
        direct.push_back(run({"/bin/sh", "-c", request}, child_env));
        single.push_back(run({wrapper, "--policy", policy}, {"SSH_ORIGINAL_COMMAND=cat " + file}));
        piped.push_back(run({wrapper, "--policy", policy}, {"SSH_ORIGINAL_COMMAND=" + request}));
    }
    std::printf("%-34s %12s\n", "request (median of 200)", "wall ms");
    std::printf("%-34s %12.3f\n", "sh -c 'cat F | grep -c | head'", median(direct));
    std::printf("%-34s %12.3f\n", "wrapper: cat F", median(single));
    std::printf("%-34s %12.3f\n", "wrapper: cat F | grep -c | head", median(piped));
    std::printf("pipeline overhead over sh: %.3f ms; over the single command: %.3f ms\n",
                median(piped) - median(direct), median(piped) - median(single));
    return 0;
}

int stream(const std::string& wrapper, const std::string& policy, const std::string& file) {
    const double gib = static_cast<double>(std::filesystem::file_size(file)) / (1024.0 * 1024 * 1024);
    std::vector<double> d, w, rss;
    for (int i = 0; i < 5; ++i) {
        // A reader on a pipe, as sshd is: the output is consumed and thrown away.
        for (int which = 0; which < 2; ++which) {
            int p[2];
            if (pipe(p) != 0) return 1;
            const pid_t reader = fork();
            if (reader == 0) {
                close(p[1]);
                static char buf[1 << 20];
                while (read(p[0], buf, sizeof buf) > 0) {
                }
                _exit(0);
            }
            close(p[0]);
            const double ms = which == 0
                                  ? run({"/usr/bin/cat", file}, {"PATH=/usr/bin:/bin"}, p[1])
                                  : run({wrapper, "--policy", policy}, {"SSH_ORIGINAL_COMMAND=cat " + file}, p[1]);
            if (which == 1) {
                rss.push_back(static_cast<double>(g_last_maxrss_kb));
            }
            close(p[1]);
            waitpid(reader, nullptr, 0);
            (which == 0 ? d : w).push_back(ms);
        }
    }
    const double dr = gib / (median(d) / 1000.0);
    const double wr = gib / (median(w) / 1000.0);
    std::printf("stream %.2f GiB: direct %.2f GiB/s, wrapper %.2f GiB/s, ratio %.1f%%; wrapper peak RSS %.1f MiB\n",
                gib, dr, wr, 100.0 * wr / dr, median(rss) / 1024.0);
    return 0;
}

// Peak RSS of the wrapper process (wait4), median and largest of 21 requests each. wait4 reports
// the larger of the wrapper's own peak and its child's; `true` and `cat` stay near 1 MiB, so
// above that the number is the wrapper's.
int rss(const std::string& wrapper, const std::string& policy, const std::string& file, bool cat_only) {
    std::printf("%-16s %16s %16s\n", "request", "median MiB", "largest MiB");
    for (const std::string& request : {std::string("true"), "cat " + file}) {
        if (cat_only && request == "true") {
            continue;  // the shipped policy has no `true` rule
        }
        std::vector<double> kb;
        for (int i = 0; i < 21; ++i) {
            run({wrapper, "--policy", policy}, {"SSH_ORIGINAL_COMMAND=" + request});
            kb.push_back(static_cast<double>(g_last_maxrss_kb));
        }
        std::printf("%-16s %16.2f %16.2f\n", request.substr(0, 16).c_str(), median(kb) / 1024.0,
                    *std::max_element(kb.begin(), kb.end()) / 1024.0);
    }
    return 0;
}

// RUNAS: a user name, or "-" for the caller.
bool set_runas(const std::string& name) {
    if (name == "-") {
        return true;
    }
    const passwd* pw = getpwnam(name.c_str());
    if (pw == nullptr) {
        std::fprintf(stderr, "diag_bench: no user %s\n", name.c_str());
        return false;
    }
    g_runas = Cred{pw->pw_uid, pw->pw_gid};
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "setup") {
        return setup();
    }
    if ((mode == "shipped" && argc == 9) || (mode == "scaling" && argc >= 6)) {
        if (!set_runas(argv[2])) {
            return 2;
        }
        if (mode == "shipped") {
            return shipped(argv[3], argv[4], argv[5], argv[6], argv[7], argv[8]);
        }
        return scaling(argv[3], argv[4], std::vector<std::string>(argv + 5, argv + argc));
    }
    if ((mode == "requests" || mode == "stream" || mode == "pipeline" || mode == "rss") &&
        (argc == 6 || (argc == 7 && std::string(argv[6]) == "cat-only"))) {
        if (!set_runas(argv[2])) {
            return 2;
        }
        if (mode == "pipeline") {
            return pipeline(argv[3], argv[4], argv[5]);
        }
        if (mode == "rss") {
            return rss(argv[3], argv[4], argv[5], argc == 7);
        }
        return mode == "requests" ? requests(argv[3], argv[4], argv[5], argc == 7) : stream(argv[3], argv[4], argv[5]);
    }
    std::fprintf(stderr,
                 "usage: diag_bench setup | requests|stream|pipeline|rss RUNAS WRAPPER POLICY FILE [cat-only] |"
                 " shipped RUNAS FLOOR WRAPPER IMAGED_POLICY FILES_POLICY SMALL_POLICY FILE | scaling RUNAS WRAPPER "
                 "FILE POLICY...\n");
    return 2;
}
