// SPDX-License-Identifier: Apache-2.0
// Stage 3: every path-typed argument -> canonical path + (dev, ino), checked against the denylist.
// The walk opens each component itself (O_PATH|O_NOFOLLOW), follows symlinks by hand, refuses
// /proc magic links, and checks every component, every symlink hop, the final canonical path and
// every component's (dev, ino). The denylist always wins.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "wrapper/error.h"
#include "wrapper/policy.h"
#include "wrapper/sys.h"

namespace diag::path_resolve {

inline constexpr int kMaxSymlinks = 40;
inline constexpr size_t kMaxGlobMatches = 4096;
inline constexpr size_t kMaxGlobScan = 200000;  // directory entries read expanding one deny entry
inline constexpr size_t kMaxHardlinkScan = 10000;         // entries scanned under denied dirs per request
inline constexpr size_t kMaxHardlinkScanPerRoot = 2000;   // ... and under any one denied directory
inline constexpr size_t kMaxTreeScan = 200000;      // entries scanned in a tree whose content is read
inline constexpr size_t kMaxMountTableBytes = 256u << 20;  // /proc/self/mountinfo (~150 bytes a mount)

// Denied no matter what the policy says.
[[nodiscard]] const std::vector<std::string>& builtin_denies();

using RawDeny = policy::DenyWritten;

// Canonicalizes deny entries: the entry as written, its canonical form (symlinks in the glob-free
// prefix resolved), every existing glob match resolved, bind-mount aliases from
// /proc/self/mountinfo, and (dev, ino) of every existing object. Errors: kPolicyInvalid.
[[nodiscard]] Result<policy::Deny> build_deny(const std::vector<RawDeny>& raw);

// Adds one pattern (canonical, absolute, may contain globs) to `deny` and its index; duplicates
// are ignored (the first one stays).
void add_deny_entry(policy::Deny& deny, const std::string& pattern, const std::string& origin,
                    bool kernel_guarded = false);

// The deny entry that covers `canonical` (the path itself or an ancestor), or nullptr.
[[nodiscard]] const policy::DenyEntry* match_deny(const policy::Deny& deny, std::string_view canonical);

// The deny entry that lies at or below `dir` (so reading the tree would reach it), or nullptr.
// With `skip_guarded`, kernel_guarded entries do not count.
[[nodiscard]] const policy::DenyEntry* deny_below(const policy::Deny& deny, std::string_view dir,
                                                  bool skip_guarded = false);

// The denylist as seen from one directory, for walks that test every entry of it (the Landlock
// walk): denied(name) and below(name) answer match_deny and deny_below(skip_guarded) for
// `dir`/name, without splitting paths or testing every glob for every entry. `dir` is canonical.
class DenyScope {
  public:
    DenyScope(const policy::Deny& deny, std::string_view dir, bool skip_guarded = false);
    [[nodiscard]] const policy::DenyEntry* denied(const std::string& name) const;
    [[nodiscard]] const policy::DenyEntry* below(const std::string& name) const;

  private:
    const policy::DenyEntry* lookup(const std::string& name, bool below) const;

    const policy::Deny& deny_;
    std::string prefix_;                               // dir with a trailing '/'
    size_t depth_ = 0;                                 // components of dir
    const policy::DenyEntry* covered_ = nullptr;       // dir itself is denied
    bool skip_guarded_ = false;
    std::vector<const policy::DenyGlob*> candidates_;  // globs whose first depth_ parts match dir
    mutable std::string path_;                         // scratch: dir/name
};

// Landlock rules bind to the granted tree, so a hard link of a denied file that sits in a readable
// directory stays readable by every tool that opens it on its own. Refuses (kExecFailed) when any
// multiply-linked file below the denied paths has a name outside them. Returns the denied
// directories too large to scan within the bound (recorded; arguments that are multiply-linked
// files are then refused). Called before every run.
[[nodiscard]] Result<std::vector<std::string>> check_links_contained(const policy::Deny& deny);

enum class Use {
    kContent,   // path: the file is read, or the directory listed
    kTree,      // path under a recursive option: the content of the whole subtree is read
    kMetaTree,  // meta-path under a recursive option (ls -R, find): names and metadata of the subtree
    kMetadata,  // meta-path: only metadata of the object is shown
};

struct Resolved {
    std::string input;
    std::string canonical;            // what the child is given
    std::vector<std::string> hops;    // symlinks followed, as paths
    dev_t dev = 0;
    ino_t ino = 0;
    mode_t mode = 0;
    std::string metadata_of_denied;   // kMetadata on a denied object: the entry (for the record)
    // A file to read whose path some other user could swap before the child opens it: the
    // object checked here, held open; the child is given it instead of the path.
    sys::UniqueFd fd;
    std::string bound_because;  // which component, and why
    std::string given;          // what the child's argv names it by (set by the pipeline)
};

// Resolves one argument against "/" and applies the denylist for `use`, plus `roots` (canonical;
// empty = anywhere). Errors are denials: path-denied, path-tree-denied, path-outside-roots,
// path-not-found, path-magic-link, path-type, path-replaceable (a directory, or a file not to be
// read, whose path another user could swap).
[[nodiscard]] Result<Resolved> resolve(const policy::Deny& deny, std::string_view input, Use use,
                                       const std::vector<std::string>& roots);

}  // namespace diag::path_resolve
