// SPDX-License-Identifier: Apache-2.0
// Probes for what a unit test may lack when it does not run as root: in the Nix build sandbox
// (an unprivileged build user, `nobody`-like) and in the `unit_tests_unprivileged` ctest. A test
// that needs one of these skips with the reason instead of failing on the environment.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace diag::test {

// True when `path` and every directory above it are owned by `owner`: the chain the policy loader
// (Options::trusted_owner) and path_resolve (directories only root may change) rely on.
inline bool owned_chain(const std::string& path, uid_t owner) {
    std::string p = path;
    for (;;) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0 || st.st_uid != owner) {
            return false;
        }
        if (p == "/" || p.empty()) {
            return true;
        }
        const auto slash = p.find_last_of('/');
        p = slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
    }
}

// True when this process may give `file` to another account (chown needs CAP_CHOWN). Leaves the
// file with its original owner.
inline bool can_chown_to_others(const std::string& file) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        return false;
    }
    const bool ok = ::lchown(file.c_str(), st.st_uid + 4242, st.st_gid + 4242) == 0;
    if (ok) {
        (void)!::lchown(file.c_str(), st.st_uid, st.st_gid);
    }
    return ok;
}

}  // namespace diag::test

// Skips the current test unless `path` sits in a chain of directories owned by `owner`.
#define DIAG_SKIP_UNLESS_OWNED_CHAIN(path, owner)                                                    \
    do {                                                                                             \
        if (!::diag::test::owned_chain((path), (owner))) {                                           \
            GTEST_SKIP() << (path) << " is not in a directory chain owned by uid " << (owner)        \
                         << " (needs root; e.g. the Nix build sandbox runs the tests unprivileged)"; \
        }                                                                                            \
    } while (0)

// Skips the current test unless it may chown `file` to another account.
#define DIAG_SKIP_UNLESS_CHOWN(file)                                                          \
    do {                                                                                      \
        if (!::diag::test::can_chown_to_others(file)) {                                       \
            GTEST_SKIP() << "chown(" << (file) << ") to another uid is not permitted (needs " \
                         << "root or CAP_CHOWN)";                                             \
        }                                                                                     \
    } while (0)
