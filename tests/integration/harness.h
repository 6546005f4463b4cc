// SPDX-License-Identifier: Apache-2.0
// Runs the built diag-wrapper as sshd would (SSH_ORIGINAL_COMMAND, or -c), against a policy in a
// fresh root-owned temp dir, and captures exit status, stdout, stderr and the audit records.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/helpers/policies.h"
#include "tests/helpers/processes.h"
#include "wrapper/base/sys.h"

namespace diag::testing {

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Reads two fds to EOF together (a child that fills one pipe while the other is being read
// would otherwise block forever).
inline void read_both(int a, std::string& into_a, int b, std::string& into_b) {
    bool open[2] = {true, true};
    const int fds[2] = {a, b};
    std::string* into[2] = {&into_a, &into_b};
    char buf[65536];
    while (open[0] || open[1]) {
        pollfd p[2];
        int which[2];
        nfds_t n = 0;
        for (int i = 0; i < 2; ++i) {
            if (open[i]) {
                which[n] = i;
                p[n++] = {fds[i], POLLIN, 0};
            }
        }
        if (::poll(p, n, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (nfds_t k = 0; k < n; ++k) {
            if (p[k].revents == 0) continue;
            const ssize_t got = ::read(p[k].fd, buf, sizeof buf);
            if (got > 0) {
                into[which[k]]->append(buf, static_cast<size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                open[which[k]] = false;
            }
        }
    }
}

inline std::string read_fd_all(int fd) {
    std::string s;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        s.append(buf, static_cast<size_t>(n));
    }
    return s;
}

// Runs `argv` with exactly `env` (no inherited environment) and captures the outputs; stdin is
// the file `stdin_path` when one is given (what a client sends on the session channel).
inline RunResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                             const std::string& stdin_path = "") {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) {
        return {};
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (!stdin_path.empty()) {
            ::dup2(::open(stdin_path.c_str(), O_RDONLY), 0);
        }
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        std::vector<char*> e;
        for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
        e.push_back(nullptr);
        ::execve(a[0], a.data(), e.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    RunResult r;
    read_both(out_pipe[0], r.out, err_pipe[0], r.err);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// The binaries under test: the build's, unless DIAG_TEST_WRAPPER / DIAG_TEST_AUDIT name others
// (to show that a regression test fails on an older build).
inline std::string wrapper_bin() {
    const char* other = std::getenv("DIAG_TEST_WRAPPER");
    return other != nullptr && *other != '\0' ? other : DIAG_WRAPPER_BIN;
}
inline std::string audit_bin() {
    const char* other = std::getenv("DIAG_TEST_AUDIT");
    return other != nullptr && *other != '\0' ? other : DIAG_AUDIT_BIN;
}

// A root-owned sandbox directory with a policy, canary secrets and an audit file.
class WrapperFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root: the wrapper only accepts root-owned policies";
        }
        char tmpl[] = "/tmp/diagtest.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0755);
        std::filesystem::create_directories(dir_ + "/secret/sub");
        std::filesystem::create_directories(dir_ + "/pub/sub");
        write(dir_ + "/secret/canary.txt", canary_ + "\n", 0644);  // world-readable on purpose
        write(dir_ + "/secret/sub/deep.txt", canary_ + "-deep\n", 0644);
        write(dir_ + "/pub/readme.txt", "public-readme\n", 0644);
        write(dir_ + "/pub/sub/note.txt", "public-note\n", 0644);
        audit_ = dir_ + "/audit.jsonl";
    }

    void TearDown() override {
        // Bind mounts a test made and did not undo (a failed assertion returns early).
        for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
            ::umount2(it->c_str(), MNT_DETACH);
        }
        mounts_.clear();
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }

    static void write(const std::string& path, const std::string& text, mode_t mode) {
        std::ofstream(path) << text;
        ::chmod(path.c_str(), mode);
    }

    // The standard test policy header: search path, audit file, deny list (the secret dir plus
    // `extra_deny`), followed by `commands` (TOML text).
    std::string policy(const std::string& commands, const std::string& extra_deny = "") const {
        return "version = 1\n[settings]\nsearch_path = [\"/usr/bin\", \"/bin\", \"/usr/sbin\", \"/sbin\"]\n"
               "[audit]\nsinks = [\"file\"]\nfile = \"" +
               audit_ + "\"\n" + audit_extra_ + "[deny]\npaths = [\"" + dir_ +
               "/secret\", \"/etc/shadow*\", \"/etc/gshadow*\", "
               "\"/etc/ssh/ssh_host_*_key\"" +
               extra_deny + "]\n" + commands;
    }

    // A policy whose search path starts with a root-owned directory of the fixture holding the
    // test program `bin` (as any pinned program is), with `rules` after the `cat` rule.
    std::string policy_with_program(const std::string& bin, const std::string& rules) {
        const std::string name = std::filesystem::path(bin).filename();
        std::filesystem::create_directories(dir_ + "/bin");
        std::filesystem::copy_file(bin, dir_ + "/bin/" + name, std::filesystem::copy_options::overwrite_existing);
        ::chmod((dir_ + "/bin/" + name).c_str(), 0755);
        std::string text = policy(policies::rules({"cat"}) + rules);
        const std::string search = "search_path = [\"";
        text.replace(text.find(search), search.size(), search + dir_ + "/bin\", \"");
        return write_policy(text);
    }

    std::string write_policy(const std::string& text, const std::string& name = "policy.toml") {
        const std::string p = dir_ + "/" + name;
        write(p, text, 0644);
        return p;
    }

    // As sshd with ForceCommand: SSH_ORIGINAL_COMMAND carries the request.
    RunResult run_soc(const std::string& policy_path, const std::string& request,
                      std::vector<std::string> extra_env = {}) const {
        std::vector<std::string> env = {"SSH_ORIGINAL_COMMAND=" + request,
                                        "SSH_CONNECTION=192.0.2.7 50000 127.0.0.1 22", "PATH=/usr/bin:/bin"};
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        return run_process({wrapper_bin(), "--policy", policy_path}, env);
    }

    RunResult run_args(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) const {
        std::vector<std::string> argv = {wrapper_bin()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, env);
    }

    std::vector<nlohmann::json> audit_records() const {
        std::vector<nlohmann::json> out;
        std::ifstream in(audit_);
        std::string line;
        while (std::getline(in, line)) {
            out.push_back(nlohmann::json::parse(line));
        }
        return out;
    }

    // Bind-mounts `from` on `to` (root only); undone by unmount_all() or, at the latest, TearDown.
    bool bind_mount(const std::string& from, const std::string& to) {
        if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) {
            return false;
        }
        mounts_.push_back(to);
        return true;
    }

    void unmount_all() {
        for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
            EXPECT_EQ(::umount2(it->c_str(), 0), 0) << *it << ": " << std::strerror(errno);
        }
        mounts_.clear();
    }

    std::string dir_;
    std::string audit_;
    std::string audit_extra_;  // more [audit] keys for policy(), TOML lines
    std::vector<std::string> mounts_;
    std::string canary_ = "CANARY-" + std::to_string(::getpid()) + "-7f3a9";
};

// Asserts a refusal: exit 126, one stderr line with the reason code, no canary anywhere.
#define EXPECT_DENIED(result, reason)                                                                \
    do {                                                                                             \
        const ::diag::testing::RunResult& denied_r_ = (result);                                      \
        EXPECT_EQ(denied_r_.exit_code, 126) << denied_r_.err;                                        \
        EXPECT_EQ(denied_r_.err.rfind("diag-wrapper: denied: " reason ":", 0), 0u) << denied_r_.err; \
        EXPECT_EQ(std::count(denied_r_.err.begin(), denied_r_.err.end(), '\n'), 1) << denied_r_.err; \
        EXPECT_EQ(denied_r_.out, "");                                                                \
        EXPECT_EQ(denied_r_.err.find(canary_), std::string::npos);                                   \
    } while (0)

}  // namespace diag::testing
