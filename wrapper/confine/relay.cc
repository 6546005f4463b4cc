// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/relay.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <system_error>

namespace diag::relay {

// The bytes are read into our own buffer, and what is delivered and what is hashed are that one
// private copy: pages the child's pipe holds by reference could change between a zero-copy `tee`
// and the client's read (adr/0006). With the hasher running, the next slot is taken once the
// hasher is done with it; without, the one slot is reused at once.
ssize_t take(Relay& r, size_t want) {
    if (r.hasher != nullptr) {
        r.cur = (r.cur + 1) % kSlots;
        r.hasher->wait(r.slot_job[r.cur]);
    }
    char* const buf = r.slot[r.cur].get();
    const ssize_t got = ::read(r.from.get(), buf, std::min(want, supervise::kBufferBytes));
    if (got <= 0) {
        return got;
    }
    const size_t n = static_cast<size_t>(got);
    if (r.hasher != nullptr) {
        r.slot_job[r.cur] = r.hasher->submit(r.md, buf, n);
    } else {
        r.md.update(buf, n);
    }
    r.pending_off = 0;
    r.pending_end = r.to_failed ? 0 : n;
    return got;
}

Delivery deliver(Relay& r) {
    const char* const buf = r.slot[r.cur].get();
    while (r.pending()) {
        const ssize_t w = ::write(r.to, buf + r.pending_off, r.pending_end - r.pending_off);
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

uint64_t Hasher::submit(Sha256& md, const char* p, size_t n) {
    uint64_t job = 0;
    {
        const std::lock_guard lock(mu_);
        jobs_[submitted_ % std::size(jobs_)] = Job{&md, p, n};
        job = ++submitted_;
    }
    work_.notify_one();
    return job;
}

void Hasher::wait(uint64_t job) {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return hashed_ >= job; });
}

void Hasher::finish() {
    if (!thread_.joinable()) {
        return;
    }
    {
        const std::lock_guard lock(mu_);
        closing_ = true;
    }
    work_.notify_one();
    thread_.join();
}

// The thread: hashes the jobs in the order they were submitted (each stream's chunks in the order
// they were read) until finish() and nothing is left.
void Hasher::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        work_.wait(lock, [&] { return closing_ || hashed_ < submitted_; });
        if (hashed_ == submitted_) {
            return;  // closing, and everything is hashed
        }
        const Job job = jobs_[hashed_ % std::size(jobs_)];
        lock.unlock();
        job.md->update(job.p, job.n);
        lock.lock();
        ++hashed_;
        done_.notify_one();
    }
}

bool start_hasher(Relay* relays, std::unique_ptr<Hasher>& out) {
    for (int i = 0; i < 2; ++i) {
        for (size_t s = 1; s < kSlots; ++s) {
            if (!relays[i].slot[s]) {
                relays[i].slot[s].reset(new (std::nothrow) char[supervise::kBufferBytes]);
                if (!relays[i].slot[s]) {
                    return false;  // inline hashing goes on with slot 0; the others are freed with the relay
                }
            }
        }
    }
    auto h = std::make_unique<Hasher>();
    try {
        h->thread_ = std::thread(&Hasher::run, h.get());
    } catch (const std::system_error&) {
        return false;
    }
    for (int i = 0; i < 2; ++i) {
        relays[i].hasher = h.get();
    }
    out = std::move(h);
    return true;
}

void widen_client_pipe(const Relay& r) {
    struct stat st {};
    if (r.to_failed || ::fstat(r.to, &st) != 0 || !S_ISFIFO(st.st_mode)) {
        return;
    }
    const int want = static_cast<int>(supervise::kPipeBytes);
    if (::fcntl(r.to, F_GETPIPE_SZ) < want) {
        (void)::fcntl(r.to, F_SETPIPE_SZ, want);
    }
}

}  // namespace diag::relay
