// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/sinks.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "wrapper/base/deadline.h"

namespace diag::audit_sinks {
namespace {

// A datagram socket standing in for journald, in a fresh directory.
class Datagram : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/diagsink.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/journal.sock";
        sockaddr_un a{};
        if (path_.size() >= sizeof a.sun_path) {
            GTEST_SKIP() << "socket path too long for sun_path: " << path_;
        }
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, path_.c_str(), path_.size() + 1);
        ASSERT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
    }
    void TearDown() override {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string dir_;
    std::string path_;
    int fd_ = -1;
};

TEST_F(Datagram, SmallPayloadIsOneDatagram) {
    ASSERT_TRUE(send_datagram(path_, "MESSAGE=hi\n", "journald", true).ok());
    char buf[64];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    ASSERT_EQ(n, 11);
    EXPECT_EQ(std::string(buf, 11), "MESSAGE=hi\n");
}

// Review finding: a journald that does not read (stalled, restarting, or flooded: its socket is
// world-writable) kept the wrapper in a blocking send() forever, with its terminating signals
// held. The send now waits for room only as long as a sink may (here: the 1 s grace after a
// passed decision deadline) and fails.
TEST_F(Datagram, ASocketThatIsNotReadFailsTheSendWithinTheBound) {
    // Fill the receiver's queue (net.unix.max_dgram_qlen datagrams, or its buffer).
    const int filler = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path_.c_str(), path_.size() + 1);
    ASSERT_EQ(::connect(filler, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    const std::string chunk(1024, 'x');
    int sent = 0;
    while (::send(filler, chunk.data(), chunk.size(), MSG_NOSIGNAL) >= 0 && sent < 100000) {
        ++sent;
    }
    ::close(filler);
    ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
    deadline::start(0);
    const auto t0 = std::chrono::steady_clock::now();
    auto st = send_datagram(path_, "MESSAGE=hi\n", "journald", true);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    deadline::clear();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().msg.find("not sent within"), std::string::npos) << st.error().msg;
    EXPECT_GE(ms, 900);
    EXPECT_LT(ms, 10000);  // functional: it ends (before, it never did)
}

TEST_F(Datagram, PayloadTooLargeForADatagramGoesThroughASealedMemfd) {
    const std::string payload = "MESSAGE=" + std::string(4 << 20, 'x') + "\n";  // above any socket buffer
    EXPECT_FALSE(send_datagram(path_, payload, "syslog", false).ok());          // what a datagram sink gets
    auto st = send_datagram(path_, payload, "journald", true);
    ASSERT_TRUE(st.ok()) << st.error().msg;
    char data[16];
    union {
        cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control{};
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ASSERT_EQ(::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC), 0);  // no bytes: only the descriptor
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->cmsg_type, SCM_RIGHTS);
    int mem = -1;
    std::memcpy(&mem, CMSG_DATA(c), sizeof mem);
    std::string got(payload.size(), '\0');
    ASSERT_EQ(::pread(mem, got.data(), got.size(), 0), static_cast<ssize_t>(payload.size()));
    EXPECT_EQ(got, payload);
    EXPECT_LT(::pwrite(mem, "y", 1, 0), 0);  // sealed: journald reads what was sent
    ::close(mem);
}

// The file sink across a rotation (adr/0020): logrotate renames the file, creates the next one
// (mode 0600 first, then its group and mode) and the hooks restore the append-only attribute.
// Root only: the audit file must be root-owned in root-owned directories.
class AuditFileRotation : public ::testing::Test {
  protected:
    static constexpr gid_t kGroup = 4242;  // the account's group, which may append
    static constexpr uid_t kAccount = 65534;

    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root: the audit file is root-owned and the writer another account";
        }
        std::string tmpl = "/tmp/diagrotate.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        ASSERT_EQ(::chown(dir_.c_str(), 0, kGroup), 0);
        ASSERT_EQ(::chmod(dir_.c_str(), 0750), 0);
        path_ = dir_ + "/audit.jsonl";
        create_like_logrotate(path_);
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    // logrotate's create: O_EXCL with the owner's bits only, then chown and chmod.
    static void create_like_logrotate(const std::string& path) {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_GE(fd, 0) << std::strerror(errno);
        ASSERT_EQ(::fchown(fd, 0, kGroup), 0);
        ASSERT_EQ(::fchmod(fd, 0620), 0);
        ::close(fd);
    }
    static std::string slurp(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // write_file as the account (uid kAccount, group kGroup) in a child; "" when it succeeded,
    // else the error. `ms` receives how long it took.
    // `in_parent` runs in the parent once the child exists: a thread started before fork() could
    // hold an allocator lock the child then waits for forever (seen under ASan).
    std::string write_as_account(
        const std::string& line, long& ms, const std::function<void()>& in_parent = [] {}) {
        int p[2];
        EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
        const auto t0 = std::chrono::steady_clock::now();
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::alarm(60);  // a hang fails the test instead of stalling the suite
            ::close(p[0]);
            const gid_t groups[] = {kGroup};
            if (::setgroups(1, groups) != 0 || ::setresgid(kGroup, kGroup, kGroup) != 0 ||
                ::setresuid(kAccount, kAccount, kAccount) != 0) {
                _exit(3);
            }
            auto st = write_file(path_, line);
            const std::string msg = st.ok() ? "" : st.error().msg;
            (void)!::write(p[1], msg.data(), msg.size());
            _exit(st.ok() ? 0 : 1);
        }
        ::close(p[1]);
        in_parent();
        std::string msg;
        char buf[512];
        ssize_t n;
        while ((n = ::read(p[0], buf, sizeof buf)) > 0) {
            msg.append(buf, static_cast<size_t>(n));
        }
        ::close(p[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ms = static_cast<long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 3) << "could not become the account";
        return msg.empty() && WEXITSTATUS(status) != 0 ? "exit " + std::to_string(WEXITSTATUS(status)) : msg;
    }
    std::string dir_;
    std::string path_;
};

// A writer that opened the file just before the rename and got its lock after the rotation
// would have written into the rotated file, which the rotation has already compressed: the line
// would be lost. It now writes to the file that holds the name.
TEST_F(AuditFileRotation, ALineWaitingForTheLockAcrossTheRenameGoesToTheNewFile) {
    const int held = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(held, 0);
    ASSERT_EQ(::flock(held, LOCK_EX), 0);
    Status st = ok_status();
    std::thread writer([&] { st = write_file(path_, "{\"n\":1}\n"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // it has opened and waits for the lock
    ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
    create_like_logrotate(path_);
    ::close(held);  // the rotation's drain releases the old file
    writer.join();
    ASSERT_TRUE(st.ok()) << st.error().msg;
    EXPECT_EQ(slurp(path_), "{\"n\":1}\n");
    EXPECT_EQ(slurp(path_ + ".1"), "");
}

// Between the rename and the new file's chmod the account finds no file it may open: it waits
// for the new one instead of refusing the request (or losing an end record).
TEST_F(AuditFileRotation, TheGapBetweenRenameAndCreateIsWaitedFor) {
    ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
    std::thread rotator;
    long ms = 0;
    const std::string err = write_as_account("{\"n\":2}\n", ms, [&] {
        rotator = std::thread([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            create_like_logrotate(path_);
        });
    });
    rotator.join();
    EXPECT_EQ(err, "");
    EXPECT_EQ(slurp(path_), "{\"n\":2}\n");
    EXPECT_EQ(slurp(path_ + ".1"), "");
    EXPECT_GE(ms, 250);
}

// The wait is bounded: a file that never comes back still refuses, after the sink's bound.
TEST_F(AuditFileRotation, AFileThatNeverComesBackFailsWithinTheBound) {
    ASSERT_EQ(::unlink(path_.c_str()), 0);
    deadline::start(0);  // passed: the 1 s grace
    long ms = 0;
    const std::string err = write_as_account("x\n", ms);
    deadline::clear();
    EXPECT_NE(err.find("audit file open(" + path_ + "): Permission denied"), std::string::npos) << err;
    EXPECT_GE(ms, 900);
    EXPECT_LT(ms, 5000);
}

// Only what a rotation causes is waited for: a directory at the name fails at once.
TEST_F(AuditFileRotation, OtherOpenErrorsAreNotRetried) {
    ASSERT_EQ(::unlink(path_.c_str()), 0);
    ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
    const auto t0 = std::chrono::steady_clock::now();
    auto st = write_file(path_, "x\n");
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_FALSE(st.ok());
    EXPECT_LT(ms, 500) << st.error().msg;
}

}  // namespace
}  // namespace diag::audit_sinks
