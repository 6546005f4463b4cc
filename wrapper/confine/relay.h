// SPDX-License-Identifier: Apache-2.0
// One relayed output stream of the supervised command: the child's pipe -> a private buffer -> the
// client's fd (our stdout or stderr), with a running SHA-256 of everything taken from the child.
//
// The client side never blocks (the supervisor keeps the client fds O_NONBLOCK while it relays):
// what the client cannot take yet stays pending in the buffer, and while anything is pending
// nothing more is taken from the child, so a client that stops reading stalls the command through
// its full pipe instead of stalling the supervisor, whose deadline keeps running.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <thread>

#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/confine/supervise.h"

namespace diag::relay {

// A relay buffer that is not zero-filled: its pages are first touched by read(2), so a request
// that prints one line faults in one page, not all of them.
struct Buffer {
    std::unique_ptr<char[]> data{new char[supervise::kBufferBytes]};
    static constexpr size_t size() { return supervise::kBufferBytes; }
};

struct Relay {
    sys::UniqueFd from;                  // the child's pipe (our read end)
    int to = -1;                         // the client's fd (not owned)
    supervise::Stream* stats = nullptr;  // bytes taken and delivered, and at the end the digest
    bool open = true;                    // `from` has not reached EOF (or was closed at the cap)
    bool to_failed = false;              // no more delivery: the client is gone or was given up on
    Buffer buf;
    size_t pending_off = 0;  // buf[pending_off, pending_end) was taken from the child, not delivered
    size_t pending_end = 0;
    Sha256 md;
    sys::UniqueFd side_r;    // the hasher's end
    sys::UniqueFd side_w;    // ours; closed when the stream ends, which ends the hasher's read
    bool hash_lost = false;  // the side pipe failed: the digest does not cover the stream

    [[nodiscard]] bool pending() const { return pending_off < pending_end; }
};

// Takes up to `want` (> 0) bytes from the child into the buffer, which must have nothing pending,
// and hashes them (inline, or through the hasher's side pipe). They become pending unless delivery
// has stopped (`to_failed`): the digest covers what the child printed either way. Returns the
// bytes taken (0 at EOF, -1 on a read error with errno set).
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

// Output up to this size is hashed inline by the relay: a thread costs more than hashing it.
inline constexpr uint64_t kInlineHashBytes = 1 << 20;

// Moves both relays (an array of two) to hashing beside the relay: side pipes, and a thread
// reading them. The relay thread stops touching the digests from then on (thread start orders its
// earlier updates before the hasher's). Returns nullopt, and inline hashing goes on, when a pipe
// or the thread cannot be had. Call only after the child has exec'd: the thread never shares a
// fork. Before reading the digests, close both `side_w` and join the thread.
std::optional<std::thread> start_hasher(Relay* relays);

}  // namespace diag::relay
