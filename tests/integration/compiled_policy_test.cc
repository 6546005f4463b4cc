// SPDX-License-Identifier: Apache-2.0
// The compiled policy image through the wrapper (adr/0021): `--compile` writes it and requests
// use it; an image that would change the decision is used only when root owns it, nobody else can
// write it and it was compiled from the policy's files as they are now. Every other image is
// ignored and the request is decided from the files, never refused because of the image.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/integration/harness.h"
#include "wrapper/policy/compiled.h"
#include "wrapper/policy/loader.h"

namespace diag::testing {
namespace {

class CompiledPolicy : public WrapperFixture {
  protected:
    void SetUp() override {
        WrapperFixture::SetUp();
        if (IsSkipped()) {
            return;
        }
        text_ = policy(
            "[command.cat]\nmatch = [\"cat\"]\ndescription = \"print\"\n"
            "[[command.cat.positional]]\ntype = \"path\"\nmax = 4\n");
        policy_ = write_policy(text_);
        image_ = policy_ + ".compiled";
        secret_request_ = "cat " + dir_ + "/secret/canary.txt";
    }

    // An image whose key matches the files but whose policy denies nothing of its own: were it
    // used, the canary would be printed. Written as the wrapper's build (the one `--compile` puts
    // in its image): an image of another build is never used.
    void write_forged_image(int64_t settled_ns = 0) {
        auto c = run_args({"--policy", policy_, "--compile"});
        ASSERT_EQ(c.exit_code, 0) << c.err;
        const std::string compiled_bytes = read_image();
        auto img = compiled::parse(compiled_bytes);
        ASSERT_TRUE(img.ok()) << img.error().describe();
        auto p = policy_loader::load(policy_);
        ASSERT_TRUE(p.ok()) << p.error().describe();
        p->deny_written.clear();
        compiled::Stamp stamp;
        if (settled_ns != 0) {  // identities recorded by a compile that "started" settled_ns from now
            auto ids = policy_loader::source_ids(policy_, p->include);
            ASSERT_TRUE(ids.ok()) << ids.error().describe();
            stamp = {compiled::now_ns() + settled_ns, *ids};
        }
        std::ofstream(image_, std::ios::binary | std::ios::trunc) << compiled::encode(*p, img->build, stamp);
        ASSERT_EQ(::chmod(image_.c_str(), 0644), 0);
    }

    std::string read_image() const {
        std::ifstream in(image_, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }

    // The image's line of `--check`, which must exit 0 whatever the image's state.
    std::string check_line() const {
        auto r = run_args({"--policy", policy_, "--check"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const size_t at = r.out.find("compiled image: ");
        if (at == std::string::npos) {
            ADD_FAILURE() << "no image line: " << r.out;
            return "";
        }
        return r.out.substr(at, r.out.find('\n', at) - at);
    }

    void expect_decided_from_files() {
        auto r = run_soc(policy_, secret_request_);
        EXPECT_DENIED(r, "path-denied");
        auto ok = run_soc(policy_, "cat " + dir_ + "/pub/readme.txt");
        EXPECT_EQ(ok.exit_code, 0) << ok.err;
        EXPECT_EQ(ok.out, "public-readme\n");
    }

    std::string text_;
    std::string policy_;
    std::string image_;
    std::string secret_request_;
};

TEST_F(CompiledPolicy, CompileWritesAnImageRequestsUse) {
    auto c = run_args({"--policy", policy_, "--compile"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_NE(c.out.find("into " + image_), std::string::npos) << c.out;
    struct stat st {};
    ASSERT_EQ(::stat(image_.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    expect_decided_from_files();  // the same decisions as from the files
    // A refusal and the listing are decided with every rule (the image holds them all).
    EXPECT_DENIED(run_soc(policy_, "catt x"), "unknown-command");
    auto help = run_soc(policy_, "help");
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_NE(help.out.find("cat"), std::string::npos);
}

// The positive control for the tests below: a root-owned, current image is trusted (root is).
TEST_F(CompiledPolicy, ARootOwnedCurrentImageIsUsed) {
    write_forged_image();
    auto r = run_soc(policy_, secret_request_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(canary_), std::string::npos);
}

// An image another build wrote (here the test's own build) from these very files: its key
// matches, but it holds another loader's checks and defaults, so it is not used.
TEST_F(CompiledPolicy, ImageOfAnotherBuildIsIgnored) {
    auto p = policy_loader::load(policy_);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    p->deny_written.clear();
    ASSERT_NE(compiled::build_id(), "");
    std::ofstream(image_, std::ios::binary | std::ios::trunc) << compiled::encode(*p, compiled::build_id());
    ASSERT_EQ(::chmod(image_.c_str(), 0644), 0);
    expect_decided_from_files();
}

// A rule the request does not name that does not read back from the image (its blob altered,
// the head intact): the request runs from the image, and a refusal or the listing, which need
// every rule, come from the files instead of failing.
TEST_F(CompiledPolicy, ARuleThatDoesNotReadBackFallsBackToTheFilesForTheListing) {
    write(policy_, text_ + "[command.zzcat]\nmatch = [\"zzcat\"]\nprogram = \"cat\"\ndescription = \"zzmark\"\n", 0644);
    auto c = run_args({"--policy", policy_, "--compile"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    std::string bytes = read_image();
    const size_t at = bytes.rfind("zzmark");
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 'Z';
    write(image_, bytes, 0644);
    auto ok = run_soc(policy_, "cat " + dir_ + "/pub/readme.txt");
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    auto help = run_soc(policy_, "help");
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_NE(help.out.find("zzmark"), std::string::npos) << help.out;
    EXPECT_DENIED(run_soc(policy_, "catt x"), "unknown-command");
}

// adr/0026: --compile records the identities of the files it read. Written just before it (as
// dpkg's unpack and NixOS's setup-etc write them), the compile waits until they are settled, so
// requests can take the key from them; a file changed after it is hashed again.
TEST_F(CompiledPolicy, CompileWaitsForFreshFilesToSettleAndRecordsThem) {
    auto c = run_args({"--policy", policy_, "--compile"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    auto img = compiled::parse(read_image());
    ASSERT_TRUE(img.ok()) << img.error().describe();
    ASSERT_FALSE(img->stamp.ids.empty());
    EXPECT_EQ(img->stamp.ids[0].path, policy_);
    for (const auto& id : img->stamp.ids) {
        EXPECT_LE(id.ctime_ns, img->stamp.started_ns - compiled::kSettleNs) << id.path;
    }
    // compiled::load's key_by_identity is asserted in compiled_test (this test's build cannot use
    // the wrapper's image): here, the identities it compares.
    auto now = policy_loader::source_ids(policy_, img->policy.include);
    ASSERT_TRUE(now.ok()) << now.error().describe();
    EXPECT_TRUE(compiled::identities_current(img->stamp, *now));
    expect_decided_from_files();
    // Changed after the compile: its identity no longer matches, the request hashes the files,
    // finds the key stale and decides from the files.
    write(policy_, text_ + "# edited after --compile\n", 0644);
    auto edited = policy_loader::source_ids(policy_, img->policy.include);
    ASSERT_TRUE(edited.ok());
    EXPECT_FALSE(compiled::identities_current(img->stamp, *edited));
    expect_decided_from_files();
}

// Settled identities key the image without the files being read: the forged image is used.
TEST_F(CompiledPolicy, SettledIdentitiesKeyTheImage) {
    write_forged_image(10'000'000'000);
    auto r = run_soc(policy_, secret_request_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(canary_), std::string::npos);
}

// An edit in place of the same size whose mtime is put back (touch -d, utimensat) still moves
// ctime: the request hashes the files, finds the image stale and decides from them.
TEST_F(CompiledPolicy, SameSizeEditWithItsMtimeRestoredIsNotTakenForTheImage) {
    write_forged_image(10'000'000'000);
    struct stat before {};
    ASSERT_EQ(::stat(policy_.c_str(), &before), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // ctime: the kernel's coarse clock
    std::string edited = text_;
    edited[edited.find("print")] = 'P';
    write(policy_, edited, 0644);
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, policy_.c_str(), times, 0), 0);
    expect_decided_from_files();  // the forged image, were it used, would print the canary
}

TEST_F(CompiledPolicy, StaleImageIsIgnored) {
    write_forged_image();
    write(policy_, text_ + "# edited after --compile\n", 0644);
    expect_decided_from_files();
}

TEST_F(CompiledPolicy, ForeignOwnedImageIsIgnored) {
    write_forged_image();
    ASSERT_EQ(::chown(image_.c_str(), 65534, 65534), 0);
    expect_decided_from_files();
}

TEST_F(CompiledPolicy, GroupOrWorldWritableImageIsIgnored) {
    write_forged_image();
    for (const mode_t mode : {0664U, 0646U}) {
        ASSERT_EQ(::chmod(image_.c_str(), mode), 0);
        expect_decided_from_files();
    }
}

TEST_F(CompiledPolicy, ImageInADirectoryOthersCanWriteIsIgnored) {
    // The policy itself lives in a trusted directory; the image of a policy reached through a
    // directory others can write would be replaceable. Here the whole directory is opened up and
    // the policy moves with it, so the files are refused too: nothing runs, and not because of the
    // image (the same error as without one).
    write_forged_image();
    ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
    auto r = run_soc(policy_, secret_request_);
    ::chmod(dir_.c_str(), 0755);
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("writable by group or other"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
}

TEST_F(CompiledPolicy, TamperedImageIsIgnored) {
    write_forged_image();
    std::string bytes = read_image();
    const size_t at = bytes.find("print");  // cat's description, in its command's blob
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 'P';
    std::ofstream(image_, std::ios::binary | std::ios::trunc) << bytes;
    expect_decided_from_files();
}

TEST_F(CompiledPolicy, TruncatedImageIsIgnored) {
    write_forged_image();
    const std::string bytes = read_image();
    for (const size_t keep : {size_t{0}, size_t{7}, size_t{60}, bytes.size() / 2, bytes.size() - 1}) {
        std::ofstream(image_, std::ios::binary | std::ios::trunc) << bytes.substr(0, keep);
        expect_decided_from_files();
    }
}

TEST_F(CompiledPolicy, ADirectoryWhereTheImageShouldBeIsIgnored) {
    ASSERT_EQ(::mkdir(image_.c_str(), 0755), 0);
    expect_decided_from_files();
}

// `cd /etc/diag-wrapper && diag-wrapper --policy policy.toml --compile` would write an image keyed
// by "policy.toml", which no request (sshd's ForceCommand names the absolute path) ever uses.
TEST_F(CompiledPolicy, CompileOfARelativePathIsRefusedAndWritesNothing) {
    auto r =
        run_process({"/bin/sh", "-c", "cd \"$0\" && exec \"$1\" --policy policy.toml --compile", dir_, wrapper_bin()},
                    {"PATH=/usr/bin:/bin"});
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err,
              "diag-wrapper: error: --compile: the policy path 'policy.toml' is relative, and the image is keyed by "
              "the policy path requests use (sshd's ForceCommand names it absolute): give that absolute path; nothing "
              "was written\n");
    auto dotted = run_args({"--policy", dir_ + "/./policy.toml", "--compile"});
    EXPECT_EQ(dotted.exit_code, 125) << dotted.err;
    EXPECT_NE(dotted.err.find("'.', '..' or empty component"), std::string::npos) << dotted.err;
    struct stat st {};
    EXPECT_NE(::lstat(image_.c_str(), &st), 0);
    EXPECT_NE(::lstat((image_ + ".new").c_str(), &st), 0);
    // Requests read the files, as without any --compile.
    EXPECT_EQ(check_line(), "compiled image: absent: " + image_ + "; requests parse the policy's files");
}

// --check says whether requests use the image; an image problem is not a policy error (requests
// read the files), so --check still exits 0.
TEST_F(CompiledPolicy, CheckSaysCurrentAfterCompile) {
    auto c = run_args({"--policy", policy_, "--compile"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(check_line(), "compiled image: current: " + image_ + " (requests use it)");
}

TEST_F(CompiledPolicy, CheckSaysStaleAfterThePolicyChanges) {
    auto c = run_args({"--policy", policy_, "--compile"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    write(policy_, text_ + "# edited after --compile\n", 0644);
    EXPECT_EQ(check_line(), "compiled image: not used: " + image_ +
                                ": stale: the policy's files changed since it was compiled; requests parse the "
                                "policy's files");
}

TEST_F(CompiledPolicy, CheckSaysAbsentWithoutAnImage) {
    EXPECT_EQ(check_line(), "compiled image: absent: " + image_ + "; requests parse the policy's files");
}

TEST_F(CompiledPolicy, CheckSaysAnImageOfAnotherBuildIsNotUsed) {
    auto p = policy_loader::load(policy_);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    write(image_, compiled::encode(*p, "other"), 0644);
    EXPECT_EQ(check_line(), "compiled image: not used: " + image_ +
                                ": written by another build of the wrapper; requests parse the policy's files");
}

TEST_F(CompiledPolicy, CheckSaysAnImageNotRootOwnedIsNotUsed) {
    auto c = run_args({"--policy", policy_, "--compile"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(::chown(image_.c_str(), 65534, 65534), 0);
    EXPECT_EQ(check_line(), "compiled image: not used: " + image_ +
                                ": not owned by uid 0 (owner is 65534); requests parse the policy's files");
}

// The deny-list snapshot (adr/0027): --compile takes it as the policy's account and a request of
// that account uses it; a secret that appears in a watched directory after the compile makes it
// stale, and that request builds the list and is refused. The watched tree is not below /tmp,
// which other tests change all the time (every directory a deny entry walks through is a
// witness); root's groups must be exactly its primary group, as the snapshot records them.
class DenySnapshotThroughTheWrapper : public CompiledPolicy {
  protected:
    void SetUp() override {
        CompiledPolicy::SetUp();
        if (IsSkipped()) {
            return;
        }
        if (::getgid() != 0 || ::getgroups(0, nullptr) > 1) {
            GTEST_SKIP() << "root here has supplementary groups; the snapshot is taken with root's groups from "
                            "/etc/group";
        }
        char tmpl[] = "/var/lib/diag-snapshot-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
        watched_ = tmpl;
        ::chmod(watched_.c_str(), 0755);
        std::filesystem::create_directories(watched_ + "/homes/bob");
        write(watched_ + "/homes/bob/notes.txt", "notes\n", 0644);
        std::string text = policy(
            "[command.cat]\nmatch = [\"cat\"]\ndescription = \"print\"\n"
            "[[command.cat.positional]]\ntype = \"path\"\nmax = 4\n",
            ", \"" + watched_ + "/homes/*/.ssh\"");
        text.replace(text.find("[settings]\n"), 11, "[settings]\naccount = \"root\"\n");
        const std::string own = "\"" + dir_ + "/secret\", ";  // below /tmp: never settled
        text.erase(text.find(own), own.size());
        write(audit_, "", 0600);
        policy_ = write_policy(text);
        image_ = policy_ + ".compiled";
    }

    void TearDown() override {
        if (!watched_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(watched_, ec);
        }
        CompiledPolicy::TearDown();
    }

    std::string last_deny_list() const {
        const auto recs = audit_records();
        for (auto it = recs.rbegin(); it != recs.rend(); ++it) {
            if ((*it)["event"]["action"] == "decision") {
                return (*it)["diag"].value("deny_list", "");
            }
        }
        return "";
    }

    std::string watched_;
};

TEST_F(DenySnapshotThroughTheWrapper, ANewSecretInAWatchedDirectoryIsDenied) {
    // A witness another process changed during the compile (a package installed by a test
    // running beside this one changes /etc) leaves no snapshot: compiled again, a few times.
    RunResult c;
    for (int attempt = 0; attempt < 4; ++attempt) {
        c = run_args({"--policy", policy_, "--compile"});
        ASSERT_EQ(c.exit_code, 0) << c.err;
        if (c.out.find("unsettled") == std::string::npos) {
            break;
        }
    }
    if (c.out.find("unsettled") != std::string::npos) {
        GTEST_SKIP() << "a witness outside the test's tree kept changing: " << c.out;
    }
    EXPECT_EQ(c.out.find("no deny-list snapshot"), std::string::npos) << c.out;
    auto check = run_args({"--policy", policy_, "--check"});
    EXPECT_NE(check.out.find("deny-list snapshot: taken for uid 0"), std::string::npos) << check.out;
    auto r = run_soc(policy_, "cat " + watched_ + "/homes/bob/notes.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(last_deny_list(), "snapshot");
    // The positive control above used the snapshot; now bob gets a key the snapshot never saw.
    std::filesystem::create_directories(watched_ + "/homes/bob/.ssh");
    write(watched_ + "/homes/bob/.ssh/id_ed25519", canary_ + "\n", 0644);
    EXPECT_DENIED(run_soc(policy_, "cat " + watched_ + "/homes/bob/.ssh/id_ed25519"), "path-denied");
    EXPECT_EQ(last_deny_list(), "built");
}

// A compile without settings.account takes no snapshot and says so; requests build the list.
TEST_F(CompiledPolicy, CompileWithoutAnAccountTakesNoSnapshot) {
    auto c = run_args({"--policy", policy_, "--compile"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_NE(c.out.find("note: no deny-list snapshot (settings.account is not set)"), std::string::npos) << c.out;
    EXPECT_EQ(run_soc(policy_, "cat " + dir_ + "/pub/readme.txt").exit_code, 0);
    const auto recs = audit_records();
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs.front()["diag"].value("deny_list", ""), "built");
}

}  // namespace
}  // namespace diag::testing
