// SPDX-License-Identifier: Apache-2.0
// Opening a file to check and grant: see real_open.h.
#include "wrapper/confine/real_open.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace diag::real_open {

bool normalized(const std::string& path) {
    if (path.empty() || path[0] != '/') {
        return false;
    }
    if (path == "/") {
        return true;
    }
    for (size_t start = 1;;) {
        const size_t end = path.find('/', start);
        const std::string_view comp(path.data() + start, (end == std::string::npos ? path.size() : end) - start);
        if (comp.empty() || comp == "." || comp == "..") {
            return false;
        }
        if (end == std::string::npos) {
            return true;
        }
        start = end + 1;
    }
}

Result<std::string> path_of(int fd, const std::string& path) {
    std::string buf(PATH_MAX, '\0');
    const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf.data(), buf.size());
    if (n <= 0 || static_cast<size_t>(n) >= buf.size() || buf[0] != '/') {
        return make_error(ErrorCode::kExecFailed, "landlock: cannot tell where " + path + " leads");
    }
    buf.resize(static_cast<size_t>(n));
    return buf;
}

Result<Opened> open(const std::string& path, int flags) {
    Opened o;
    if (normalized(path)) {
        // RESOLVE_NO_SYMLINKS: every component walked as it is, none followed (ELOOP otherwise),
        // so the name walked is the name of the object, with no /proc lookup (several µs each).
        open_how how{};
        how.flags = static_cast<unsigned>(flags) | static_cast<unsigned>(O_CLOEXEC);
        how.resolve = RESOLVE_NO_SYMLINKS;
        const long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
        if (fd >= 0) {
            o.fd = sys::UniqueFd(static_cast<int>(fd));
            o.real = path;
            return o;
        }
        if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) {
            o.err = errno;  // the same walk, following nothing, ends there for open(2) too
            return o;
        }
        // ELOOP (a symlink on the way), or no openat2 here: open as the loader does.
    }
    o.fd = sys::UniqueFd(::open(path.c_str(), flags | O_CLOEXEC));
    if (!o.fd.valid()) {
        o.err = errno;
        return o;
    }
    DIAG_TRY_ASSIGN(o.real, path_of(o.fd.get(), path));
    return o;
}

}  // namespace diag::real_open
