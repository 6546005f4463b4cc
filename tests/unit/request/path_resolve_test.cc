// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/path_resolve.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers/privilege.h"

namespace diag::path_resolve {
namespace {

namespace fs = std::filesystem;

// One argument through both steps, as the pipeline runs them: resolve(), then check_links().
Result<Resolved> resolve_and_check(const policy::Deny& deny, const std::string& p, Use use,
                                   const std::vector<std::string>& roots = {}) {
    auto r = resolve(deny, p, use, roots);
    if (!r.ok()) {
        return r;
    }
    ScanBudget budget;
    if (auto links = check_links(deny, *r, use, budget); !links.ok()) {
        return std::move(links).error();
    }
    return r;
}

// A symlink farm around a denied directory and a denied file.
class PathResolve : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diagresolve.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = fs::canonical(tmpl).string();
        fs::create_directories(d_ + "/secret/sub");
        fs::create_directories(d_ + "/pub/sub");
        fs::create_directories(d_ + "/keys");
        put(d_ + "/secret/canary", "CANARY");
        put(d_ + "/secret/sub/deep", "DEEP");
        put(d_ + "/keys/host_ed25519_key", "PRIVATE");
        put(d_ + "/keys/host_ed25519_key.pub", "PUBLIC");
        put(d_ + "/pub/readme", "hello");
        fs::create_symlink("../secret/canary", d_ + "/pub/link");
        fs::create_symlink(d_ + "/secret", d_ + "/pub/dirlink");
        fs::create_symlink("hop2", d_ + "/pub/hop1");
        fs::create_symlink("link", d_ + "/pub/hop2");
        fs::create_symlink("loop", d_ + "/pub/loop");
        fs::create_symlink(d_ + "/keys/host_ed25519_key", d_ + "/pub/keylink");
        deny_ = build({d_ + "/secret", d_ + "/keys/host_*_key"});
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(d_, ec);
    }
    static void put(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
    static policy::Deny build(const std::vector<std::string>& entries) {
        std::vector<RawDeny> raw;
        for (const auto& e : entries) {
            raw.push_back({e, "test"});
        }
        auto d = build_deny(raw);
        EXPECT_TRUE(d.ok()) << d.error().msg;
        return d.ok() ? *d : policy::Deny{};
    }
    Result<Resolved> res(const std::string& p, Use use = Use::kContent, const std::vector<std::string>& roots = {}) {
        return resolve_and_check(deny_, p, use, roots);
    }
    std::string d_;
    policy::Deny deny_;
};

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
        {d_ + "/pub/link", "path-denied"},                      // symlink
        {d_ + "/pub/hop1", "path-denied"},                      // chain of symlinks
        {d_ + "/pub/dirlink/canary", "path-denied"},            // symlinked directory
        {d_ + "/pub/../secret/canary", "path-denied"},          // ..
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
        {d_ + "/keys/host_ed25519_key", "path-denied"},          // glob entry
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
    for (const char* f : {"/ww/sub/f", "/st/mine/f", "/st/theirs/f", "/gw/sub/f", "/eve/sub/f", "/evest/rootdir/f", "/pub/f"}) {
        put(d_ + f, "x");
    }
    ::chmod((d_ + "/ww").c_str(), 0777);    // world-writable, no sticky bit: anyone renames anything
    ::chmod((d_ + "/st").c_str(), 01777);   // /tmp-like: only an entry's owner renames it
    ::chmod((d_ + "/gw").c_str(), 0775);    // a group can write
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
        {d_ + "/ww", Use::kContent, kStable},  // root's directory in a root-only one
        {"/proc/self/status", Use::kContent, kStable},  // procfs names cannot be renamed
        {d_ + "/ww/sub/f", Use::kContent, kHeld},
        {d_ + "/st/theirs/f", Use::kContent, kHeld},
        {d_ + "/gw/sub/f", Use::kContent, kHeld},
        {d_ + "/eve/sub/f", Use::kContent, kHeld},
        {d_ + "/evest/rootdir/f", Use::kContent, kHeld},
        {d_ + "/eve/sub/f", Use::kMetadata, kRefused},  // swapped for a denied directory, ls lists it
        {d_ + "/ww/sub", Use::kContent, kRefused},
        {d_ + "/ww/sub", Use::kTree, kRefused},
        {d_ + "/ww/sub/f", Use::kTree, kHeld},  // grep -r on a file reads just that file
        {d_ + "/eve/sub", Use::kMetadata, kRefused},     // listing a directory reads it
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

// Review finding: an entry whose expansion found a name that is itself "*" put the literal key
// ".../*/key" in the exact index, and a later glob with the same text was dropped as a duplicate:
// the tree below it was no longer denied.
TEST_F(PathResolve, ALiteralNamedLikeAGlobDoesNotReplaceTheGlob) {
    fs::create_directories(d_ + "/r/a/*");
    fs::create_directories(d_ + "/r/a/e");
    put(d_ + "/r/a/*/key", "C1");
    const auto deny = build({d_ + "/r/a/[*]/key", d_ + "/r/a/*/key"});
    auto r = resolve(deny, d_ + "/r/a/e", Use::kTree, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-tree-denied");
    EXPECT_NE(deny_below(deny, d_ + "/r/a/e", false), nullptr);
}

TEST_F(PathResolve, HardLinkToADeniedFileIsDenied) {
    const std::string alias = d_ + "/pub/hardlink";
    ASSERT_EQ(::link((d_ + "/secret/canary").c_str(), alias.c_str()), 0);
    deny_ = build({d_ + "/secret", d_ + "/keys/host_*_key"});  // inodes are pinned at load
    auto r = res(alias);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-denied") << r.error().msg;
}

TEST_F(PathResolve, HardLinkCreatedAfterLoadIsFoundByTheScan) {
    const std::string alias = d_ + "/pub/late-hardlink";
    ASSERT_EQ(::link((d_ + "/secret/sub/deep").c_str(), alias.c_str()), 0);  // deep: not pinned itself
    auto r = res(alias);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-denied");
    EXPECT_NE(r.error().msg.find("hard link"), std::string::npos) << r.error().msg;
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

TEST_F(PathResolve, DenyingASymlinkProtectsItsTarget) {
    fs::create_directories(d_ + "/persist/etc/ssh");
    put(d_ + "/persist/etc/ssh/ssh_host_rsa_key", "RSA");
    fs::create_directories(d_ + "/etc/ssh");
    fs::create_symlink(d_ + "/persist/etc/ssh/ssh_host_rsa_key", d_ + "/etc/ssh/ssh_host_rsa_key");
    deny_ = build({d_ + "/etc/ssh/ssh_host_*_key"});
    auto r = res(d_ + "/persist/etc/ssh/ssh_host_rsa_key");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "path-denied");
}

TEST_F(PathResolve, BindMountOfADeniedDirectoryIsDenied) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "bind mounts need root";
    }
    fs::create_directories(d_ + "/pub/mnt");
    if (::mount((d_ + "/secret").c_str(), (d_ + "/pub/mnt").c_str(), nullptr, MS_BIND, nullptr) != 0) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    deny_ = build({d_ + "/secret"});
    auto via_alias = res(d_ + "/pub/mnt/canary");
    auto tree = res(d_ + "/pub", Use::kTree);
    ::umount2((d_ + "/pub/mnt").c_str(), MNT_DETACH);
    ASSERT_FALSE(via_alias.ok());
    EXPECT_EQ(via_alias.error().reason, "path-denied");
    ASSERT_FALSE(tree.ok());
    EXPECT_EQ(tree.error().reason, "path-tree-denied");

    fs::create_directories(d_ + "/pub/late");
    policy::Deny early = build({d_ + "/secret"});
    ASSERT_EQ(::mount((d_ + "/secret").c_str(), (d_ + "/pub/late").c_str(), nullptr, MS_BIND, nullptr), 0);
    auto late = resolve_and_check(early, d_ + "/pub/late/canary", Use::kContent);
    ::umount2((d_ + "/pub/late").c_str(), MNT_DETACH);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().reason, "path-denied") << late.error().msg;
}

// Found in review of the glob expansion: glob(3) never lets '*' match a dot name in a directory
// component (not even with GLOB_PERIOD), while the deny check does. A deny entry like
// /home/*/.ssh then missed /home/.hidden/.ssh when looking for its bind mounts and inodes: a bind
// mount of it elsewhere was readable.
TEST_F(PathResolve, GlobExpansionSeesDotDirectoriesAsTheDenyCheckDoes) {
    fs::create_directories(d_ + "/home/.hidden/.ssh");
    fs::create_directories(d_ + "/home/alice/.ssh");
    put(d_ + "/home/.hidden/.ssh/key", "HIDDEN");
    put(d_ + "/home/alice/.ssh/key", "ALICE");
    deny_ = build({d_ + "/home/*/.ssh"});
    struct stat hidden {};
    ASSERT_EQ(::stat((d_ + "/home/.hidden/.ssh").c_str(), &hidden), 0);
    EXPECT_EQ(deny_.objects.count({hidden.st_dev, hidden.st_ino}), 1u) << "the dot directory's match was not expanded";
    if (::geteuid() != 0) {
        GTEST_SKIP() << "the bind-mount half needs root";
    }
    fs::create_directories(d_ + "/pub/mnt");
    if (::mount((d_ + "/home/.hidden/.ssh").c_str(), (d_ + "/pub/mnt").c_str(), nullptr, MS_BIND, nullptr) != 0) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    deny_ = build({d_ + "/home/*/.ssh"});
    auto via_alias = res(d_ + "/pub/mnt/key");
    auto tree = res(d_ + "/pub", Use::kTree);
    ::umount2((d_ + "/pub/mnt").c_str(), MNT_DETACH);
    ASSERT_FALSE(via_alias.ok()) << "the bind mount of /home/.hidden/.ssh was readable";
    EXPECT_EQ(via_alias.error().reason, "path-denied");
    ASSERT_FALSE(tree.ok());
    EXPECT_EQ(tree.error().reason, "path-tree-denied");
}

TEST(PathResolveDeny, MatchIsPerComponentGlob) {
    policy::Deny d;
    add_deny_entry(d, "/home/*/.ssh", "t");
    add_deny_entry(d, "/etc/shadow*", "t");
    add_deny_entry(d, "/var/lib/secret", "t");
    EXPECT_NE(match_deny(d, "/home/alice/.ssh/id_ed25519"), nullptr);
    EXPECT_NE(match_deny(d, "/home/.hidden/.ssh"), nullptr);
    EXPECT_EQ(match_deny(d, "/home/alice/x/.ssh"), nullptr);
    EXPECT_NE(match_deny(d, "/etc/shadow-"), nullptr);
    EXPECT_EQ(match_deny(d, "/etc/shadows.d2"), match_deny(d, "/etc/shadow"));
    EXPECT_EQ(match_deny(d, "/etc/passwd"), nullptr);
    EXPECT_NE(deny_below(d, "/home"), nullptr);
    EXPECT_NE(deny_below(d, "/"), nullptr);
    EXPECT_NE(deny_below(d, "/var"), nullptr);  // /var/lib/secret lies below
    EXPECT_NE(deny_below(d, "/var/lib/secret"), nullptr);
    EXPECT_EQ(deny_below(d, "/var/lib/other"), nullptr);
    EXPECT_EQ(deny_below(d, "/usr"), nullptr);
    EXPECT_NE(match_deny(d, "/var/lib/secret/x/y"), nullptr);
    EXPECT_EQ(match_deny(d, "/var/lib/secrets"), nullptr);
    add_deny_entry(d, "/var/lib/secret", "again");  // duplicates are ignored
    EXPECT_EQ(d.entries.size(), 3u);
}

// The Landlock walk asks DenyScope instead of match_deny/deny_below: every answer must agree, or
// the walk grants what resolve() refuses.
// The raw-I/O devices need no Landlock walk of /dev for an unprivileged child; anything else the
// policy denies there still does.
TEST(PathResolveDeny, KernelGuardedEntriesDoNotMakeTheWalkDescend) {
    policy::Deny d;
    add_deny_entry(d, "/dev/mem", "built-in", true);
    add_deny_entry(d, "/dev/port", "built-in", true);
    EXPECT_NE(match_deny(d, "/dev/mem"), nullptr) << "still refused as an argument";
    EXPECT_NE(deny_below(d, "/dev"), nullptr);
    EXPECT_EQ(deny_below(d, "/dev", true), nullptr);
    EXPECT_EQ(deny_below(d, "/", true), nullptr);
    add_deny_entry(d, "/dev/disk/by-id/secret", "policy.toml:9");
    EXPECT_NE(deny_below(d, "/dev", true), nullptr);
    EXPECT_EQ(deny_below(d, "/dev", true)->pattern, "/dev/disk/by-id/secret");
    // A policy entry for the same path stays an ordinary one: the first entry wins.
    policy::Deny e;
    add_deny_entry(e, "/dev/mem", "policy.toml:3");
    add_deny_entry(e, "/dev/mem", "built-in", true);
    EXPECT_NE(deny_below(e, "/dev", true), nullptr);
}

// build_deny marks the built-in raw-I/O devices only where the path is that driver's node (or
// absent); the same path written in a policy is an ordinary entry.
TEST(PathResolveDeny, OnlyBuiltInRawIoDeviceNodesAreKernelGuarded) {
    struct stat st {};
    const bool absent = ::stat("/dev/port", &st) != 0 && errno == ENOENT;
    const bool node = !absent && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 4;
    auto built = build_deny({});
    ASSERT_TRUE(built.ok()) << built.error().msg;
    const auto* port = match_deny(*built, "/dev/port");
    ASSERT_NE(port, nullptr);
    EXPECT_EQ(port->kernel_guarded, absent || node);
    auto written = build_deny({{"/dev/port", "policy.toml:4"}});
    ASSERT_TRUE(written.ok()) << written.error().msg;
    EXPECT_FALSE(match_deny(*written, "/dev/port")->kernel_guarded);
    const auto* proc = match_deny(*built, "/proc/kcore");
    ASSERT_NE(proc, nullptr);
    EXPECT_FALSE(proc->kernel_guarded) << "only the /dev raw-I/O nodes";
}

TEST(PathResolveDeny, ScopeAgreesWithMatchDenyAndDenyBelow) {
    policy::Deny d;
    for (const char* p : {"/home/*/.ssh", "/etc/shadow*", "/var/lib/secret", "/srv/*/keys/*.pem", "/opt/a/b",
                          "/proc/*/environ", "/data/[ab]*/x"}) {
        add_deny_entry(d, p, "t");
    }
    const std::vector<std::string> dirs = {"/", "/home", "/home/alice", "/home/alice/.ssh", "/etc", "/var", "/var/lib",
                                           "/var/lib/secret", "/srv", "/srv/web", "/srv/web/keys", "/opt", "/opt/a",
                                           "/opt/a/b", "/proc", "/proc/1", "/data", "/data/alpha", "/data/cat",
                                           "/dev"};
    const std::vector<std::string> names = {"home", "etc", "var", "srv", "opt", "proc", "data", ".ssh", "alice", "dev",
                                            "mem", "guarded", "guarded-x",
                                            "shadow", "shadow-", "passwd", "lib", "secret", "secrets", "web", "keys",
                                            "tls.pem", "tls.crt", "a", "b", "c", "environ", "1", "alpha", "cat", "x"};
    // Kernel-guarded entries (the raw-I/O devices) count for denied(), and for below() unless
    // it is asked to skip them.
    add_deny_entry(d, "/dev/mem", "built-in", true);
    add_deny_entry(d, "/opt/a/b/guarded", "built-in", true);
    add_deny_entry(d, "/srv/*/guarded*", "built-in", true);
    size_t denied = 0;
    size_t below = 0;
    size_t skipped = 0;
    for (const auto& dir : dirs) {
        const DenyScope scope(d, dir);
        const DenyScope walk(d, dir, true);
        for (const auto& name : names) {
            const std::string path = (dir == "/" ? "" : dir) + "/" + name;
            EXPECT_EQ(scope.denied(name) != nullptr, match_deny(d, path) != nullptr) << path;
            EXPECT_EQ(scope.below(name) != nullptr, deny_below(d, path) != nullptr) << path;
            EXPECT_EQ(walk.denied(name) != nullptr, match_deny(d, path) != nullptr) << path;
            EXPECT_EQ(walk.below(name) != nullptr, deny_below(d, path, true) != nullptr) << path;
            denied += scope.denied(name) != nullptr;
            below += scope.below(name) != nullptr;
            skipped += (scope.below(name) != nullptr) != (walk.below(name) != nullptr);
        }
    }
    EXPECT_GT(skipped, 0u) << "no name differs between below() and the walk's below()";
    // The table exercises both answers, not only "nothing denied".
    EXPECT_GT(denied, 20u);
    EXPECT_GT(below, 20u);
}

}  // namespace
}  // namespace diag::path_resolve
