// SPDX-License-Identifier: Apache-2.0
// The relay of one stream in this process: a writer thread stands for the child, a reader thread
// for the client; what the client got and the relay's digest must be the same bytes.
#include "wrapper/confine/relay.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace diag::relay {
namespace {

// n bytes that are not the same from one chunk to the next: every byte value, shifted per KiB.
std::string binary_pattern(size_t n) {
    std::string out(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        out[i] = static_cast<char>((i * 167 + (i >> 10)) & 0xff);
    }
    return out;
}

void write_all(int fd, const std::string& data) {
    for (size_t off = 0; off < data.size();) {
        const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
        if (w <= 0) {
            return;
        }
        off += static_cast<size_t>(w);
    }
}

std::string read_all(int fd) {
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

// The child's pipe and the client's (its write end non-blocking, as the supervisor keeps it)
// around relays[0]; relays[1] (stderr) is not used.
struct Plumbing {
    int child[2] = {-1, -1};
    int client[2] = {-1, -1};
    supervise::Stream stats;
    Relay relays[2];
    std::unique_ptr<Hasher> hasher;

    Plumbing() {
        EXPECT_EQ(::pipe2(child, O_CLOEXEC), 0);
        EXPECT_EQ(::pipe2(client, O_CLOEXEC), 0);
        (void)::fcntl(client[1], F_SETFL, O_NONBLOCK);
        relays[0].from = sys::UniqueFd(child[0]);
        relays[0].to = client[1];
        relays[0].stats = &stats;
        relays[1].open = false;
    }
    Plumbing(const Plumbing&) = delete;
    Plumbing& operator=(const Plumbing&) = delete;
    ~Plumbing() {
        hasher.reset();  // before the relays' buffers
        for (const int fd : {client[0], client[1]}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }
    void write_and_close(const std::string& data) {
        write_all(child[1], data);
        ::close(child[1]);
    }
};

struct Relayed {
    std::string delivered;
    std::string digest;
    uint64_t bytes = 0;
    bool hasher_ran = false;
};

// Relays `data` written into a pipe to a non-blocking pipe read by another thread, as the
// supervisor does: take while nothing is pending, deliver, wait for POLLOUT when blocked. The
// hasher starts once `hasher_after` bytes are taken (never when it is 0), and the read size is at
// most `want` per take.
Relayed relay_through(const std::string& data, uint64_t hasher_after, size_t want = supervise::kBufferBytes) {
    Plumbing pl;
    std::thread writer([&] { pl.write_and_close(data); });
    Relayed out;
    std::thread reader([&] { out.delivered = read_all(pl.client[0]); });
    Relay& r = pl.relays[0];
    std::unique_ptr<Hasher>& hasher = pl.hasher;
    for (;;) {
        const ssize_t got = take(r, want);
        if (got <= 0) {
            break;
        }
        out.bytes += static_cast<uint64_t>(got);
        if (hasher_after > 0 && !hasher && out.bytes >= hasher_after) {
            out.hasher_ran = start_hasher(pl.relays, hasher);
        }
        while (deliver(r) == Delivery::kBlocked) {
            pollfd p{r.to, POLLOUT, 0};
            ::poll(&p, 1, -1);
        }
    }
    if (hasher) {
        hasher->finish();
    }
    out.digest = r.md.hex_digest();
    ::close(pl.client[1]);
    pl.client[1] = -1;
    writer.join();
    reader.join();
    EXPECT_EQ(pl.stats.delivered, out.delivered.size());
    return out;
}

TEST(Relay, SmallOutputIsHashedInline) {
    for (const size_t n : {size_t{0}, size_t{1}, size_t{4097}}) {
        SCOPED_TRACE(n);
        const std::string data = binary_pattern(n);
        const Relayed r = relay_through(data, 0);
        EXPECT_TRUE(r.delivered == data);
        EXPECT_EQ(r.digest, sha256_hex(data));
    }
}

// The hasher reads the very buffers the relay delivers from, and the relay reuses a buffer only
// after the hasher is done with it: a buffer overwritten too early would show in the digest. Small
// reads (4 KiB) go round the buffers thousands of times.
TEST(Relay, HasherDigestIsOfExactlyTheBytesDelivered) {
    for (const size_t want : {size_t{4096}, supervise::kBufferBytes}) {
        SCOPED_TRACE(want);
        const std::string data = binary_pattern((12u << 20) + 333);
        const Relayed r = relay_through(data, 1, want);
        ASSERT_TRUE(r.hasher_ran) << "no thread could be started here";
        EXPECT_EQ(r.bytes, data.size());
        EXPECT_TRUE(r.delivered == data) << "delivered " << r.delivered.size() << " bytes";
        EXPECT_EQ(r.digest, sha256_hex(data));
    }
}

// A hasher that starts after the first chunks continues the digest the relay began inline.
TEST(Relay, HasherContinuesTheInlineDigest) {
    const std::string data = binary_pattern((3u << 20) + 7);
    const Relayed r = relay_through(data, kInlineHashBytes);
    ASSERT_TRUE(r.hasher_ran);
    EXPECT_TRUE(r.delivered == data);
    EXPECT_EQ(r.digest, sha256_hex(data));
}

// After stop_delivery nothing more reaches the client, and the digest still covers every byte
// taken from the child.
TEST(Relay, StoppedDeliveryStillHashesEverything) {
    Plumbing pl;
    const std::string data = binary_pattern(3u << 20);
    std::thread writer([&] { pl.write_and_close(data); });
    Relay* relays = pl.relays;
    std::unique_ptr<Hasher>& hasher = pl.hasher;
    ASSERT_TRUE(start_hasher(relays, hasher));
    stop_delivery(relays[0]);
    uint64_t taken = 0;
    for (ssize_t got; (got = take(relays[0], supervise::kBufferBytes)) > 0;) {
        taken += static_cast<uint64_t>(got);
        EXPECT_FALSE(relays[0].pending());
    }
    hasher->finish();
    writer.join();
    EXPECT_EQ(taken, data.size());
    EXPECT_EQ(relays[0].md.hex_digest(), sha256_hex(data));
    char byte = 0;
    (void)::fcntl(pl.client[0], F_SETFL, O_NONBLOCK);
    EXPECT_EQ(::read(pl.client[0], &byte, 1), -1) << "a byte reached the client after delivery stopped";
}

TEST(Relay, WidenClientPipeGrowsAPipeAndLeavesOtherFdsAlone) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    Relay r;
    r.to = p[1];
    ASSERT_LT(::fcntl(p[1], F_GETPIPE_SZ), static_cast<int>(supervise::kPipeBytes));
    widen_client_pipe(r);
    EXPECT_GE(::fcntl(p[1], F_GETPIPE_SZ), static_cast<int>(supervise::kPipeBytes));
    ::close(p[0]);
    ::close(p[1]);
    int s[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
    r.to = s[1];
    widen_client_pipe(r);  // not a pipe: nothing to do, nothing fails
    EXPECT_EQ(::fcntl(s[1], F_GETPIPE_SZ), -1);
    ::close(s[0]);
    ::close(s[1]);
}

}  // namespace
}  // namespace diag::relay
