// SPDX-License-Identifier: Apache-2.0
// The loader: files and drop-ins with their trust checks, the top level of a file (version,
// parse errors, which tables it may hold, [deny]), and the checks that need every file read.
#include "wrapper/policy/loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers/privilege.h"
#include "tests/unit/policy/policy_text.h"
#include "wrapper/policy/pin.h"

namespace diag::policy_loader {
namespace {

using test::kHead;
using test::load_text;
using test::test_opts;

TEST(PolicyLoader, LoadsAMinimalPolicyAndPinsExecutables) {
    auto p = load_text(std::string(kHead) + R"(
[command.cat]
match = ["cat"]
description = "Print files"
fixed = ["-v"]
timeout = "5s"
output_cap = "1MiB"
[[command.cat.option]]
names = ["-n", "--number"]
type = "flag"
[[command.cat.positional]]
type = "path"
max = 4
[command.nope]
match = ["definitely-not-installed-diag"]
description = "missing"
)");
    ASSERT_TRUE(p.ok()) << p.error().describe();
    ASSERT_EQ(p->commands.size(), 2u);
    EXPECT_TRUE(p->commands[0].exe_path.empty());  // loading touches no executable
    for (auto& c : p->commands) {
        pin(c, p->search_path);
    }
    const auto& cat = p->commands[0];
    EXPECT_EQ(cat.id, "cat");
    EXPECT_TRUE(cat.unavailable.empty()) << cat.unavailable;
    EXPECT_EQ(cat.exe_path.substr(cat.exe_path.rfind('/')), "/cat");
    EXPECT_EQ(cat.timeout_ms, 5000u);
    EXPECT_EQ(cat.output_cap, 1024u * 1024);
    EXPECT_EQ(cat.positionals.at(0).max, 4u);
    // A command whose program is absent is unavailable, not a policy error (one policy, many hosts).
    EXPECT_FALSE(p->commands[1].unavailable.empty());
    EXPECT_EQ(p->sha256.size(), 64u);
}

TEST(PolicyLoader, RejectsBadPoliciesWithPositions) {
    test::expect_rejected({
        {"version = 2\n", "unsupported policy version 2", 1, 11},
        {"[settings]\nsearch_path = [\"/usr/bin\"]\n", "missing 'version = 1'", 1, 1},
        {"version = \"1\"\n", "version: expected an integer", 1, 11},
        {"tiemout = 3\n" + std::string(kHead), "unknown key 'tiemout' in policy", 1, 1},
        {std::string(kHead) + "[deny]\npaths = [\"etc/shadow\"]\n", "is not an absolute path", 8, 10},
        {std::string(kHead) + "[deny]\npaths = [\"/etc/../shadow\"]\n", "contains '.' or '..'", 0, 0},
        {std::string(kHead) + "[deny]\npath = [\"/etc/shadow\"]\n", "unknown key 'path' in deny", 8, 1},
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\n", "sinks must name at least one sink", 0, 0},
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\n[audit]\nsinks = [\"file\"]\n", "needs audit.file", 0,
         0},
        {"version = 1\nversion = 1\n", "cannot redefine existing integer 'version'", 2, 0},
        {"version = 1\n[settings\n", "", 2, 0},
        {"version = 1\n[\nsinks = [\"file\"]\n", "", 2, 0},  // toml++ asserted here (fuzz regression)
        {"v\xef\xbb\xb7"
         "ersio.!=",
         "non-ASCII byte", 1, 2},  // toml++ reached unreachable (fuzz regression)
        {"version = 1\n# caf\xc3\xa9\n", "non-ASCII byte", 2, 6},
    });
}

TEST(PolicyLoader, DenyEntriesAreBuiltOnlyWhenAsked) {
    const std::string text = std::string(kHead) + "[deny]\npaths = [\"/etc/shadow\"]\n";
    Options o = test_opts();
    o.build_deny = false;
    auto p = load_from_string(text, "t.toml", o);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    ASSERT_EQ(p->deny_written.size(), 1u);
    EXPECT_EQ(p->deny_written[0].path, "/etc/shadow");
    EXPECT_EQ(p->deny_written[0].origin, "t.toml:8");
    EXPECT_TRUE(p->deny.entries.empty());
    p = load_text(text);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    EXPECT_FALSE(p->deny.entries.empty());
}

class PolicyFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diagpolicy.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0755);
        std::filesystem::create_directories(dir_ + "/policy.d");
        ::chmod((dir_ + "/policy.d").c_str(), 0755);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string put(const std::string& name, const std::string& text, mode_t mode = 0644) {
        const std::string p = dir_ + "/" + name;
        std::ofstream(p) << text;
        ::chmod(p.c_str(), mode);
        return p;
    }
    std::string with_include() const {
        return "version = 1\n[settings]\nsearch_path = [\"/usr/bin\", \"/bin\"]\ninclude = [\"" + dir_ +
               "/policy.d\"]\n[audit]\nsinks = [\"file\"]\nfile = \"/tmp/a\"\n[deny]\npaths = [\"/etc/shadow\"]\n"
               "[command.cat]\nmatch = [\"cat\"]\ndescription = \"d\"\n";
    }
    std::string dir_;
};

TEST_F(PolicyFiles, RefusesGroupOrWorldWritablePolicy) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(dir_, ::getuid());
    const std::string p = put("policy.toml", with_include(), 0664);
    auto r = load(p, test_opts());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().msg.find("writable by group or other"), std::string::npos) << r.error().msg;
    ::chmod(p.c_str(), 0646);
    EXPECT_FALSE(load(p, test_opts()).ok());
    ::chmod(p.c_str(), 0644);
    EXPECT_TRUE(load(p, test_opts()).ok()) << load(p, test_opts()).error().msg;
}

TEST_F(PolicyFiles, RefusesPolicyNotOwnedByTheTrustedOwner) {
    const std::string p = put("policy.toml", with_include());
    Options other;
    other.trusted_owner = ::getuid() + 4242;
    auto r = load(p, other);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().msg.find("not owned by uid"), std::string::npos) << r.error().msg;
}

TEST_F(PolicyFiles, RefusesWritableParentDirectory) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(dir_, ::getuid());
    const std::string p = put("policy.toml", with_include());
    ::chmod(dir_.c_str(), 0777);  // not sticky: anyone could swap the file
    auto r = load(p, test_opts());
    ::chmod(dir_.c_str(), 0755);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().msg.find("writable by group or other"), std::string::npos) << r.error().msg;
}

TEST_F(PolicyFiles, DropInsAddDenyEntriesAndCommandsButCannotRemoveOrOverride) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(dir_, ::getuid());
    const std::string p = put("policy.toml", with_include());
    put("policy.d/10-host.toml",
        "version = 1\n[deny]\npaths = [\"/var/lib/matrix-synapse\"]\n[command.head]\nmatch = [\"head\"]\ndescription = "
        "\"h\"\n");
    auto r = load(p, test_opts());
    ASSERT_TRUE(r.ok()) << r.error().describe();
    bool base = false;
    bool added = false;
    for (const auto& e : r->deny.entries) {
        base = base || e.pattern == "/etc/shadow";
        added = added || e.pattern == "/var/lib/matrix-synapse";
    }
    EXPECT_TRUE(base);
    EXPECT_TRUE(added);
    EXPECT_EQ(r->commands.size(), 2u);
    EXPECT_EQ(r->loaded_files.size(), 2u);

    // A drop-in may not touch settings or audit (that is how it could drop a deny list or a sink) ...
    put("policy.d/20-bad.toml", "version = 1\n[audit]\nsinks = [\"syslog\"]\n");
    auto bad = load(p, test_opts());
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().describe().find("20-bad.toml:2:2: unknown key 'audit'"), std::string::npos)
        << bad.error().describe();
    std::filesystem::remove(dir_ + "/policy.d/20-bad.toml");
    // ... nor redefine a command of the base policy.
    put("policy.d/30-dup.toml", "version = 1\n[command.cat]\nmatch = [\"cat\"]\ndescription = \"again\"\n");
    auto dup = load(p, test_opts());
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.error().msg.find("already defined"), std::string::npos) << dup.error().msg;
    std::filesystem::remove(dir_ + "/policy.d/30-dup.toml");
    // ... and a world-writable drop-in is refused like the main file.
    put("policy.d/40-ww.toml", "version = 1\n", 0666);
    EXPECT_FALSE(load(p, test_opts()).ok());
}

TEST_F(PolicyFiles, DenyEntriesAreCanonicalizedSoDenyingASymlinkProtectsItsTarget) {
    DIAG_SKIP_UNLESS_OWNED_CHAIN(dir_, ::getuid());
    std::filesystem::create_directories(dir_ + "/persist/etc/ssh");
    put("persist/etc/ssh/ssh_host_ed25519_key", "KEY");
    std::filesystem::create_directories(dir_ + "/etc/ssh");
    std::filesystem::create_symlink(dir_ + "/persist/etc/ssh/ssh_host_ed25519_key",
                                    dir_ + "/etc/ssh/ssh_host_ed25519_key");
    const std::string p = put("policy.toml",
                              "version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\n[audit]\nsinks = [\"file\"]\n"
                              "file = \"/tmp/a\"\n[deny]\npaths = [\"" +
                                  dir_ + "/etc/ssh/ssh_host_*_key\"]\n");
    auto r = load(p, test_opts());
    ASSERT_TRUE(r.ok()) << r.error().describe();
    bool target = false;
    for (const auto& e : r->deny.entries) {
        target = target || e.pattern == dir_ + "/persist/etc/ssh/ssh_host_ed25519_key";
    }
    EXPECT_TRUE(target);
}

// --check --build runs as a build user on files nobody trusted wrote: it must accept them (it only
// reads what they say), read drop-ins from the directory it is given, and still find every error
// the host would.
TEST_F(PolicyFiles, BuildCheckValidatesFilesOfAnyOwnerAndReadsTheGivenDropIns) {
    const std::string p = put("policy.toml", with_include(), 0666);  // world-writable, any owner
    std::filesystem::create_directories(dir_ + "/build.d");
    put("build.d/50-host.toml", "version = 1\n[deny]\npaths = [\"/srv/host\"]\n", 0666);
    Options build;
    build.trusted_owner = ::getuid() + 4242;  // nobody here is trusted
    build.syntax_only = true;
    build.include = std::vector<std::string>{dir_ + "/build.d"};
    auto r = load(p, build);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->loaded_files.size(), 2u);
    ASSERT_EQ(r->deny_written.size(), 2u);
    EXPECT_EQ(r->deny_written[1].path, "/srv/host");
    EXPECT_TRUE(r->deny.entries.empty());  // not resolved against this machine

    put("build.d/60-bad.toml",
        "version = 1\n[command.up]\nmatch = [\"uptime\"]\ndescription = \"u\"\ntimeout = \"banana\"\n");
    auto bad = load(p, build);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().describe().find("60-bad.toml:5:11: command.up.timeout: 'banana'"), std::string::npos)
        << bad.error().describe();
}

}  // namespace
}  // namespace diag::policy_loader
