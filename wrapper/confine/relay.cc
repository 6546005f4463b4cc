// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/relay.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace diag::relay {

namespace {

// For the hasher's side pipe only: the hasher is ours and always reads, so blocking is bounded.
bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// The hasher thread: hashes what the relay copies into the side pipes until both reach EOF. A
// stream it cannot read any more is closed on its side, so the relay's next copy fails (EPIPE;
// SIGPIPE is blocked) instead of blocking on a full pipe, and that stream's digest is marked lost.
void hash_aside(Relay* relays) {
    Buffer buf;
    bool open[2] = {true, true};
    auto give_up = [&](int i) {
        relays[i].side_r = sys::UniqueFd();
        open[i] = false;
    };
    while (open[0] || open[1]) {
        pollfd fds[2];
        int which[2];
        nfds_t n = 0;
        for (int i = 0; i < 2; ++i) {
            if (open[i]) {
                which[n] = i;
                fds[n++] = {relays[i].side_r.get(), POLLIN, 0};
            }
        }
        if (::poll(fds, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            for (nfds_t k = 0; k < n; ++k) {
                give_up(which[k]);
            }
            return;
        }
        for (nfds_t k = 0; k < n; ++k) {
            if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            Relay& r = relays[which[k]];
            const ssize_t got = ::read(r.side_r.get(), buf.data.get(), buf.size());
            if (got > 0) {
                r.md.update(buf.data.get(), static_cast<size_t>(got));
            } else if (got == 0) {
                open[which[k]] = false;  // the relay closed its end: the stream is complete
            } else if (errno != EINTR) {
                give_up(which[k]);
            }
        }
    }
}

}  // namespace

// The bytes are read into our own buffer first, and what is delivered and what is hashed are that
// one private copy: pages the child put into its pipe by reference (vmsplice) could change between
// a zero-copy tee and the client's read.
ssize_t take(Relay& r, size_t want) {
    const ssize_t got = ::read(r.from.get(), r.buf.data.get(), std::min(want, r.buf.size()));
    if (got <= 0) {
        return got;
    }
    const size_t n = static_cast<size_t>(got);
    if (r.side_w.valid()) {
        // The hasher's copy; blocks only while the hasher catches up.
        if (!write_all(r.side_w.get(), r.buf.data.get(), n)) {
            r.side_w = sys::UniqueFd();  // the hasher gave up on this stream (hash_aside)
            r.hash_lost = true;
        }
    } else if (!r.hash_lost) {
        r.md.update(r.buf.data.get(), n);
    }
    r.pending_off = 0;
    r.pending_end = r.to_failed ? 0 : n;
    return got;
}

Delivery deliver(Relay& r) {
    while (r.pending()) {
        const ssize_t w = ::write(r.to, r.buf.data.get() + r.pending_off, r.pending_end - r.pending_off);
        if (w > 0) {
            r.pending_off += static_cast<size_t>(w);
            r.stats->delivered += static_cast<uint64_t>(w);
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return Delivery::kBlocked;
        } else {
            // EPIPE (SIGPIPE is blocked or ignored), ECONNRESET, EBADF, EIO: the client is gone.
            stop_delivery(r);
            return Delivery::kFailed;
        }
    }
    return Delivery::kDone;
}

void stop_delivery(Relay& r) {
    r.to_failed = true;
    r.pending_off = r.pending_end = 0;
}

std::optional<std::thread> start_hasher(Relay* relays) {
    int side[2][2];
    if (::pipe2(side[0], O_CLOEXEC) != 0) {
        return std::nullopt;
    }
    if (::pipe2(side[1], O_CLOEXEC) != 0) {
        ::close(side[0][0]);
        ::close(side[0][1]);
        return std::nullopt;
    }
    for (int i = 0; i < 2; ++i) {
        (void)::fcntl(side[i][0], F_SETPIPE_SZ, static_cast<int>(supervise::kBufferBytes * 4));
        relays[i].side_r = sys::UniqueFd(side[i][0]);
        relays[i].side_w = sys::UniqueFd(side[i][1]);
    }
    try {
        return std::optional<std::thread>(std::in_place, hash_aside, relays);
    } catch (const std::system_error&) {
        for (int i = 0; i < 2; ++i) {
            relays[i].side_r = sys::UniqueFd();
            relays[i].side_w = sys::UniqueFd();
        }
        return std::nullopt;
    }
}

}  // namespace diag::relay
