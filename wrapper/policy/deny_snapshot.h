// SPDX-License-Identifier: Apache-2.0
// The deny list as the policy's account saw it when root compiled the policy (adr/0027): the
// built policy::Deny, and the witnesses it rests on, so a request whose witnesses are unchanged
// takes the list instead of building it again. A witness is a path the build's answers depend on:
// every directory its lookups walked through or listed (after following symlinks), every symlink
// it followed and every symlink's final target. Each witness's identity (lstat: errno, dev, ino,
// mode, uid, gid, mtime, ctime) is recorded; an entry added, removed or renamed in a directory,
// a chmod, chown or ACL change of one, a symlink replaced or re-owned all change a recorded
// ctime, and the mount table and the account's credentials are recorded whole. A snapshot is
// used only when every one of those is exactly as recorded and every recorded ctime is settled
// (older than the snapshot's start by compiled::kSettleNs); anything else and the request builds
// the list as before. A snapshot can make a request slower, never refuse it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"

namespace diag::deny_snapshot {

// The identity of one witness as lstat(2) gave it (err != 0: the call failed, the rest zero).
struct Witness {
    std::string path;
    int32_t err = 0;
    uint64_t dev = 0;
    uint64_t ino = 0;
    uint32_t mode = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const Witness&) const = default;
};

// The credentials the list was built with: lookups below a directory depend on them (the real
// and effective ids, the groups, and capabilities such as CAP_DAC_READ_SEARCH).
struct Creds {
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t euid = 0;
    uint32_t egid = 0;
    uint64_t caps = 0;             // the effective capability set
    std::string lsm;               // the LSM context (/proc/self/attr/current), empty when there is none
    std::vector<uint32_t> groups;  // sorted, without duplicates
    bool operator==(const Creds&) const = default;
};

struct Snapshot {
    int64_t started_ns = 0;     // CLOCK_REALTIME_COARSE before the build began
    Creds creds;                // who built it
    std::string mounts_sha256;  // raw digest of /proc/self/mountinfo as the build read it (see mount_key)
    // No deny entry and no witness reaches /run/user: a login's own runtime tmpfs there
    // (pam_systemd mounts /run/user/UID for every session) is left out of the mount table's digest.
    bool runtime_apart = false;
    std::vector<Witness> witnesses;
    policy::Deny deny;   // entries, objects, unexpanded, mount_points (the indexes are rebuilt)
    std::string mounts;  // the mount table as the build read it (not encoded: its digest is)
};

// The calling process's credentials.
[[nodiscard]] Creds current_creds();

// A witness's identity as lstat(2) of `path` gives it now.
[[nodiscard]] Witness identity(const std::string& path);

// Ok when every witness of `ws` that exists was last changed at least `settle_ns` before
// `started_ns`; else kInternal "unsettled" naming one.
[[nodiscard]] Status settled(const std::vector<Witness>& ws, int64_t started_ns, int64_t settle_ns);

// Builds the deny list from `raw` with the caller's credentials and records its witnesses. A
// witness changed after `started_ns` (or less than `settle_ns` before it) makes it unusable:
// Errors: kPolicyInvalid from the build, kInternal "unsettled" naming the witness.
[[nodiscard]] Result<Snapshot> take(const std::vector<policy::DenyWritten>& raw, int64_t settle_ns);

// take() as the account `account` of /etc/passwd (its uid, its primary gid and its groups in
// /etc/group, as sshd's initgroups gives them): in a child that drops to them when the caller is
// root, in this process when the caller already is that account. Waits once, at most
// `settle_ns`, for witnesses changed just before. Returns the encoded snapshot. Errors: why there
// is none (no account, an unknown one, unsettled witnesses, a failed build).
[[nodiscard]] Result<std::string> take_as(const std::vector<policy::DenyWritten>& raw, const std::string& account,
                                          int64_t settle_ns);

[[nodiscard]] std::string encode(const Snapshot& s);
// Errors: kPolicyInvalid "deny snapshot: malformed".
[[nodiscard]] Result<Snapshot> decode(std::string_view bytes);

// The deny list of the encoded snapshot `bytes` when it is current for this process: the same
// credentials, the same mount table, every witness's identity as recorded and settled by
// `settle_ns`. Errors: kPolicyInvalid naming what is not current (the caller then builds).
[[nodiscard]] Result<policy::Deny> restore(std::string_view bytes, int64_t settle_ns);

// The mount table `table` as its digest covers it: whole, or with `runtime_apart` without the
// lines of a fresh tmpfs (root "/") mounted exactly at /run/user/UID (a login's runtime
// directory: a device of its own, so no alias of anything, below no denied path).
[[nodiscard]] std::string mount_key(std::string_view table, bool runtime_apart);

// True when no entry of `deny` could name /run/user or a path below it, or one above it (which
// would deny what is below), and no witness lies there.
[[nodiscard]] bool runtime_apart(const policy::Deny& deny, const std::vector<Witness>& witnesses);

// For `--check`: what the encoded snapshot `bytes` is, in a few words ("none" when empty).
[[nodiscard]] std::string describe(std::string_view bytes);

}  // namespace diag::deny_snapshot
