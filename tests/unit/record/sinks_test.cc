// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/sinks.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

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

}  // namespace
}  // namespace diag::audit_sinks
