// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/path_resolve.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/helpers/privilege.h"
#include "tests/unit/request/resolve_fixture.h"

namespace diag::path_resolve {
namespace {

namespace fs = std::filesystem;

TEST_F(PathResolve, AllowsAndCanonicalizesOrdinaryPaths) {
    auto r = res(d_ + "/pub/./sub/../readme");
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(r->canonical, d_ + "/pub/readme");
    auto rel = res(d_.substr(1) + "/pub/readme");  // relative paths resolve against "/"
    ASSERT_TRUE(rel.ok());
    EXPECT_EQ(rel->canonical, d_ + "/pub/readme");
    auto slashes = res("//" + d_ + "///pub//readme");
    ASSERT_TRUE(slashes.ok());
    EXPECT_EQ(slashes->canonical, d_ + "/pub/readme");
}

TEST_F(PathResolve, DeniesEveryRouteToTheSecret) {
    struct Case {
        std::string path;
        const char* reason;
    } cases[] = {
        {d_ + "/secret/canary", "path-denied"},
        {d_ + "/secret", "path-denied"},
        {d_ + "/secret/sub/deep", "path-denied"},
        {d_ + "/pub/link", "path-denied"},              // symlink
        {d_ + "/pub/hop1", "path-denied"},              // chain of symlinks
        {d_ + "/pub/dirlink/canary", "path-denied"},    // symlinked directory
        {d_ + "/pub/../secret/canary", "path-denied"},  // ..
        {d_ + "/pub/sub/../../secret/./canary", "path-denied"},
        {"/proc/self/root" + d_ + "/secret/canary", "path-magic-link"},
        {"/proc/" + std::to_string(::getpid()) + "/cwd/" + d_ + "/secret/canary", "path-magic-link"},
        {"/proc/self/fd/0", "path-denied"},
        {"/dev/fd/0", "path-denied"},
        {"/dev/stdin", "path-denied"},
        {"/proc/self/environ", "path-denied"},
        {"/proc/1/environ", "path-denied"},
        {"/proc/self/task/" + std::to_string(::getpid()) + "/environ", "path-denied"},
        {"/proc/self/mem", "path-denied"},
        {"/proc/thread-self/environ", "path-denied"},
        // Review finding: ".." out of a literal thread-self walked the real parent (the wrapper's
        // task directory, then its /proc/PID) while the tracked name went back to "/": the
        // wrapper's own environ was checked as "/environ" and handed over.
        {"/proc/thread-self/../../environ", "path-magic-link"},
        {"/proc/thread-self/../../mem", "path-magic-link"},
        {"/proc/self/../self/environ", "path-magic-link"},
        {d_ + "/keys/host_ed25519_key", "path-denied"},  // glob entry
        {d_ + "/pub/keylink", "path-denied"},
        {d_ + "/pub/loop", "path-not-found"},
        {d_ + "/pub/missing", "path-not-found"},
        {d_ + "/pub/readme/x", "path-not-found"},
        {"", "path-not-found"},
        {"/dev/null", "path-type"},
        {"/dev/zero", "path-type"},
    };
    for (const auto& c : cases) {
        auto r = res(c.path);
        ASSERT_FALSE(r.ok()) << c.path << " -> " << (r.ok() ? r->canonical : "");
        EXPECT_EQ(r.error().reason, c.reason) << c.path << ": " << r.error().msg;
    }
    if (fs::exists("/proc/kcore")) {
        EXPECT_EQ(res("/proc/kcore").error().reason, "path-denied");
    }
    // The .pub file next to the denied key stays readable: the glob ends in _key.
    EXPECT_TRUE(res(d_ + "/keys/host_ed25519_key.pub").ok());
}

TEST_F(PathResolve, ProcSelfStaysLiteralSoTheChildSeesItself) {
    auto r = res("/proc/self/status");
    ASSERT_TRUE(r.ok()) << r.error().msg;
    EXPECT_EQ(r->canonical, "/proc/self/status");
    auto mounts = res("/proc/mounts");  // a plain relative symlink in procfs ("self/mounts")
    ASSERT_TRUE(mounts.ok()) << mounts.error().msg;
    EXPECT_EQ(mounts->canonical, "/proc/self/mounts");
}

// The child looks the canonical path up again: a path some user other than root could swap on
// the way is handed over as the checked object when it is a file to read (an fd), and refused
// otherwise.
TEST_F(PathResolve, PathsOthersCouldSwapAreHeldOpenOrRefused) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(d_, 0u);  // "stable" below means: only root could swap it
    DIAG_SKIP_UNLESS_CHOWN(d_ + "/pub/readme");
    fs::create_directories(d_ + "/ww/sub");
    fs::create_directories(d_ + "/st/mine");
    fs::create_directories(d_ + "/st/theirs");
    fs::create_directories(d_ + "/gw/sub");
    fs::create_directories(d_ + "/eve/sub");
    fs::create_directories(d_ + "/evest/rootdir");
    for (const char* f :
         {"/ww/sub/f", "/st/mine/f", "/st/theirs/f", "/gw/sub/f", "/eve/sub/f", "/evest/rootdir/f", "/pub/f"}) {
        put(d_ + f, "x");
    }
    ::chmod((d_ + "/ww").c_str(), 0777);   // world-writable, no sticky bit: anyone renames anything
    ::chmod((d_ + "/st").c_str(), 01777);  // /tmp-like: only an entry's owner renames it
    ::chmod((d_ + "/gw").c_str(), 0775);   // a group can write
    ::chmod((d_ + "/evest").c_str(), 01777);
    ASSERT_EQ(::chown((d_ + "/st/theirs").c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown((d_ + "/eve").c_str(), 4242, 4242), 0);    // another account's directory
    ASSERT_EQ(::chown((d_ + "/evest").c_str(), 4242, 4242), 0);  // sticky, but its owner renames anything
    enum Expect { kStable, kHeld, kRefused };
    struct Case {
        std::string path;
        Use use;
        Expect expect;
    } cases[] = {
        {d_ + "/pub/f", Use::kContent, kStable},
        {d_ + "/st/mine/f", Use::kContent, kStable},
        {d_ + "/ww", Use::kContent, kStable},           // root's directory in a root-only one
        {"/proc/self/status", Use::kContent, kStable},  // procfs names cannot be renamed
        {d_ + "/ww/sub/f", Use::kContent, kHeld},
        {d_ + "/st/theirs/f", Use::kContent, kHeld},
        {d_ + "/gw/sub/f", Use::kContent, kHeld},
        {d_ + "/eve/sub/f", Use::kContent, kHeld},
        {d_ + "/evest/rootdir/f", Use::kContent, kHeld},
        {d_ + "/eve/sub/f", Use::kMetadata, kRefused},  // swapped for a denied directory, ls lists it
        {d_ + "/ww/sub", Use::kContent, kRefused},
        {d_ + "/ww/sub", Use::kTree, kRefused},
        {d_ + "/ww/sub/f", Use::kTree, kHeld},        // grep -r on a file reads just that file
        {d_ + "/eve/sub", Use::kMetadata, kRefused},  // listing a directory reads it
        {d_ + "/st/theirs", Use::kMetaTree, kRefused},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.path);
        auto r = res(c.path, c.use);
        if (c.expect == kRefused) {
            ASSERT_FALSE(r.ok());
            EXPECT_EQ(r.error().reason, "path-replaceable") << r.error().msg;
            continue;
        }
        ASSERT_TRUE(r.ok()) << r.error().msg;
        EXPECT_EQ(r->fd.valid(), c.expect == kHeld) << r->bound_because;
        if (r->fd.valid()) {
            struct stat held {};
            struct stat named {};
            ASSERT_EQ(::fstat(r->fd.get(), &held), 0);
            ASSERT_EQ(::stat(c.path.c_str(), &named), 0);
            EXPECT_EQ(held.st_ino, named.st_ino);  // the object checked, held open
            EXPECT_EQ(::fcntl(r->fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        }
    }
}

TEST_F(PathResolve, TreesThatContainADeniedPathAreRefused) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(d_, 0u);  // else d_ itself is replaceable (another owner in /tmp)
    auto r = res(d_, Use::kTree);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-tree-denied");
    EXPECT_TRUE(res(d_ + "/pub", Use::kTree).ok());
    auto under_glob = res(d_ + "/keys", Use::kTree);
    ASSERT_FALSE(under_glob.ok());
    EXPECT_EQ(under_glob.error().reason, "path-tree-denied");
}

TEST_F(PathResolve, MetadataOfADeniedFileIsAllowedButNotOfADeniedDirectory) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(d_, 0u);  // else d_ itself is replaceable (another owner in /tmp)
    auto key = res(d_ + "/keys/host_ed25519_key", Use::kMetadata);
    ASSERT_TRUE(key.ok()) << key.error().msg;
    EXPECT_FALSE(key->metadata_of_denied.empty());
    auto dir = res(d_ + "/secret", Use::kMetadata);
    ASSERT_FALSE(dir.ok());
    EXPECT_EQ(dir.error().reason, "path-denied");
    EXPECT_TRUE(res("/dev/null", Use::kMetadata).ok());
}

TEST_F(PathResolve, RootsAreComponentWise) {
    EXPECT_TRUE(res(d_ + "/pub/readme", Use::kContent, {d_ + "/pub"}).ok());
    fs::create_directories(d_ + "/pubx");
    put(d_ + "/pubx/f", "x");
    auto r = res(d_ + "/pubx/f", Use::kContent, {d_ + "/pub"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-outside-roots");
}

}  // namespace
}  // namespace diag::path_resolve
