// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "wrapper/base/deadline.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/deny_match.h"

namespace diag::tree_walk {

namespace {

// The open directories from the top down, closed however the walk ends; with each, when the walk
// skips denied entries and a deny entry lies below it, the denylist as seen from it.
class Stack {
  public:
    Stack() = default;
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;
    ~Stack() {
        while (!dirs_.empty()) {
            pop();
        }
    }
    void push(DIR* d, std::string name, std::unique_ptr<deny_list::DenyScope> scope) {
        dirs_.push_back(d);
        scopes_.push_back(std::move(scope));
        if (dirs_.size() > 1) {
            names_.push_back(std::move(name));  // the top has no name of its own
        }
    }
    void pop() {
        ::closedir(dirs_.back());
        dirs_.pop_back();
        scopes_.pop_back();
        if (!names_.empty()) {
            names_.pop_back();
        }
    }
    [[nodiscard]] bool empty() const { return dirs_.empty(); }
    [[nodiscard]] DIR* top() const { return dirs_.back(); }
    [[nodiscard]] const deny_list::DenyScope* scope() const { return scopes_.back().get(); }
    [[nodiscard]] size_t depth() const { return dirs_.size() - 1; }  // of the directory read now
    [[nodiscard]] const std::vector<std::string>& names() const { return names_; }

  private:
    std::vector<DIR*> dirs_;
    std::vector<std::unique_ptr<deny_list::DenyScope>> scopes_;
    std::vector<std::string> names_;  // names_[i]: the directory at depth i + 1
};

// The denylist as seen from the directory `path`, when the walk skips denied entries and some
// deny entry lies below it (else nothing below it can be denied by name: no scope to ask).
std::unique_ptr<deny_list::DenyScope> scope_of(const Options& opts, const std::string& path) {
    if (opts.skip_denied == nullptr || deny_list::deny_below(*opts.skip_denied, path) == nullptr) {
        return nullptr;
    }
    return std::make_unique<deny_list::DenyScope>(*opts.skip_denied, path);
}

// fs.protected_hardlinks = 1: an account may link only a file it owns or may read and write
// (so one it could already copy out). Read once: only root can change it.
bool hardlinks_protected() {
    static const bool on = [] {
        char c = 0;
        const sys::UniqueFd f(::open("/proc/sys/fs/protected_hardlinks", O_RDONLY | O_CLOEXEC));
        return f.valid() && ::read(f.get(), &c, 1) == 1 && c == '1';
    }();
    return on;
}

// Why a directory we may not open can be skipped, and only this one: EACCES on it. The tool runs
// with our credentials (and a stricter Landlock domain), so it cannot enter it either. Only its
// owner can change that: root, whom the scan does not guard against; or an account that, with
// protected hard links, can have put there only links of files it could already expose itself
// (it owns them or may read and write them; root's denied files with a name outside the denied
// paths stop every request, link_check.h). Without protected hard links, a directory another
// account owns is refused: it could chmod it open after our scan with a link of someone else's
// secret inside.
bool skippable(int dirfd, const char* name, int err, const Options& opts) {
    struct stat st {};
    return opts.skip_closed_root_dirs && err == EACCES && ::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           (st.st_uid == 0 || hardlinks_protected());
}

bool pruned(int fd, const Options& opts) {
    if (opts.prune.empty() && opts.skip_denied == nullptr) {
        return false;
    }
    struct stat st {};
    // A directory that cannot be examined is walked, not pruned: pruning only ever narrows.
    if (::fstat(fd, &st) != 0) {
        return false;
    }
    const auto key = std::make_pair(st.st_dev, st.st_ino);
    return std::find(opts.prune.begin(), opts.prune.end(), key) != opts.prune.end() ||
           (opts.skip_denied != nullptr && opts.skip_denied->objects.count(key) != 0);
}

}  // namespace

std::string Here::path() const {
    std::string out(top_ == "/" ? "" : top_);
    for (const auto& n : names_) {
        out.append("/").append(n);
    }
    if (name_ != nullptr) {
        out.append("/").append(name_);
    }
    return out.empty() ? "/" : out;
}

Result<Outcome> walk(int top, std::string_view top_path, const Options& opts, const Visitor& visit) {
    Outcome out;
    Stack stack;
    auto fail = [&](End end, const char* name, int err) {
        out.end = end;
        out.err = err;
        out.where = Here(top_path, stack.names(), name).path();
        return out;
    };
    // Opened again for reading: `top` may be an O_PATH fd. "." is looked up in the directory
    // itself, so this is the object resolve() checked, not whatever its path names now.
    const int top_fd = ::openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top_fd < 0) {
        const int err = errno;
        if (skippable(top, ".", err, opts)) {
            return out;
        }
        return fail(End::kUnreadable, nullptr, err);
    }
    DIR* top_dir = ::fdopendir(top_fd);
    if (top_dir == nullptr) {
        const int err = errno;
        ::close(top_fd);
        return fail(End::kUnreadable, nullptr, err);
    }
    stack.push(top_dir, {}, scope_of(opts, std::string(top_path)));
    while (!stack.empty()) {
        errno = 0;
        const dirent* e = ::readdir(stack.top());
        if (e == nullptr) {
            if (errno != 0) {
                return fail(End::kUnreadable, nullptr, errno);  // a listing cut short hides the rest
            }
            stack.pop();
            continue;
        }
        const char* name = e->d_name;
        if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) {
            continue;
        }
        DIAG_TRY(deadline::check(opts.what));
        if (++out.entries > opts.max_entries) {
            out.end = End::kTooLarge;
            return out;
        }
        if (const deny_list::DenyScope* scope = stack.scope(); scope != nullptr && scope->denied(name) != nullptr) {
            ++out.skipped;  // denied by name: the command is made to skip it too (tree_prune.h)
            continue;
        }
        const int dirfd = ::dirfd(stack.top());
        unsigned char type = e->d_type;
        if (type == DT_REG || type == DT_UNKNOWN) {
            struct stat st {};
            if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) {
                    continue;  // removed since it was listed: nothing left to read under that name
                }
                return fail(End::kUnreadable, name, errno);
            }
            if (S_ISREG(st.st_mode)) {
                if (visit(st, Here(top_path, stack.names(), name))) {
                    return fail(End::kFound, name, 0);
                }
                continue;
            }
            type = S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
        }
        if (type != DT_DIR) {
            continue;  // symlinks are not followed; devices, fifos and sockets hold no files
        }
        if (stack.depth() + 1 > opts.max_depth) {
            return fail(End::kTooDeep, name, 0);
        }
        const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            if (skippable(dirfd, name, err, opts)) {
                continue;
            }
            return fail(End::kUnreadable, name, err);
        }
        if (pruned(fd, opts)) {
            ::close(fd);
            ++out.skipped;
            continue;
        }
        DIR* d = ::fdopendir(fd);
        if (d == nullptr) {
            const int err = errno;
            ::close(fd);
            return fail(End::kUnreadable, name, err);
        }
        auto scope = stack.scope() != nullptr && stack.scope()->below(name) != nullptr
                         ? scope_of(opts, Here(top_path, stack.names(), name).path())
                         : nullptr;
        stack.push(d, name, std::move(scope));
    }
    return out;
}

}  // namespace diag::tree_walk
