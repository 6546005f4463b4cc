// SPDX-License-Identifier: Apache-2.0
// resolve(): the walk down one path argument, one component at a time, then the checks of what
// it reached (see path_resolve.h).
#include "wrapper/request/path_resolve.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>

#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/policy/deny_match.h"
#include "wrapper/request/replaceable.h"

namespace diag::path_resolve {

namespace {

using policy::Deny;
using policy::DenyEntry;

bool on_procfs(int fd) {
    struct statfs sfs {};
    return ::fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

// One argument on its way down from "/": what is open, the names still to walk, and the first
// denied thing met.
struct Walk {
    Walk(const Deny& d, std::string_view input) : deny(d), shown("'" + text_safety::printable(input) + "'"), canon(d) {}

    const Deny& deny;
    const std::string shown;  // the argument as messages quote it
    sys::UniqueFd cur;        // O_PATH: the object reached so far
    // The canonical path so far and the denylist followed down it, one component at a time.
    deny_list::DenyCursor canon;
    std::deque<std::string> todo;   // components still to walk
    std::vector<std::string> hops;  // symlinks followed, as paths
    int symlinks = 0;
    // The first denied thing met on the walk: a deny entry by name, or a denied object by inode.
    std::string hit_pattern;
    std::string hit_origin;
    std::string hit_path;
    // The depth at which a literal "self"/"thread-self" was kept under /proc (0: none on the way).
    size_t self_depth = 0;
    std::string last_self;
};

Error denied(const Walk& w) {
    return diag::deny(
        "path-denied",
        w.shown + " is denied: " + w.hit_path + " matches deny entry " + w.hit_pattern + " (" + w.hit_origin + ")",
        w.hit_pattern);
}

Error not_found(const Walk& w, const std::string& why) { return diag::deny("path-not-found", w.shown + ": " + why); }

Status open_root(Walk& w) {
    w.cur = sys::UniqueFd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!w.cur.valid()) {
        return sys_error(ErrorCode::kInternal, "open(/)", errno);
    }
    return ok_status();
}

// Notes the first denied thing on the walk: the name `here` (canonical so far, the cursor's
// path) by the deny patterns, else the object `st` by inode. Only noted, not refused yet: a
// metadata argument may still pass (check_hit), and a /proc magic link met later reports it.
void note_hit(Walk& w, const std::string& here, const struct stat& st) {
    if (!w.hit_path.empty()) {
        return;
    }
    if (const DenyEntry* e = w.canon.match()) {
        w.hit_pattern = e->pattern;
        w.hit_origin = e->origin;
        w.hit_path = here;
    } else if (auto it = w.deny.objects.find({st.st_dev, st.st_ino}); it != w.deny.objects.end()) {
        // The same object as a denied one under another name: bind mount or hard link.
        w.hit_pattern = it->second;
        w.hit_origin = "same object as denied " + it->second;
        w.hit_path = here;
    }
}

// "..": to the parent of what is open, by the kernel's own "..", not by trimming the name.
Status step_up(Walk& w) {
    if (w.self_depth != 0 && w.canon.depth() == w.self_depth) {
        // Leaving a literal /proc/self or /proc/thread-self by "..": the real parent is the
        // wrapper's /proc/PID (or its task directory) while the name we track goes back to
        // /proc (or to /), so name and object would part ways. Nothing needs this.
        return diag::deny("path-magic-link", w.shown + ": '..' out of /proc/" + w.last_self + " is not followed");
    }
    if (w.canon.depth() > 0) {
        sys::UniqueFd up(::openat(w.cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!up.valid()) {
            return not_found(w, std::strerror(errno));
        }
        w.cur = std::move(up);
        w.canon.pop();
    }
    return ok_status();
}

// A symlink on procfs (`cur` is the directory holding it): true when it was stepped through
// here, as /proc/self and /proc/thread-self are, kept literal. Magic links are refused.
Result<bool> step_through_proc_link(Walk& w, const std::string& comp, const std::string& target) {
    struct stat cst {};
    const bool proc_root = ::fstat(w.cur.get(), &cst) == 0 && cst.st_ino == 1;
    if (proc_root && (comp == "self" || comp == "thread-self")) {
        // Keep "self" literal: in the child it names the child. The deny patterns
        // (/proc/*/environ ...) match it like any pid.
        sys::UniqueFd self(::openat(w.cur.get(), target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!self.valid()) {
            return not_found(w, std::strerror(errno));
        }
        w.cur = std::move(self);
        w.canon.push(comp);
        w.self_depth = w.canon.depth();
        w.last_self = comp;
        return true;
    }
    if (target.empty() || target[0] == '/' || target.find(':') != std::string::npos) {
        // /proc/PID/{cwd,root,exe,fd/N,map_files/*,ns/*}: the kernel does not resolve these
        // by their text, so neither can we check them.
        if (!w.hit_path.empty()) {
            return denied(w);  // already inside a denied directory (/proc/PID/fd): the real reason
        }
        return diag::deny("path-magic-link", w.shown + ": " + w.hops.back() + " is a /proc magic link");
    }
    return false;
}

// The symlink `link`, named `comp` in `cur`, already checked by name and inode (note_hit): its
// target's components go in front of the rest, walked from "/" when it is absolute.
Status follow_symlink(Walk& w, const std::string& comp, const sys::UniqueFd& link) {
    w.hops.push_back(w.canon.path());
    w.canon.pop();
    if (++w.symlinks > kMaxSymlinks) {
        return not_found(w, "too many levels of symbolic links");
    }
    char buf[PATH_MAX];
    const ssize_t n = ::readlinkat(link.get(), "", buf, sizeof buf - 1);
    if (n < 0) {
        return not_found(w, std::string("readlink: ") + std::strerror(errno));
    }
    const std::string target(buf, static_cast<size_t>(n));
    if (on_procfs(w.cur.get())) {
        DIAG_TRY_ASSIGN(const bool stepped, step_through_proc_link(w, comp, target));
        if (stepped) {
            return ok_status();
        }
    }
    const auto tcomps = util::split_path(target);
    w.todo.insert(w.todo.begin(), tcomps.begin(), tcomps.end());
    if (!target.empty() && target[0] == '/') {
        w.canon.reset();
        w.self_depth = 0;
        DIAG_TRY(open_root(w));
    }
    return ok_status();
}

// One name below what is open: opened without following it, checked (note_hit) before anything
// else happens to it, so a denied symlink is caught as itself and not only as its target.
Status step_into(Walk& w, const std::string& comp) {
    sys::UniqueFd next(::openat(w.cur.get(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
        return not_found(w, std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(next.get(), &st) != 0) {
        return not_found(w, std::strerror(errno));
    }
    w.canon.push(comp);
    note_hit(w, w.canon.path(), st);
    if (!S_ISLNK(st.st_mode)) {
        w.cur = std::move(next);
        return ok_status();
    }
    return follow_symlink(w, comp, next);
}

// The whole walk: every component of `input`, and of every symlink target met, from "/".
Status walk(Walk& w, std::string_view input) {
    DIAG_TRY(open_root(w));
    for (auto& c : util::split_path(input)) {
        w.todo.push_back(std::move(c));
    }
    while (!w.todo.empty()) {
        // The components to walk grow with every symlink another account points at a deep tree.
        DIAG_TRY(deadline::check("resolving a path argument"));
        const std::string comp = std::move(w.todo.front());
        w.todo.pop_front();
        if (comp == ".") {
            continue;
        }
        DIAG_TRY(comp == ".." ? step_up(w) : step_into(w, comp));
    }
    return ok_status();
}

// A denied name or object met on the way refuses the argument, except a file whose metadata
// only is shown: its name is recorded instead. Comes first of the checks: the denylist always
// wins over the type, the roots and who could swap the path.
Status check_hit(const Walk& w, Use use, bool is_dir, Resolved& out) {
    if (w.hit_path.empty()) {
        return ok_status();
    }
    if ((use == Use::kMetadata || use == Use::kMetaTree) && !is_dir) {
        out.metadata_of_denied = w.hit_pattern;
        return ok_status();
    }
    return denied(w);
}

Status check_type(const std::string& shown, Use use, mode_t mode) {
    if (use != Use::kMetadata && use != Use::kMetaTree && !S_ISDIR(mode) && !S_ISREG(mode)) {
        return diag::deny("path-type", shown + " is not a regular file or directory");
    }
    return ok_status();
}

// A tree the command walks must hold no denied path, by name, unless the command prunes them
// (the hard links below it are check_links()'s, later: they cost a scan).
Status check_tree_below(const Deny& deny, const std::string& shown, Use use, bool may_prune, Resolved& out) {
    const bool tree = use == Use::kTree || use == Use::kMetaTree;
    if (tree && S_ISDIR(out.mode)) {
        if (const DenyEntry* below = deny_list::deny_below(deny, out.canonical)) {
            if (may_prune) {
                out.prune_below = below->pattern;
                return ok_status();
            }
            return diag::deny("path-tree-denied",
                              shown + " contains denied path " + below->pattern + " (" + below->origin + ")",
                              below->pattern);
        }
    }
    return ok_status();
}

Status check_roots(const std::string& shown, const std::string& canonical, const std::vector<std::string>& roots) {
    if (roots.empty()) {
        return ok_status();
    }
    bool inside = false;
    for (const auto& r : roots) {
        inside = inside || util::path_within(canonical, r);
    }
    if (!inside) {
        return diag::deny("path-outside-roots",
                          shown + " resolves to " + canonical + ", outside the roots allowed for this argument");
    }
    return ok_status();
}

// The child is given the canonical path and looks it up again. A component some other user
// can swap for a symlink between this check and that lookup would send it elsewhere (to a
// hard link of a secret in a directory we cannot scan, which neither the deny patterns nor
// Landlock can tell apart, or a denied directory that a listing tool lists: Landlock's
// read-dir right is inherited). Then a file to read is handed over as the object checked here
// (its fd, /proc/self/fd/N in argv); anything else, metadata and directories included, is
// refused. Last of the checks: it walks the path again, which only an argument that passed the
// others is worth.
Status hold_if_replaceable(const std::string& shown, Use use, const sys::UniqueFd& object, Resolved& out) {
    DIAG_TRY_ASSIGN(const auto replaceable, replaceable_component(out.canonical));
    if (const auto& why = replaceable) {
        if ((use != Use::kContent && use != Use::kTree) || !S_ISREG(out.mode)) {  // a file is a tree of one
            return diag::deny("path-replaceable",
                              shown + ": " + *why + ", so it could be swapped before the command opens it");
        }
        out.fd = sys::UniqueFd(::open(("/proc/self/fd/" + std::to_string(object.get())).c_str(),
                                      O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        struct stat fst {};
        if (!out.fd.valid() || ::fstat(out.fd.get(), &fst) != 0 || fst.st_dev != out.dev || fst.st_ino != out.ino) {
            return diag::deny("path-replaceable",
                              shown + ": " + *why + ", and it could not be held open (" + std::strerror(errno) + ")");
        }
        out.bound_because = *why;
    }
    return ok_status();
}

}  // namespace

Result<Resolved> resolve(const Deny& deny, std::string_view input, Use use, const std::vector<std::string>& roots,
                         bool may_prune) {
    Resolved out;
    out.input = std::string(input);
    if (input.empty()) {
        return diag::deny("path-not-found", "empty path");
    }
    // The walk only notes what is denied on the way: the verdict needs the object it ends in.
    Walk w(deny, input);
    DIAG_TRY(walk(w, input));
    struct stat st {};
    if (::fstat(w.cur.get(), &st) != 0) {
        return not_found(w, std::strerror(errno));
    }
    out.canonical = w.canon.path();
    out.hops = std::move(w.hops);
    out.dev = st.st_dev;
    out.ino = st.st_ino;
    out.mode = st.st_mode;
    out.nlink = st.st_nlink;
    // Cheapest first, the denylist before everything; each refuses with its own reason.
    DIAG_TRY(check_hit(w, use, S_ISDIR(st.st_mode), out));
    DIAG_TRY(check_type(w.shown, use, st.st_mode));
    DIAG_TRY(check_tree_below(deny, w.shown, use, may_prune, out));
    DIAG_TRY(check_roots(w.shown, out.canonical, roots));
    DIAG_TRY(hold_if_replaceable(w.shown, use, w.cur, out));
    out.object = std::move(w.cur);
    return out;
}

}  // namespace diag::path_resolve
