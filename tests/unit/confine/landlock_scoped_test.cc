// SPDX-License-Identifier: Apache-2.0
// The rulesets of named files (landlock_scoped.cc) on real binaries. The filter ruleset
// (build_filter): the text tools a pipeline uses run correctly reading their stdin under it, and it
// refuses a world-readable file that the complement ruleset lets through. The operand ruleset
// (build_operands): the file readers run on their operands, and nothing beside them is readable.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "wrapper/base/sys.h"
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

// The executable is granted as the fd exec::prepare checked against its pin, never by its name
// opened again: the rule and the denylist's inode check go on that object.
TEST_F(LandlockFilter, TheExecutableIsGrantedAsItsCheckedFd) {
    sys::UniqueFd exe(::open(DIAG_OPEN_PROBE_BIN, O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(exe.valid());
    std::vector<std::string> paths = exec_paths(DIAG_OPEN_PROBE_BIN);
    paths.back() = "/nonexistent/diag-open-probe";  // never opened
    auto rs = build_filter(policy::Deny{}, paths, exe.get());
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, "/etc/hostname"}, "").out, std::to_string(EACCES) + "\n");
    auto deny = deny_list::build_deny({{DIAG_OPEN_PROBE_BIN, "test"}});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    auto refused = build_filter(*deny, paths, exe.get());
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().msg.find("denied file"), std::string::npos) << refused.error().msg;
}

// A program whose ELF interpreter cannot be opened cannot be started: the build says which file,
// in one line, instead of searching its libraries without the loader's directory.
TEST_F(LandlockFilter, AnInterpreterThatCannotBeOpenedIsAnError) {
    std::ifstream in(DIAG_OPEN_PROBE_BIN, std::ios::binary);
    std::string elf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string ld = [&] {
        sys::UniqueFd fd(::open(DIAG_OPEN_PROBE_BIN, O_RDONLY | O_CLOEXEC));
        return fd.valid() ? elf_interpreter(fd.get()) : std::string();
    }();
    const size_t at = ld.empty() ? std::string::npos : elf.find(ld + '\0');
    if (at == std::string::npos || ld.size() < 12) {
        GTEST_SKIP() << DIAG_OPEN_PROBE_BIN << " has no ELF interpreter to replace";
    }
    // The same length, so every offset in the file stays where it was.
    const std::string missing = "/nonexistent" + std::string(ld.size() - 12, 'x');
    elf.replace(at, ld.size(), missing);
    char path[] = "/tmp/diag-interp.XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, elf.data(), elf.size()), static_cast<ssize_t>(elf.size()));
    ::close(fd);
    auto rs = build_filter(policy::Deny{}, {path});
    ::unlink(path);
    ASSERT_FALSE(rs.ok());
    EXPECT_NE(rs.error().msg.find("open(" + missing + ", the ELF interpreter of " + path + ")"), std::string::npos)
        << rs.error().msg;
    EXPECT_EQ(rs.error().msg.find('\n'), std::string::npos) << rs.error().msg;
}

// A rule on the locale directory would reach every file below it: a deny entry there keeps the
// directory out of the ruleset (glibc falls back to "C"), and the denied file stays unreadable.
TEST_F(LandlockFilter, ADenyEntryBelowTheLocaleKeepsTheLocaleOut) {
    const std::string locale = "/usr/lib/locale/C.utf8";
    const std::string ctype = locale + "/LC_CTYPE";
    if (::access(ctype.c_str(), R_OK) != 0) {
        GTEST_SKIP() << ctype << " is not there";
    }
    auto open_rs = build_filter(policy::Deny{}, exec_paths(DIAG_OPEN_PROBE_BIN));
    ASSERT_TRUE(open_rs.ok()) << open_rs.error().msg;
    EXPECT_EQ(run_confined(*open_rs, {DIAG_OPEN_PROBE_BIN, ctype}, "").out, "0\n");
    auto deny = deny_list::build_deny({{ctype, "test"}});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    auto rs = build_filter(*deny, exec_paths(DIAG_OPEN_PROBE_BIN));
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    for (const auto& f : rs->files) {
        EXPECT_NE(f.rfind(locale, 0), 0U) << f;
    }
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, ctype}, "").out, std::to_string(EACCES) + "\n");
}

// A world-readable scratch directory with two files, removed at the end of the test.
class Scratch {
  public:
    Scratch() {
        char dir[] = "/tmp/diag-operands.XXXXXX";
        if (::mkdtemp(dir) != nullptr) {
            dir_ = dir;
            ::chmod(dir, 0755);
            write("a.txt", "alpha\nbeta\n");
            write("b.txt", "secret sibling\n");
        }
    }
    ~Scratch() {
        for (const auto& f : files_) ::unlink(f.c_str());
        if (!dir_.empty()) ::rmdir(dir_.c_str());
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    const std::string& dir() const { return dir_; }

    void write(const std::string& name, const std::string& text) {
        const std::string p = path(name);
        std::ofstream(p) << text;
        ::chmod(p.c_str(), 0644);
        files_.push_back(p);
    }

  private:
    std::string dir_;
    std::vector<std::string> files_;
};

class LandlockOperands : public LandlockFilter {
  protected:
    // The operand ruleset for `exe` reading `paths` (each opened O_PATH, as path_resolve holds it).
    Result<Ruleset> operands_of(const std::string& exe, const std::vector<std::string>& paths,
                                const policy::Deny& deny = policy::Deny{}) {
        std::vector<Operand> ops;
        for (const auto& p : paths) {
            held_.emplace_back(::open(p.c_str(), O_PATH | O_CLOEXEC));
            ops.push_back({held_.back().get(), p});
        }
        return build_operands(deny, exec_paths(exe), ops, {}, {});
    }

    std::vector<sys::UniqueFd> held_;
};

TEST_F(LandlockOperands, FileReadersRunOnTheirOperands) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    struct Case {
        std::vector<std::string> argv;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {{"/usr/bin/cat", s.path("a.txt")}, "alpha\nbeta\n"},
        {{"/usr/bin/head", "-n", "1", s.path("a.txt")}, "alpha\n"},
        {{"/usr/bin/tail", "-n", "1", s.path("a.txt")}, "beta\n"},
        {{"/usr/bin/wc", "-l", s.path("a.txt")}, "2 " + s.path("a.txt") + "\n"},
        {{"/usr/bin/grep", "-c", "a", s.path("a.txt")}, "2\n"},
        {{"/usr/bin/sha256sum", s.path("a.txt")},
         "e49c81e2d2f84e259d40e2fb8192f3bcd198b355184845d76d8f58807d0d78ee  " + s.path("a.txt") + "\n"},
    };
    for (const auto& c : cases) {
        if (::access(c.argv[0].c_str(), X_OK) != 0) {
            continue;  // not installed here
        }
        auto rs = operands_of(c.argv[0], {s.path("a.txt")});
        ASSERT_TRUE(rs.ok()) << rs.error().msg;
        EXPECT_EQ(rs->operands, 1U);
        const Ran r = run_confined(*rs, c.argv, "");
        EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << c.argv[0] << ": status " << r.status;
        EXPECT_EQ(r.out, c.expect) << c.argv[0];
    }
}

// The operand opens; its world-readable sibling, a system file and the directory around it do not
// (each readable under the complement of an empty denylist).
TEST_F(LandlockOperands, NothingBesideTheOperandsIsReadable) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    auto rs = operands_of(DIAG_OPEN_PROBE_BIN, {s.path("a.txt")});
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    const std::string refused = std::to_string(EACCES) + "\n";
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, s.path("a.txt")}, "").out, "0\n");
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, s.path("b.txt")}, "").out, refused);
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, "/etc/passwd"}, "").out, refused);
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, s.dir()}, "").out, refused);
    auto deny = deny_list::build_deny({});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    auto complement = build(*deny, exec_paths(DIAG_OPEN_PROBE_BIN));
    ASSERT_TRUE(complement.ok()) << complement.error().msg;
    EXPECT_EQ(run_confined(*complement, {DIAG_OPEN_PROBE_BIN, s.path("b.txt")}, "").out, "0\n");
}

// A directory operand is listed, never read through: the directory opens, a file in it does not.
TEST_F(LandlockOperands, ADirectoryOperandGivesItsNamesNotItsFiles) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    auto rs = operands_of(DIAG_OPEN_PROBE_BIN, {s.dir()});
    ASSERT_TRUE(rs.ok()) << rs.error().msg;
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, s.dir()}, "").out, "0\n");
    EXPECT_EQ(run_confined(*rs, {DIAG_OPEN_PROBE_BIN, s.path("a.txt")}, "").out, std::to_string(EACCES) + "\n");
}

// Only files and directories reach the ruleset as content operands (path_resolve refuses the
// rest); anything else that did would be refused here, not granted.
TEST_F(LandlockOperands, AnOperandThatIsNeitherFileNorDirectoryIsRefused) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    const std::string fifo = s.path("fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    auto rs = operands_of(DIAG_OPEN_PROBE_BIN, {fifo});
    ::unlink(fifo.c_str());
    ASSERT_FALSE(rs.ok());
    EXPECT_NE(rs.error().msg.find("neither a file nor a directory"), std::string::npos) << rs.error().msg;
}

// An operand whose inode the denylist holds never gets a rule, whatever name it came by (a hard
// link the checks before missed would be caught here).
TEST_F(LandlockOperands, ADeniedObjectIsRefusedByInode) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    auto deny = deny_list::build_deny({{s.path("b.txt"), "test"}});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    const std::string link = s.path("c.txt");
    ASSERT_EQ(::link(s.path("b.txt").c_str(), link.c_str()), 0);
    auto rs = operands_of(DIAG_OPEN_PROBE_BIN, {link}, *deny);
    ::unlink(link.c_str());
    ASSERT_FALSE(rs.ok());
    EXPECT_NE(rs.error().msg.find("not a checked object"), std::string::npos) << rs.error().msg;
    EXPECT_TRUE(operands_of(DIAG_OPEN_PROBE_BIN, {s.path("a.txt")}, *deny).ok());
}

// A file the loader needs (a library found through a RUNPATH whose directory someone may write)
// is checked as the object granted, not by a name looked up again: a name swapped between the
// check and the rule for a denied file never gets that file a rule.
TEST_F(LandlockOperands, ANameSwappedForADeniedFileDuringTheBuildGrantsNothing) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    const std::string sec = s.path("sec");
    ASSERT_EQ(::mkdir(sec.c_str(), 0755), 0);
    const std::string key = sec + "/key";
    std::ofstream(key) << "denied\n";
    ::chmod(key.c_str(), 0644);
    auto deny = deny_list::build_deny({{sec, "test"}});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    const std::string lib = s.path("lib.so");
    const std::string tmp = s.path("lib.tmp");
    std::atomic<bool> stop{false};
    std::thread swapper([&] {
        for (bool to_key = false; !stop.load(); to_key = !to_key) {
            ::unlink(tmp.c_str());
            if (::symlink(to_key ? key.c_str() : s.path("a.txt").c_str(), tmp.c_str()) == 0) {
                (void)::rename(tmp.c_str(), lib.c_str());
            }
        }
    });
    std::vector<std::string> paths = exec_paths(DIAG_OPEN_PROBE_BIN);
    paths.push_back(lib);
    int built = 0;
    int breached = 0;
    for (int i = 0; i < 4000 && breached == 0; ++i) {
        auto rs = build_filter(*deny, paths);
        if (!rs.ok()) {
            continue;  // the denied file seen and refused, or the name missing mid-swap
        }
        ++built;
        if (run_confined(*rs, {DIAG_OPEN_PROBE_BIN, key}, "").out == "0\n") {
            ++breached;
        }
    }
    stop = true;
    swapper.join();
    ::unlink(lib.c_str());
    ::unlink(tmp.c_str());
    ::unlink(key.c_str());
    ::rmdir(sec.c_str());
    EXPECT_GT(built, 0);
    EXPECT_EQ(breached, 0) << "a ruleset granted the denied " << key;
}

// A directory on the way to a file the loader needs that is a symlink into a denied directory: the
// name as given is not the file's real path, and the real one is denied.
TEST_F(LandlockOperands, ADirectoryOnTheWayIntoADeniedOneIsRefused) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    const std::string sec = s.path("sec");
    ASSERT_EQ(::mkdir(sec.c_str(), 0755), 0);
    std::ofstream(sec + "/lib.so") << "denied\n";
    ::chmod((sec + "/lib.so").c_str(), 0644);
    ASSERT_EQ(::symlink(sec.c_str(), s.path("via").c_str()), 0);
    auto deny = deny_list::build_deny({{sec, "test"}});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    std::vector<std::string> paths = exec_paths(DIAG_OPEN_PROBE_BIN);
    paths.push_back(s.path("via/lib.so"));
    auto rs = build_filter(*deny, paths);
    ::unlink(s.path("via").c_str());
    ::unlink((sec + "/lib.so").c_str());
    ::rmdir(sec.c_str());
    ASSERT_FALSE(rs.ok());
    EXPECT_NE(rs.error().msg.find("denied file " + sec + "/lib.so"), std::string::npos) << rs.error().msg;
}

// The same, raced: a directory on the way swapped (renameat2 RENAME_EXCHANGE) between a real one
// and a symlink into a denied directory while the rulesets are built. A name walked without a
// symlink is the real path of what it opened; one walked through a symlink is named by the kernel.
TEST_F(LandlockOperands, ADirectorySwappedForASymlinkIntoADeniedOneGrantsNothing) {
    Scratch s;
    ASSERT_FALSE(s.dir().empty());
    const std::string sec = s.path("sec");
    const std::string dir = s.path("d");
    const std::string via = s.path("via");
    ASSERT_EQ(::mkdir(sec.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    for (const std::string& f : {sec + "/lib.so", dir + "/lib.so"}) {
        std::ofstream(f) << "x\n";
        ::chmod(f.c_str(), 0644);
    }
    ASSERT_EQ(::symlink(sec.c_str(), via.c_str()), 0);
    auto deny = deny_list::build_deny({{sec, "test"}});
    ASSERT_TRUE(deny.ok()) << deny.error().msg;
    std::atomic<bool> stop{false};
    std::thread swapper([&] {
        while (!stop.load()) {
            (void)::syscall(SYS_renameat2, AT_FDCWD, dir.c_str(), AT_FDCWD, via.c_str(), RENAME_EXCHANGE);
        }
    });
    std::vector<std::string> paths = exec_paths(DIAG_OPEN_PROBE_BIN);
    paths.push_back(dir + "/lib.so");
    int built = 0;
    int breached = 0;
    for (int i = 0; i < 4000 && breached == 0; ++i) {
        auto rs = build_filter(*deny, paths);
        if (!rs.ok()) {
            continue;  // the denied file seen and refused
        }
        ++built;
        if (run_confined(*rs, {DIAG_OPEN_PROBE_BIN, sec + "/lib.so"}, "").out == "0\n") {
            ++breached;
        }
    }
    stop = true;
    swapper.join();
    // Whichever name the real directory has now, both go.
    for (const std::string& d : {dir, via}) {
        ::unlink((d + "/lib.so").c_str());
        ::unlink(d.c_str());
        ::rmdir(d.c_str());
    }
    ::unlink((sec + "/lib.so").c_str());
    ::rmdir(sec.c_str());
    EXPECT_GT(built, 0);
    EXPECT_EQ(breached, 0) << "a ruleset granted the denied " << sec << "/lib.so";
}

}  // namespace
}  // namespace diag::landlock
