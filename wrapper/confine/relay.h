// SPDX-License-Identifier: Apache-2.0
// One relayed output stream of the supervised command: the child's pipe -> a private buffer -> the
// client's fd (our stdout or stderr), with a running SHA-256 of everything taken from the child.
//
// The client side never blocks (the supervisor keeps the client fds O_NONBLOCK while it relays):
// what the client cannot take yet stays pending in the buffer, and while anything is pending
// nothing more is taken from the child, so a client that stops reading stalls the command through
// its full pipe instead of stalling the supervisor, whose deadline keeps running.
//
// What is delivered and what is hashed are always one private copy, read out of the child's pipe
// into our own memory: pages in a pipe can be shared with memory or files others can still write
// (adr/0006, adr/0022). Past kInlineHashBytes the hashing runs on a second thread (Hasher) on the
// very same buffers, which the relay does not reuse before the hasher is done with them.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/confine/supervise.h"

namespace diag::relay {

// Output up to this size is hashed inline by the relay: a thread costs more than hashing it.
inline constexpr uint64_t kInlineHashBytes = 1 << 20;

// Buffers per stream once the hasher runs: the relay reads into the next while the hasher is on
// an earlier one. Only the first is allocated for a request that prints less than
// kInlineHashBytes, and none is zero-filled: a one-line output faults in one page.
inline constexpr size_t kSlots = 4;

class Hasher;

struct Relay {
    sys::UniqueFd from;                  // the child's pipe (our read end)
    int to = -1;                         // the client's fd (not owned)
    supervise::Stream* stats = nullptr;  // bytes taken and delivered, and at the end the digest
    bool open = true;                    // `from` has not reached EOF (or was closed at the cap)
    bool to_failed = false;              // no more delivery: the client is gone or was given up on
    std::unique_ptr<char[]> slot[kSlots] = {std::unique_ptr<char[]>(new char[supervise::kBufferBytes])};
    uint64_t slot_job[kSlots] = {};  // the hasher job that last read each slot (0: none)
    size_t cur = 0;                  // the slot the last chunk was read into
    size_t pending_off = 0;          // slot[cur][pending_off, pending_end) was taken from the child, not delivered
    size_t pending_end = 0;
    Sha256 md;                 // touched only by the hasher once it runs (start_hasher)
    Hasher* hasher = nullptr;  // set by start_hasher

    [[nodiscard]] bool pending() const { return pending_off < pending_end; }
};

// Takes up to `want` (> 0) bytes from the child into a buffer, which must have nothing pending,
// and hashes them (inline, or by handing the buffer to the hasher). They become pending unless
// delivery has stopped (`to_failed`): the digest covers what the child printed either way. Returns
// the bytes taken (0 at EOF, -1 on a read error with errno set).
ssize_t take(Relay& r, size_t want);

enum class Delivery {
    kDone,     // nothing is pending any more
    kBlocked,  // the client cannot take more now: wait for POLLOUT on `to`
    kFailed,   // the client refused the data (EPIPE, ...): it is gone; nothing is pending any more
};

// Writes what is pending to `r.to`, which must be non-blocking, and counts what was delivered.
Delivery deliver(Relay& r);

// Stops delivering on `r`: what is pending is dropped and later chunks are only hashed.
void stop_delivery(Relay& r);

// The thread that hashes the relays' buffers beside the relay, in the order they were read. Its
// jobs point into the relays' slots; a relay waits for the job on a slot before reading into it
// again, so a buffer is never rewritten while it is being hashed. A chunk takes microseconds to
// hash, so that wait is bounded without a deadline of its own.
class Hasher {
  public:
    Hasher() = default;
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;
    ~Hasher() { finish(); }

    // Hands `n` bytes at `p` to the thread, to be added to `md`. Returns the job's number (> 0).
    uint64_t submit(Sha256& md, const char* p, size_t n);
    // Returns once job `job` (0: none) has been hashed.
    void wait(uint64_t job);
    // Hashes what is left and ends the thread. The digests are complete and ours again after it.
    void finish();

  private:
    friend bool start_hasher(Relay* relays, std::unique_ptr<Hasher>& out);
    struct Job {
        Sha256* md = nullptr;
        const char* p = nullptr;
        size_t n = 0;
    };
    void run();

    std::mutex mu_;
    std::condition_variable work_;  // a job was submitted, or finish() was called
    std::condition_variable done_;  // a job was hashed
    Job jobs_[2 * kSlots];          // in flight: at most kSlots per relay (take() waits)
    uint64_t submitted_ = 0;
    uint64_t hashed_ = 0;
    bool closing_ = false;
    std::thread thread_;
};

// Moves both relays (an array of two) to hashing beside the relay: their other slots and the
// thread. The relay thread stops touching the digests from then on (thread start orders its
// earlier updates before the hasher's). Returns false, and inline hashing goes on, when memory or
// the thread cannot be had. Call only after the child has exec'd: the thread never shares a fork.
// Before reading the digests, call out->finish().
bool start_hasher(Relay* relays, std::unique_ptr<Hasher>& out);

// Enlarges the client's pipe (our stdout or stderr, when it is one) to the size of the child's
// for a large output: each wake-up of the relay and of the client then moves up to a MiB, not the
// default 64 KiB. Best effort (the per-user pipe quota may refuse it); never shrinks a pipe.
void widen_client_pipe(const Relay& r);

}  // namespace diag::relay
