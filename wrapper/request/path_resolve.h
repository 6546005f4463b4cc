// SPDX-License-Identifier: Apache-2.0
// Stage 3: every path-typed argument -> canonical path + (dev, ino), checked against the denylist
// (built at load time, deny_list.h; matched with deny_match.h).
// The walk opens each component itself (O_PATH|O_NOFOLLOW), follows symlinks by hand, refuses
// /proc magic links, and checks every component, every symlink hop, the final canonical path and
// every component's (dev, ino). The denylist always wins.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/link_check.h"

namespace diag::path_resolve {

inline constexpr int kMaxSymlinks = 40;

enum class Use {
    kContent,   // path: the file is read, or the directory listed
    kTree,      // path under a recursive option: the content of the whole subtree is read
    kMetaTree,  // meta-path under a recursive option (ls -R, find): names and metadata of the subtree
    kMetadata,  // meta-path: only metadata of the object is shown
};

struct Resolved {
    std::string input;
    std::string canonical;          // what the child is given
    std::vector<std::string> hops;  // symlinks followed, as paths
    dev_t dev = 0;
    ino_t ino = 0;
    mode_t mode = 0;
    nlink_t nlink = 0;
    sys::UniqueFd object;            // O_PATH: the object checked, where check_links() starts
    std::string metadata_of_denied;  // kMetadata on a denied object: the entry (for the record)
    // A file to read whose path some other user could swap before the child opens it: the
    // object checked here, held open; the child is given it instead of the path.
    sys::UniqueFd fd;
    std::string bound_because;  // which component, and why
    std::string given;          // what the child's argv names it by (set by the pipeline)
    // A tree with deny entries below it, let through because its command prunes them
    // (tree_prune.h): the first such entry, for messages.
    std::string prune_below;
};

// Resolves one argument against "/" and applies the cheap checks for `use`: the denylist (by name
// on every component and hop, by inode), the type, a tree containing a denied path, `roots`
// (canonical; empty = anywhere) and who could swap the path. The hard-link scans are not done
// here: check_links() (link_check.h) must follow, once every argument passed this. Errors are
// denials: path-denied, path-tree-denied, path-outside-roots, path-not-found, path-magic-link,
// path-type, path-replaceable (a directory, or a file not to be read, whose path another user
// could swap), decision-timeout. With `may_prune` (the command skips denied subtrees, adr/0016) a
// tree with deny entries below it passes, noted in prune_below; the tree itself being denied or
// inside a denied path still refuses.
[[nodiscard]] Result<Resolved> resolve(const policy::Deny& deny, std::string_view input, Use use,
                                       const std::vector<std::string>& roots, bool may_prune = false);

}  // namespace diag::path_resolve
