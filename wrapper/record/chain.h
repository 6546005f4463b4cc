// SPDX-License-Identifier: Apache-2.0
// The hash chain over this host's audit records (adr/0011). Every record carries the host's next
// sequence number and the SHA-256 of the previous record's exact line; periodic checkpoint
// records repeat the head so that a copy forwarded off the host pins everything before it. The
// head lives in one state file, read and advanced under its lock by every wrapper in turn:
//
//   diag-wrapper.chain/1 <chain id> <seq> <head sha256> <checkpoint seq> <checkpoint unix time>\n
//
// The file is root-owned, group-writable by the audited account's group, created empty by the
// installer. Empty means first use (a new chain starts); anything else that does not parse is
// refused, never repaired: a silent restart would hide exactly what the chain is for.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"

namespace diag::audit_chain {

inline constexpr std::string_view kStateMagic = "diag-wrapper.chain/1";
// A checkpoint follows every kCheckpointEvery records, and the first record written when the last
// checkpoint is older than kCheckpointMaxAgeSeconds (there is no daemon: a quiet host writes none).
inline constexpr uint64_t kCheckpointEvery = 100;
inline constexpr int64_t kCheckpointMaxAgeSeconds = 600;
inline constexpr size_t kMaxStateBytes = 512;

struct State {
    std::string id;               // the chain's UUID, chosen at first use
    uint64_t seq = 0;             // the last record written (0: none yet)
    std::string head;             // SHA-256 (hex) of that record's line; kGenesisPrev when none
    uint64_t checkpoint_seq = 0;  // the last checkpoint record
    int64_t checkpoint_time = 0;  // when it was written (seconds since the epoch)
};

// The state file's text. Errors: kAudit naming `what` and what is wrong.
[[nodiscard]] std::string format_state(const State& s);
[[nodiscard]] Result<State> parse_state(std::string_view text, const std::string& what);

// A new chain (first use): a fresh id, seq 0, head kGenesisPrev, checkpoint at `now`.
[[nodiscard]] State genesis(std::string id, int64_t now);

// True when the record just written (s.seq) must be followed by a checkpoint.
[[nodiscard]] bool checkpoint_due(const State& s, int64_t now);

// The state file, open and locked for one write of records; the lock is released on destruction.
class Locked {
  public:
    // Opens `path` (trusted like an audit file, owned by `owner`: root in the product), takes its
    // lock within the audit bound and reads it. An empty file starts a new chain with `new_id`.
    // Errors: kAudit (missing, untrusted, locked too long, unreadable, corrupt).
    [[nodiscard]] static Result<Locked> open(const std::string& path, const std::string& new_id, uid_t owner = 0);

    [[nodiscard]] const State& state() const { return state_; }
    // Writes `s` in place of the old state (one pwrite at offset 0, then the length). Errors: kAudit.
    [[nodiscard]] Status store(const State& s);

  private:
    Locked(sys::UniqueFd fd, std::string path, State s)
        : fd_(std::move(fd)), path_(std::move(path)), state_(std::move(s)) {}
    sys::UniqueFd fd_;
    std::string path_;
    State state_;
};

}  // namespace diag::audit_chain
