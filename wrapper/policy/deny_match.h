// SPDX-License-Identifier: Apache-2.0
// The denylist as a matcher: the index over the deny entries (literal paths and per-component
// globs), the answers "is this path denied" and "is something denied below this directory", and
// the two incremental forms the walks use: DenyScope (every entry of one directory, the Landlock
// walk) and DenyCursor (one component at a time down a path, the resolve() walk).
// It sits with the policy because every user of the list needs it, the first being the list's
// own building (bind mounts of denied mount points, deny_list.cc), and a stage never calls a
// later one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/policy/model.h"

namespace diag::deny_list {

// Adds one pattern (canonical, absolute, may contain globs) to `deny` and its index; duplicates
// are ignored (the first one stays). Taken by value: a caller that is done with them moves them in.
void add_deny_entry(policy::Deny& deny, std::string pattern, std::string origin, bool kernel_guarded = false);

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
    std::string prefix_;                          // dir with a trailing '/'
    size_t depth_ = 0;                            // components of dir
    const policy::DenyEntry* covered_ = nullptr;  // dir itself is denied
    bool skip_guarded_ = false;
    std::vector<const policy::DenyGlob*> candidates_;  // globs whose first depth_ parts match dir
    mutable std::string path_;                         // scratch: dir/name
};

// match_deny() followed down a path one component at a time, as resolve() walks it: push() a
// component, pop() for "..", reset() for an absolute symlink target; match() then equals
// match_deny(deny, path()). Each push costs the globs still matching at that depth plus, while
// the path is an ancestor of a literal entry, one hash lookup: the cost of a walk is linear in
// the components walked, however deep, where calling match_deny per component rebuilds and
// hashes every prefix again. `deny` must outlive the cursor and not change meanwhile.
class DenyCursor {
  public:
    explicit DenyCursor(const policy::Deny& deny);
    void push(std::string_view name);  // name: one component, not "", "." or ".."
    void pop();                        // to the parent; nothing at "/"
    void reset();                      // back to "/"
    [[nodiscard]] const policy::DenyEntry* match() const;
    [[nodiscard]] const std::string& path() const;  // the canonical path so far, "/" at the root
    [[nodiscard]] size_t depth() const { return frames_.size() - 1; }

  private:
    static constexpr size_t kNone = static_cast<size_t>(-1);
    struct Frame {
        size_t exact = kNone;       // entry of the shortest literal prefix (it wins, as in match_deny)
        size_t glob = kNone;        // lowest index in deny.globs of a glob complete at or above here
        bool literal_live = false;  // path_ is an ancestor of some literal entry: look deeper
        size_t path_len = 0;        // path_ size at this depth
        size_t cands = 0;           // start of this depth's candidates in cands_
    };
    const policy::Deny& deny_;
    std::vector<Frame> frames_;  // [0] is "/"
    std::vector<size_t> cands_;  // per depth: indices of globs whose first `depth` parts match
    std::string path_;           // "" at the root
};

}  // namespace diag::deny_list
