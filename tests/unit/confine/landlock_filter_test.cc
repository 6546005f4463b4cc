// SPDX-License-Identifier: Apache-2.0
// The filter ruleset (landlock::build_filter) on real binaries: the text tools a pipeline uses run
// correctly reading their stdin under it, and it refuses a world-readable file that the complement
// ruleset lets through.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "wrapper/confine/env.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/policy/deny_list.h"

namespace diag::landlock {
namespace {

struct Ran {
    int status = -1;
    std::string out;
};

// Runs `argv` (argv[0] a path) with `input` on its stdin and the wrapper's environment, confined
// by `rs`; returns its wait status and stdout.
Ran run_confined(const Ruleset& rs, const std::vector<std::string>& argv, const std::string& input) {
    Ran r;
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
        return r;
    }
    std::vector<std::string> env = env::build({"/usr/bin", "/bin"});
    std::vector<char*> av;
    std::vector<char*> ev;
    for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    for (auto& e : env) ev.push_back(e.data());
    ev.push_back(nullptr);
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::dup2(in[0], 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(null, 2) < 0 || ::chdir("/") != 0 ||
            ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || restrict_self(rs) != 0) {
            ::_exit(126);
        }
        ::execve(av[0], av.data(), ev.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(null);
    std::thread writer([&] {
        (void)::signal(SIGPIPE, SIG_IGN);
        for (size_t off = 0; off < input.size();) {
            const ssize_t n = ::write(in[1], input.data() + off, input.size() - off);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
        }
        ::close(in[1]);
    });
    char buf[65536];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0) {
        r.out.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    writer.join();
    ::waitpid(pid, &r.status, 0);
    return r;
}

class LandlockFilter : public ::testing::Test {
  protected:
    void SetUp() override {
        if (abi_version() < kMinAbi) {
            GTEST_SKIP() << "Landlock ABI " << abi_version() << " < " << kMinAbi << " in this kernel";
        }
    }

    // `exe` and its ELF interpreter, as exec::prepare lists them.
    static std::vector<std::string> exec_paths(const std::string& exe) {
        std::vector<std::string> paths;
        const int fd = ::open(exe.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (std::string ld = elf_interpreter(fd); !ld.empty()) {
                paths.push_back(ld);
            }
            ::close(fd);
        }
        paths.push_back(exe);
        return paths;
    }

    static Result<Ruleset> filter_of(const std::string& exe) { return build_filter(policy::Deny{}, exec_paths(exe)); }

    // `tool args...` on `input` under its filter ruleset: exits 0 and prints `expect`.
    static void expect_filter(const std::vector<std::string>& argv, const std::string& input,
                              const std::string& expect) {
        if (::access(argv[0].c_str(), X_OK) != 0) {
            GTEST_SKIP() << argv[0] << " is not installed";
        }
        auto rs = filter_of(argv[0]);
        ASSERT_TRUE(rs.ok()) << rs.error().msg;
        const Ran r = run_confined(*rs, argv, input);
        EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << argv[0] << ": status " << r.status;
        EXPECT_EQ(r.out, expect) << argv[0];
    }
};

TEST_F(LandlockFilter, TextToolsRunCorrectlyOnTheirStdin) {
    const std::string text = "banana\napple\ncherry\napple\n";
    expect_filter({"/usr/bin/grep", "an"}, text, "banana\n");
    expect_filter({"/usr/bin/grep", "-P", "^a\\w+e$"}, text, "apple\napple\n");
    expect_filter({"/usr/bin/head", "-n", "1"}, text, "banana\n");
    expect_filter({"/usr/bin/tail", "-n", "1"}, text, "apple\n");
    expect_filter({"/usr/bin/wc", "-l"}, text, "4\n");
    expect_filter({"/usr/bin/sort"}, text, "apple\napple\nbanana\ncherry\n");
    expect_filter({"/usr/bin/uniq", "-c"}, "a\na\nb\n", "      2 a\n      1 b\n");
    expect_filter({"/usr/bin/cut", "-c", "1-3"}, text, "ban\napp\nche\napp\n");
    expect_filter({"/usr/bin/tr", "a-z", "A-Z"}, "abc\n", "ABC\n");
    // In the wrapper's locale, C.UTF-8: characters, not bytes.
    expect_filter({"/usr/bin/wc", "-m"}, "\xc3\xa9\n", "2\n");
    expect_filter({"/usr/bin/grep", "-P", "^.$"}, "\xc3\xa9\n", "\xc3\xa9\n");
}

// sort has no temporary directory under the filter ruleset: it sorts in memory. From a pipe, its
// default buffer holds about 2 MB (more needs a temporary file, refused: sort fails, exit 2); -S
// sets a larger buffer.
TEST_F(LandlockFilter, SortOfSeveralMegabytesNeedsNoTemporaryFileWithAnExplicitBuffer) {
    if (::access("/usr/bin/sort", X_OK) != 0) {
        GTEST_SKIP() << "sort is not installed";
    }
    auto rs = filter_of("/usr/bin/sort");
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    auto numbers = [](long lines) {
        std::string input;
        for (long i = 0; i < lines; ++i) {
            input += std::to_string((i * 7919) % lines) + " some padding text\n";
        }
        return input;
    };
    const std::string small = numbers(60000);  // 1.4 MB: within the default buffer
    Ran r = run_confined(*rs, {"/usr/bin/sort", "-n"}, small);
    ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << "status " << r.status;
    EXPECT_EQ(r.out.size(), small.size());
    const std::string big = numbers(400000);  // 10 MB
    r = run_confined(*rs, {"/usr/bin/sort", "-n", "-S", "64M"}, big);
    ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << "status " << r.status;
    EXPECT_EQ(r.out.size(), big.size());
    EXPECT_EQ(r.out.substr(0, 20), "0 some padding text\n");
    // Past the default buffer it needs /tmp, which a filter does not get: it fails, loudly.
    r = run_confined(*rs, {"/usr/bin/sort", "-n"}, big);
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2) << "status " << r.status;
}

TEST_F(LandlockFilter, WhatItGrantsIsTheBinaryItsLoaderAndLibrariesOnly) {
    if (::access("/usr/bin/grep", X_OK) != 0) {
        GTEST_SKIP() << "grep is not installed";
    }
    auto rs = filter_of("/usr/bin/grep");
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    bool libc = false;
    for (const auto& f : rs->files) {
        libc = libc || f.find("/libc.so") != std::string::npos;
        EXPECT_TRUE(f == "/usr/bin/grep" || f == "/dev/null" || f == "/etc/ld.so.cache" ||
                    f.find(".so") != std::string::npos || f.rfind("/usr/lib/locale/C.utf8", 0) == 0)
            << f;
    }
    EXPECT_TRUE(libc);
}

// The probe opens a world-readable file: refused under the filter ruleset, allowed under the
// complement of an empty denylist.
TEST_F(LandlockFilter, AWorldReadableFileIsRefusedToAFilterOnly) {
    char path[] = "/tmp/diag-filter-probe.XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::fchmod(fd, 0644);
    ::close(fd);
    auto filter = filter_of(DIAG_OPEN_PROBE_BIN);
    ASSERT_TRUE(filter.ok()) << filter.error().msg;
    auto deny = deny_list::build_deny({});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    auto complement = build(*deny, exec_paths(DIAG_OPEN_PROBE_BIN));
    ASSERT_TRUE(complement.ok()) << complement.error().msg;
    const Ran under_filter = run_confined(*filter, {DIAG_OPEN_PROBE_BIN, path}, "");
    const Ran under_complement = run_confined(*complement, {DIAG_OPEN_PROBE_BIN, path}, "");
    ::unlink(path);
    EXPECT_EQ(under_filter.out, std::to_string(EACCES) + "\n");
    EXPECT_EQ(under_complement.out, "0\n");
}

}  // namespace
}  // namespace diag::landlock
