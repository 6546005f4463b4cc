// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/link_check.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/request/path_resolve.h"
#include "wrapper/request/tree_walk.h"

namespace diag::path_resolve {

namespace {

using policy::Deny;
using policy::LinkIndex;

// Every multiply-linked regular file below the denied directories, by (dev, ino): the other
// names of such a file may sit in a readable tree, where neither the deny patterns nor Landlock
// (its rules bind to a directory tree, not to an inode: adr/0006) can see them. Scanned once per request, bounded.
// A denied directory not scanned whole (unreadable to us, too deep, over the budget) leaves its
// device unverified: a file in it may still be readable through another name, so the
// multiply-linked files on that device cannot be cleared (fail closed).
Result<const LinkIndex*> denied_links(const Deny& deny) {
    if (deny.link_index) {
        return &*deny.link_index;
    }
    LinkIndex index;
    auto note = [&index](const struct stat& st, const std::string& name) {
        const auto key = std::make_pair(st.st_dev, st.st_ino);
        index.inodes.emplace(key, name);
        index.names[key].insert(name);
        index.nlink[key] = st.st_nlink;
        index.owner[key] = st.st_uid;
    };
    // A denied directory not scanned whole: multiply-linked files on its device, and on the
    // device of every file system mounted below it (which the scan may not have reached), cannot
    // be cleared.
    auto unverify = [&index, &deny](const std::string& root, dev_t dev) {
        index.unverified.emplace_back(root, dev);
        for (const auto& [point, point_dev] : deny.mount_points) {
            if (point != root && util::path_within(point, root)) {
                index.unverified.emplace_back(point, point_dev);
            }
        }
    };
    size_t total = kMaxHardlinkScan;
    for (const auto& object : deny.objects) {
        const std::string& root = object.second;
        if (deny_list::is_pseudo_fs_path(root)) {
            continue;
        }
        struct stat rst {};
        if (::lstat(root.c_str(), &rst) != 0 || rst.st_dev != object.first.first || rst.st_ino != object.first.second) {
            // The name no longer shows the denied object (swapped since the build, or the build
            // raced another account and recorded its path): what the object holds is not seen.
            unverify(root, object.first.first);
            continue;
        }
        if (!S_ISDIR(rst.st_mode)) {
            if (S_ISREG(rst.st_mode) && rst.st_nlink > 1) {
                note(rst, root);
            }
            continue;
        }
        // A directory below another denied object is scanned with it.
        const bool nested = std::any_of(deny.objects.begin(), deny.objects.end(), [&](const auto& o) {
            return o.second != root && util::path_within(root, o.second);
        });
        if (nested) {
            continue;
        }
        const sys::UniqueFd top(::open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        struct stat tst {};
        if (!top.valid() || ::fstat(top.get(), &tst) != 0 || tst.st_dev != rst.st_dev || tst.st_ino != rst.st_ino) {
            unverify(root, rst.st_dev);  // changed since the lstat: not seen
            continue;
        }
        tree_walk::Options opts;
        opts.max_entries = std::min(total, kMaxHardlinkScanPerRoot);
        opts.what = "indexing hard links below denied directories";
        DIAG_TRY_ASSIGN(const tree_walk::Outcome o,
                        tree_walk::walk(top.get(), root, opts, [&](const struct stat& st, const tree_walk::Here& here) {
                            if (st.st_nlink > 1) {
                                note(st, here.path());
                            }
                            return false;
                        }));
        total -= std::min(total, o.entries);
        if (o.end != tree_walk::End::kComplete) {
            unverify(root, rst.st_dev);
        }
    }
    for (const auto& u : deny.unexpanded) {
        index.unverified.push_back(u);
    }
    // Kept only when whole: a scan cut short by the deadline is not an answer.
    return &deny.link_index.emplace(std::move(index));
}

// Why (dev, ino) must not be read: it is another name of a file below a denied directory.
Result<std::optional<std::string>> denied_link(const Deny& deny, dev_t dev, ino_t ino) {
    DIAG_TRY_ASSIGN(const LinkIndex* index, denied_links(deny));
    if (auto it = index->inodes.find({dev, ino}); it != index->inodes.end()) {
        return std::optional<std::string>("hard link of " + it->second);
    }
    for (const auto& [root, root_dev] : index->unverified) {
        if (root_dev == dev) {
            return std::optional<std::string>("cannot rule out a hard link into " + root +
                                              " (not readable or too large to scan)");
        }
    }
    return std::optional<std::string>();
}

// The Nix store is written only by the nix daemon and deduplicated (hard-linked) only within
// itself, so its multiply-linked files are not other names of secrets.
bool in_nix_store(const std::string& canonical) { return util::path_within(canonical, "/nix/store"); }

// Walks a tree whose content will be read and refuses it if any file in it is a hard link of a
// denied file, or if any part of it cannot be looked at (the tool may read what we did not see).
// Symlinks are not followed (grep -r does not follow them either).
Status check_tree(const Deny& deny, const Resolved& r, ScanBudget& budget) {
    const std::string shown = "'" + text_safety::printable(r.input) + "'";
    if (in_nix_store(r.canonical)) {
        return ok_status();
    }
    tree_walk::Options opts;
    opts.max_entries = std::min(kMaxTreeScan, budget.tree_entries);
    opts.skip_closed_root_dirs = true;
    opts.what = "scanning a tree for hard links of denied files";
    if (!r.prune_below.empty()) {
        opts.skip_denied = &deny;  // the command skips them too (tree_prune.h): not read, not scanned
    }
    struct stat nix {};
    if (::stat("/nix/store", &nix) == 0) {
        opts.prune.emplace_back(nix.st_dev, nix.st_ino);
    }
    std::string found;
    Status failed = ok_status();
    DIAG_TRY_ASSIGN(const tree_walk::Outcome o, tree_walk::walk(r.object.get(), r.canonical, opts,
                                                                [&](const struct stat& st, const tree_walk::Here&) {
                                                                    if (st.st_nlink < 2) {
                                                                        return false;
                                                                    }
                                                                    auto why = denied_link(deny, st.st_dev, st.st_ino);
                                                                    if (!why.ok()) {
                                                                        failed = std::move(why).error();
                                                                        return true;
                                                                    }
                                                                    found = why->value_or("");
                                                                    return !found.empty();
                                                                }));
    DIAG_TRY(failed);
    budget.tree_entries -= std::min(budget.tree_entries, o.entries);
    // Names another account chose: escaped (control bytes, invalid UTF-8), and of a deep path
    // only its end, which says where (the whole can be tens of kilobytes).
    constexpr size_t kShownTail = 400;
    const bool cut = o.where.size() > kShownTail;
    const std::string where =
        (cut ? "..." : "") +
        text_safety::printable(cut ? o.where.substr(o.where.size() - kShownTail) : o.where, 4 * kShownTail);
    switch (o.end) {
        case tree_walk::End::kComplete:
            return ok_status();
        case tree_walk::End::kFound:
            return diag::deny("path-tree-denied", shown + ": " + where + ": " + text_safety::printable(found, 400));
        case tree_walk::End::kUnreadable:
            return diag::deny("path-tree-denied", shown + ": " + where + " cannot be read (" + std::strerror(o.err) +
                                                      "), so it cannot be checked for hard links of denied files");
        case tree_walk::End::kTooDeep:
            return diag::deny("path-tree-denied", shown + ": " + where + " is more than " +
                                                      std::to_string(tree_walk::kMaxDepth) +
                                                      " levels deep, too deep to check for hard links of denied files");
        case tree_walk::End::kTooLarge:
            break;
    }
    return diag::deny("path-tree-denied", shown + " is too large to check for hard links of denied files (more than " +
                                              std::to_string(opts.max_entries) +
                                              (opts.max_entries < kMaxTreeScan ? " entries left of this request's "
                                                                                 "budget)"
                                                                               : " entries)"));
}

}  // namespace

Result<std::vector<std::string>> check_links_contained(const Deny& deny) {
    DIAG_TRY_ASSIGN(const LinkIndex* index, denied_links(deny));
    for (const auto& entry : index->names) {
        // Only root's files stop every request. Another account can link a file it owns (or may
        // read and write: fs.protected_hardlinks) wherever it likes, before or after this check,
        // so refusing every request for such a link protects nothing from that account and would
        // let it stop the wrapper for everyone. Its other names are still refused where an
        // argument or a tree operand reaches them (denied_link, check_tree).
        if (index->owner.at(entry.first) != 0) {
            continue;
        }
        const auto& names = entry.second;
        const nlink_t links = index->nlink.at(entry.first);
        const bool inside_unverified = std::any_of(
            index->unverified.begin(), index->unverified.end(),
            [&](const std::pair<std::string, dev_t>& u) { return util::path_within(*names.begin(), u.first); });
        if (links > names.size() && !inside_unverified) {
            return make_error(ErrorCode::kExecFailed,
                              "denied file " + *names.begin() + " has " + std::to_string(links) +
                                  " hard links but only " + std::to_string(names.size()) +
                                  " under denied paths: another name of it is readable, and Landlock cannot exclude "
                                  "it (find it with find / -xdev -samefile; deny or remove it)");
        }
    }
    std::vector<std::string> roots;
    for (const auto& u : index->unverified) {
        roots.push_back(u.first);
    }
    return roots;
}

Status check_links(const Deny& deny, const Resolved& r, Use use, ScanBudget& budget) {
    const bool is_dir = S_ISDIR(r.mode);
    if (use == Use::kTree && is_dir) {
        DIAG_TRY(check_tree(deny, r, budget));
    }
    const bool read = use == Use::kContent || use == Use::kTree;
    if (read && S_ISREG(r.mode) && r.nlink > 1 && !in_nix_store(r.canonical)) {
        DIAG_TRY_ASSIGN(const auto why, denied_link(deny, r.dev, r.ino));
        if (why) {
            return diag::deny("path-denied", "'" + text_safety::printable(r.input) + "' is denied (" + *why + ")");
        }
    }
    return ok_status();
}

}  // namespace diag::path_resolve
