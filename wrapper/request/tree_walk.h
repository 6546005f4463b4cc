// SPDX-License-Identifier: Apache-2.0
// The one directory-tree walk of the decision stage (the hard-link scans of path_resolve): depth
// first, relative to open directory fds, so it reaches every file a tool that recurses through
// fds (grep -r, find) reaches, however long its path; bounded in depth and entries; and it fails
// closed: a directory it cannot open or read ends the walk as kUnreadable, which the callers
// treat as a refusal or an unverified device. Memory is one open directory and one name per
// level; a path string is built only for what is reported.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"

namespace diag::tree_walk {

// Levels below the top a walk descends. Deeper is refused: kernels and tools do handle deeper
// trees, but nothing a diagnostic request needs is that deep, and each level holds an open fd.
inline constexpr size_t kMaxDepth = 256;

enum class End {
    kComplete,    // every entry was seen
    kFound,       // the visitor stopped the walk: `where` is the file
    kUnreadable,  // a directory could not be opened or read: `where`, `err`
    kTooDeep,     // a directory more than max_depth levels below the top: `where`
    kTooLarge,    // more than max_entries entries
};

struct Options {
    size_t max_entries = 0;
    size_t max_depth = kMaxDepth;
    // EACCES on a directory owned by root (or by anyone, with fs.protected_hardlinks = 1) is not a
    // failure but a directory skipped (see tree_walk.cc for why that is safe only for a tree a
    // tool reads with our credentials).
    bool skip_closed_root_dirs = false;
    // Directories (dev, ino) not descended into.
    std::vector<std::pair<dev_t, ino_t>> prune;
    // With a denylist: every entry it denies by name is passed over (neither visited nor entered),
    // and so is every directory that is a denied object; `top_path` must then be canonical. The
    // walk of a tree whose command skips its denied subtrees (tree_prune.h) sees what the command
    // reads. A file is never passed over by inode: another name of a denied file is what a
    // hard-link scan looks for.
    const policy::Deny* skip_denied = nullptr;
    std::string_view what = "scanning a directory tree";  // for the deadline's message
};

struct Outcome {
    End end = End::kComplete;
    std::string where;   // path of the file (kFound) or directory (kUnreadable, kTooDeep)
    int err = 0;         // errno (kUnreadable)
    size_t entries = 0;  // entries read
    size_t skipped = 0;  // entries passed over as denied (Options::skip_denied)
};

// Where the walk is when the visitor is called: the path of the current file, on request.
class Here {
  public:
    Here(std::string_view top, const std::vector<std::string>& names, const char* name)
        : top_(top), names_(names), name_(name) {}
    [[nodiscard]] std::string path() const;

  private:
    std::string_view top_;
    const std::vector<std::string>& names_;
    const char* name_;
};

// Called for every regular file (symlinks are not followed); true stops the walk (kFound).
using Visitor = std::function<bool(const struct stat& st, const Here& here)>;

// Walks the directory `top` (any fd naming it, O_PATH included), shown as `top_path` in
// messages. Errors: only the deadline's denial (decision-timeout); everything else is an Outcome.
[[nodiscard]] Result<Outcome> walk(int top, std::string_view top_path, const Options& opts, const Visitor& visit);

}  // namespace diag::tree_walk
