// SPDX-License-Identifier: Apache-2.0
// The compiled policy image (adr/0021): what the loader produced from the policy and its drop-ins,
// written by root with `diag-wrapper --compile` beside the policy (POLICY.compiled, the policy's
// real path), so a request need not parse 100 KB of TOML and compile every argument pattern.
// The wrapper uses an image only when the image and every directory above it are root-owned and
// not writable by others, its digests hold, it was written by this very build of the wrapper (the
// loader's checks and defaults it holds are this build's), and its key equals the digest of the
// policy's files as they are now; anything else and the policy is loaded from its files as before. An image
// never makes a request fail.
//
// Format (version 5, little-endian): "DIAGPIMG", u64 version, 32-byte SHA-256 of the head, u64
// head length, the head, the command blobs. Head: the build that wrote it (build_id), the key
// (Policy::sha256), the stamp (the sources' identities, adr/0026), the deny list's snapshot
// (deny_snapshot.h, adr/0027; empty: none), the policy without
// its commands (image_codec), and one index entry per command: its first word's spellings, the
// offset and length of its blob and the blob's SHA-256. A request decodes only the blobs of the
// commands its words name.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/loader.h"
#include "wrapper/policy/model.h"

namespace diag::compiled {

inline constexpr uint64_t kFormatVersion = 5;
// A recorded ctime this much older than the compile's start cannot hide a change made during the
// compile behind the timestamps' granularity (adr/0026).
inline constexpr int64_t kSettleNs = 2'000'000'000;
inline constexpr size_t kMaxImageBytes = 64 * 1024 * 1024;

// Where the image of the policy at `policy_path` lives: its real path + ".compiled".
[[nodiscard]] Result<std::string> image_path(const std::string& policy_path);

// This executable's GNU build ID (raw bytes): an image written by another build holds another
// loader's checks and defaults (an upgrade that refuses more must not keep using an image its
// predecessor wrote). Empty when the executable has none: then no image is used.
[[nodiscard]] const std::string& build_id();

// What --compile saw of the sources: when it started reading them (CLOCK_REALTIME, ns) and the
// identity of every file and directory the key covers (policy_loader::source_ids). Empty ids: the
// key is always checked by hashing.
struct Stamp {
    int64_t started_ns = 0;
    std::vector<policy_loader::SourceId> ids;
    bool operator==(const Stamp&) const = default;
};

// True when the sources' identities `now` are exactly the recorded ones (same paths, same order,
// every field) and every recorded ctime is at least `settle_ns` older than the compile's start:
// then the files hold the bytes the key was computed from (adr/0026).
[[nodiscard]] bool identities_current(const Stamp& recorded, const std::vector<policy_loader::SourceId>& now,
                                      int64_t settle_ns = kSettleNs);

// CLOCK_REALTIME now, in ns: a compile's start.
[[nodiscard]] int64_t now_ns();

// Sleeps until every source of the policy at `policy_path` (main file, include directories,
// drop-ins) was last changed at least kSettleNs ago, at most kSettleNs: --compile runs right
// after the files are written (dpkg's unpack, NixOS's setup-etc, an edit), and an image whose
// sources were not settled when it started can never take its key from their identities.
void wait_until_settled(const std::string& policy_path, const std::vector<std::string>& include);

// The image's bytes for `p` as the loader returned it (before deny lists and pins), as written by
// the build `build`.
// `snapshot`: deny_snapshot::take_as's bytes, or empty.
[[nodiscard]] std::string encode(const policy::Policy& p, std::string_view build = build_id(), const Stamp& stamp = {},
                                 std::string_view snapshot = {});

// A policy from an image. `all`: every command is in it; otherwise only those a request's words
// could match (and the request must be decided again with every command if it is refused).
struct Loaded {
    policy::Policy policy;
    bool all = true;
    // The key was taken as current from the files' recorded identities, without reading them.
    bool key_by_identity = false;
    // The deny list's snapshot the image holds (deny_snapshot::restore decides whether it is
    // current); empty: none.
    std::string deny_snapshot;
};

// Reads `length` bytes of the command blobs from `offset` (from the first blob).
using FetchBlob = std::function<Result<std::string>(uint64_t offset, uint64_t length)>;

// An image whose head was checked: format, version, the head's digest, every field decoded and
// the index checked to tile the blobs exactly. The blobs are read only when a command is decoded.
struct Image {
    std::string build;      // build_id() of the wrapper that wrote it
    std::string key;        // Policy::sha256 of the files it was compiled from
    Stamp stamp;            // their identities then
    std::string snapshot;   // the deny list's snapshot, or empty
    policy::Policy policy;  // without commands
    std::string head;       // the head's bytes, which hold the index
    size_t index_at = 0;    // where the index starts in `head`
    uint64_t blob_bytes = 0;
    FetchBlob fetch;
};

// Checks and decodes the head of the whole image `bytes`, which must outlive the result.
// Errors: kPolicyInvalid naming what did not hold.
[[nodiscard]] Result<Image> parse(std::string_view bytes);

// The commands of `img` whose first word is one of `words` (all of them when `words` is null),
// each blob checked against its digest, in the policy's order. Errors: kPolicyInvalid.
[[nodiscard]] Result<Loaded> commands(Image img, const std::vector<std::string>* words);

// Loads the policy at `policy_path` from its image, when the image may be used (see above).
// Errors: why the image was not used; the caller then loads the files.
[[nodiscard]] Result<Loaded> load(const std::string& policy_path, const std::vector<std::string>* words,
                                  const policy_loader::Options& opts = {});

// Ok when `policy_path` can key an image a request uses: an absolute path without ".", ".." or
// empty components. The key covers the path as given (it is Policy::sha256, the policy's recorded
// digest, so it stays so), and a request names the policy as sshd's ForceCommand does: an image
// compiled for "policy.toml" in /etc/diag-wrapper would never be used. Errors: kUsage, one line.
[[nodiscard]] Status check_request_path(const std::string& policy_path);

// `diag-wrapper --check`: the state of the image of the policy at `policy_path`, one line without
// its newline: current (requests use it), absent, or not used and why (load()'s error); every
// line but "current" says that requests parse the policy's files.
[[nodiscard]] std::string state(const std::string& policy_path, const policy_loader::Options& opts = {});

// `diag-wrapper --compile`: writes the image of `p`, as policy_loader::load returned it for
// `policy_path`, replacing any old one atomically (a new file renamed over it), mode 0644 and owned
// by the caller, with the sources' identities as they are now if they still digest to p's key.
// `started_ns`: now_ns() before the policy's files were first opened. Returns the image's path.
// Errors: kInternal.
// `snapshot`: the deny list's, or empty (see encode).
[[nodiscard]] Result<std::string> write(const policy::Policy& p, const std::string& policy_path, int64_t started_ns,
                                        const policy_loader::Options& opts = {}, std::string_view snapshot = {});

}  // namespace diag::compiled
