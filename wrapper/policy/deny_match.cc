// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/deny_match.h"

#include <fnmatch.h>

#include <algorithm>

#include "wrapper/base/paths.h"

namespace diag::deny_list {

using policy::Deny;
using policy::DenyEntry;
using policy::DenyGlob;

namespace {

// Component-wise glob match of `pattern` against the first comps of `path`.
bool prefix_matches(const std::vector<std::string>& pat, const std::vector<std::string>& path, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        // No FNM_PERIOD: "*" also matches dot files, so /home/*/.ssh covers /home/.hidden/.ssh.
        if (::fnmatch(pat[i].c_str(), path[i].c_str(), 0) != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace

void add_deny_entry(Deny& deny, std::string pattern, std::string origin, bool kernel_guarded) {
    // The components as views of `pattern` (split_path's rule: empty ones dropped); nothing is
    // allocated per component for a literal entry, the common kind (a snapshot restores ~150 of
    // them per request).
    std::vector<std::string_view> comps;
    const std::string_view all(pattern);
    for (size_t i = 0; i < all.size();) {
        const size_t end = std::min(all.find('/', i), all.size());
        if (end > i) {
            comps.push_back(all.substr(i, end - i));
        }
        i = end + 1;
    }
    const bool glob = std::any_of(comps.begin(), comps.end(), [](std::string_view c) { return util::has_glob(c); });
    if (glob) {
        // Duplicates by kind: a glob against the globs, a literal against the exact index (whose
        // keys are unescaped, so a literal named "*" must never be taken for the glob "*").
        if (std::any_of(deny.globs.begin(), deny.globs.end(),
                        [&](const DenyGlob& g) { return deny.entries[g.entry].pattern == pattern; })) {
            return;
        }
        // The parts first: they are views of `pattern`, which moves into the entry.
        deny.globs.push_back({deny.entries.size(), std::vector<std::string>(comps.begin(), comps.end())});
        deny.entries.push_back({std::move(pattern), std::move(origin), kernel_guarded});
        return;
    }
    // A literal path, escapes removed: the exact index's key, and the length of each proper
    // ancestor ("/" first) within it.
    std::string path;
    path.reserve(pattern.size() + 1);
    std::vector<size_t> ancestor_ends;
    ancestor_ends.reserve(comps.size());
    for (const std::string_view c : comps) {
        ancestor_ends.push_back(path.empty() ? 1 : path.size());
        path += '/';
        if (c.find('\\') == std::string_view::npos) {
            path.append(c);
        } else {
            path += util::glob_unescape(c);
        }
    }
    if (path.empty()) {
        path = "/";
    }
    if (deny.exact.count(path) != 0) {
        return;
    }
    const size_t idx = deny.entries.size();
    deny.entries.push_back({std::move(pattern), std::move(origin), kernel_guarded});  // `comps` dangle now
    for (const size_t end : ancestor_ends) {
        std::string ancestor = path.substr(0, end);
        if (!kernel_guarded) {
            deny.unguarded_ancestors.emplace(ancestor, idx);
        }
        deny.ancestors.emplace(std::move(ancestor), idx);
    }
    deny.exact.emplace(std::move(path), idx);
}

const DenyEntry* match_deny(const Deny& deny, std::string_view canonical) {
    const auto path = util::split_path(canonical);
    // The path itself or any ancestor equal to a literal entry.
    std::string prefix;
    if (auto it = deny.exact.find("/"); it != deny.exact.end()) {
        return &deny.entries[it->second];
    }
    for (const auto& c : path) {
        prefix.append("/").append(c);
        if (auto it = deny.exact.find(prefix); it != deny.exact.end()) {
            return &deny.entries[it->second];
        }
    }
    for (const auto& g : deny.globs) {
        if (g.parts.size() <= path.size() && prefix_matches(g.parts, path, g.parts.size())) {
            return &deny.entries[g.entry];
        }
    }
    return nullptr;
}

const DenyEntry* deny_below(const Deny& deny, std::string_view dir, bool skip_guarded) {
    const auto path = util::split_path(dir);
    const std::string canonical = util::join_path(path);
    if (auto it = deny.exact.find(canonical); it != deny.exact.end()) {
        if (!(skip_guarded && deny.entries[it->second].kernel_guarded)) {
            return &deny.entries[it->second];
        }
    }
    const auto& ancestors = skip_guarded ? deny.unguarded_ancestors : deny.ancestors;
    if (auto it = ancestors.find(canonical); it != ancestors.end()) {
        return &deny.entries[it->second];
    }
    for (const auto& g : deny.globs) {
        if (skip_guarded && deny.entries[g.entry].kernel_guarded) {
            continue;
        }
        if (g.parts.size() >= path.size() && prefix_matches(g.parts, path, path.size())) {
            return &deny.entries[g.entry];
        }
    }
    return nullptr;
}

DenyScope::DenyScope(const Deny& deny, std::string_view dir, bool skip_guarded)
    : deny_(deny), skip_guarded_(skip_guarded) {
    const auto comps = util::split_path(dir);
    depth_ = comps.size();
    prefix_ = util::join_path(comps);
    if (depth_ > 0) {
        prefix_ += '/';
    }
    covered_ = match_deny(deny, dir);
    for (const auto& g : deny.globs) {
        if (g.parts.size() > depth_ && prefix_matches(g.parts, comps, depth_)) {
            candidates_.push_back(&g);
        }
    }
}

const DenyEntry* DenyScope::lookup(const std::string& name, bool below) const {
    path_.assign(prefix_).append(name);
    // below() leaves kernel-guarded entries out when asked to; denied() never does.
    const bool skip = below && skip_guarded_;
    if (auto it = deny_.exact.find(path_); it != deny_.exact.end()) {
        if (!(skip && deny_.entries[it->second].kernel_guarded)) {
            return &deny_.entries[it->second];
        }
    }
    if (below) {
        const auto& ancestors = skip ? deny_.unguarded_ancestors : deny_.ancestors;
        if (auto it = ancestors.find(path_); it != ancestors.end()) {
            return &deny_.entries[it->second];
        }
    }
    for (const DenyGlob* g : candidates_) {
        if (skip && deny_.entries[g->entry].kernel_guarded) {
            continue;
        }
        // denied: the pattern ends at this entry; below: it ends here or further down.
        if ((below || g->parts.size() == depth_ + 1) && ::fnmatch(g->parts[depth_].c_str(), name.c_str(), 0) == 0) {
            return &deny_.entries[g->entry];
        }
    }
    return nullptr;
}

const DenyEntry* DenyScope::denied(const std::string& name) const {
    return covered_ != nullptr ? covered_ : lookup(name, false);
}

const DenyEntry* DenyScope::below(const std::string& name) const { return lookup(name, true); }

DenyCursor::DenyCursor(const Deny& deny) : deny_(deny) { reset(); }

void DenyCursor::reset() {
    frames_.clear();
    cands_.clear();
    path_.clear();
    Frame root;
    if (auto it = deny_.exact.find("/"); it != deny_.exact.end()) {
        root.exact = it->second;
    }
    root.literal_live = root.exact == kNone && deny_.ancestors.count("/") != 0;
    // Every glob has at least one part (the one with the wildcard): all are candidates at "/".
    for (size_t g = 0; g < deny_.globs.size(); ++g) {
        cands_.push_back(g);
    }
    frames_.push_back(root);
}

void DenyCursor::push(std::string_view name) {
    const Frame parent = frames_.back();
    Frame f;
    f.cands = cands_.size();
    path_.append("/").append(name);
    f.path_len = path_.size();
    f.exact = parent.exact;
    f.glob = parent.glob;
    if (f.exact == kNone && parent.literal_live) {
        // Only a path that is an ancestor of a literal entry can lead to one: past that, no
        // lookup (the string hashed is never longer than the longest literal entry).
        if (auto it = deny_.exact.find(path_); it != deny_.exact.end()) {
            f.exact = it->second;
        } else {
            f.literal_live = deny_.ancestors.count(path_) != 0;
        }
    }
    if (f.exact == kNone) {
        // A literal hit wins over every glob (match_deny tries them first), so globs are only
        // followed while none has been met.
        const size_t depth = frames_.size() - 1;  // index of the part `name` is matched against
        const std::string c(name);
        for (size_t i = parent.cands; i < f.cands; ++i) {
            const size_t g = cands_[i];
            const auto& parts = deny_.globs[g].parts;
            if (::fnmatch(parts[depth].c_str(), c.c_str(), 0) != 0) {
                continue;
            }
            if (parts.size() == depth + 1) {
                f.glob = std::min(f.glob, g);  // complete: covers this path and all below
            } else {
                cands_.push_back(g);
            }
        }
    }
    frames_.push_back(f);
}

void DenyCursor::pop() {
    if (frames_.size() == 1) {
        return;
    }
    const Frame& f = frames_.back();
    cands_.resize(f.cands);
    frames_.pop_back();
    path_.resize(frames_.back().path_len);
}

const DenyEntry* DenyCursor::match() const {
    const Frame& f = frames_.back();
    if (f.exact != kNone) {
        return &deny_.entries[f.exact];
    }
    if (f.glob != kNone) {
        return &deny_.entries[deny_.globs[f.glob].entry];
    }
    return nullptr;
}

const std::string& DenyCursor::path() const {
    static const std::string kRoot = "/";
    return path_.empty() ? kRoot : path_;
}

}  // namespace diag::deny_list
