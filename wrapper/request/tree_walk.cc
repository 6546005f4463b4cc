// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wrapper/base/deadline.h"

namespace diag::tree_walk {

namespace {

// The open directories from the top down, closed however the walk ends.
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
    void push(DIR* d, std::string name) {
        dirs_.push_back(d);
        if (dirs_.size() > 1) {
            names_.push_back(std::move(name));  // the top has no name of its own
        }
    }
    void pop() {
        ::closedir(dirs_.back());
        dirs_.pop_back();
        if (!names_.empty()) {
            names_.pop_back();
        }
    }
    [[nodiscard]] bool empty() const { return dirs_.empty(); }
    [[nodiscard]] DIR* top() const { return dirs_.back(); }
    [[nodiscard]] size_t depth() const { return dirs_.size() - 1; }  // of the directory read now
    [[nodiscard]] const std::vector<std::string>& names() const { return names_; }

  private:
    std::vector<DIR*> dirs_;
    std::vector<std::string> names_;  // names_[i]: the directory at depth i + 1
};

// Why a directory we may not open can be skipped, and only this one: EACCES on a directory
// root owns. The tool runs with our credentials (and a stricter Landlock domain), so it cannot
// enter it either, and only root could change that. A directory anyone else owns is refused:
// its owner can chmod it open after our scan, and the tool would then read what we never saw.
bool skippable(int dirfd, const char* name, int err, const Options& opts) {
    struct stat st {};
    return opts.skip_closed_root_dirs && err == EACCES && ::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           st.st_uid == 0;
}

bool pruned(int fd, const Options& opts) {
    if (opts.prune.empty()) {
        return false;
    }
    struct stat st {};
    // A directory that cannot be examined is walked, not pruned: pruning only ever narrows.
    return ::fstat(fd, &st) == 0 &&
           std::find(opts.prune.begin(), opts.prune.end(), std::make_pair(st.st_dev, st.st_ino)) != opts.prune.end();
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
    stack.push(top_dir, {});
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
            continue;
        }
        DIR* d = ::fdopendir(fd);
        if (d == nullptr) {
            const int err = errno;
            ::close(fd);
            return fail(End::kUnreadable, name, err);
        }
        stack.push(d, name);
    }
    return out;
}

}  // namespace diag::tree_walk
