// SPDX-License-Identifier: Apache-2.0
// The compiled policy image: it gives back the policy it was made from, decodes only the rules a
// request names, and any image that is not exactly what root compiled from the files as they
// are now (stale, truncated, altered, writable by others, not a regular file) is refused.
#include "wrapper/policy/compiled.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/helpers/privilege.h"
#include "tests/unit/policy/policy_text.h"
#include "tests/unit/policy/shipped_policy.h"
#include "wrapper/policy/help.h"

namespace diag::compiled {
namespace {

using policy_loader::test::test_opts;

const std::string kTwoRules = R"(version = 1
[settings]
search_path = ["/usr/bin", "/bin"]
include = []
[audit]
sinks = ["file"]
file = "/tmp/audit.jsonl"
[deny]
paths = ["/etc/shadow*"]
[command.cat]
match = ["cat"]
description = "Print files"
[[command.cat.positional]]
type = "path"
roots = ["/var/log"]
[command.grep]
match = ["grep"]
description = "Search"
[[command.grep.option]]
names = ["-e"]
type = "regex"
pattern = "[a-z]{1,8}"
[[command.grep.positional]]
type = "string"
)";

Result<Loaded> decode_all_rules(std::string_view bytes) {
    DIAG_TRY_ASSIGN(Image img, parse(bytes));
    return commands(std::move(img), nullptr);
}

TEST(CompiledImage, GivesBackThePolicyItWasMadeFrom) {
    const policy::Policy& p = policy_loader::test::shipped();
    const std::string bytes = encode(p);
    auto back = decode_all_rules(bytes);
    ASSERT_TRUE(back.ok()) << back.error().describe();
    EXPECT_TRUE(back->all);
    EXPECT_EQ(back->policy.sha256, p.sha256);
    EXPECT_EQ(back->policy.search_path, p.search_path);
    EXPECT_EQ(back->policy.deny_written.size(), p.deny_written.size());
    EXPECT_EQ(back->policy.audit.file, p.audit.file);
    EXPECT_EQ(back->policy.account, p.account);
    // Every rule, option, type, limit, pattern and destination, as the listing shows them all.
    EXPECT_EQ(help::json(back->policy, ""), help::json(p, ""));
    // And byte for byte: nothing of the model is lost on the way.
    EXPECT_EQ(encode(back->policy), bytes);
    // And field by field (the model's operator== is defaulted, so a field added to the model and
    // forgotten by the codec fails here).
    EXPECT_TRUE(back->policy.audit == p.audit);
    EXPECT_TRUE(back->policy.deny_written == p.deny_written);
    ASSERT_EQ(back->policy.commands.size(), p.commands.size());
    for (size_t i = 0; i < p.commands.size(); ++i) {
        policy::Command loaded = p.commands[i];
        loaded.exe_path.clear();  // pinned on this host, not part of the image
        loaded.exe_dev = 0;
        loaded.exe_ino = 0;
        loaded.unavailable.clear();
        EXPECT_TRUE(back->policy.commands[i] == loaded) << loaded.id;
    }
}

TEST(CompiledImage, DecodesOnlyTheRulesTheWordsName) {
    const policy::Policy& p = policy_loader::test::shipped();
    const std::string bytes = encode(p);  // parse() keeps views into it: it must outlive img
    auto img = parse(bytes);
    ASSERT_TRUE(img.ok());
    const std::vector<std::string> words = {"cat", "grep"};
    auto some = commands(std::move(*img), &words);
    ASSERT_TRUE(some.ok()) << some.error().describe();
    EXPECT_FALSE(some->all);
    size_t expected = 0;
    for (const auto& c : p.commands) {
        expected += policy::word_matches(c.match[0], "cat") || policy::word_matches(c.match[0], "grep") ? 1U : 0U;
    }
    ASSERT_GT(expected, 2u);  // grep has a file rule and a filter rule
    ASSERT_EQ(some->policy.commands.size(), expected);
    for (const auto& c : some->policy.commands) {
        EXPECT_TRUE(c.match[0] == std::vector<std::string>{"cat"} || c.match[0] == std::vector<std::string>{"grep"})
            << c.id;
    }
}

// Every prefix of an image and every single-byte change of it is refused: the format's lengths
// are checked and every byte is under a digest (the head's, or its command's).
TEST(CompiledImage, TruncatedOrAlteredAnywhereIsRefused) {
    auto p = policy_loader::load_from_string(kTwoRules, "t.toml", test_opts());
    ASSERT_TRUE(p.ok()) << p.error().describe();
    const std::string bytes = encode(*p);
    ASSERT_TRUE(decode_all_rules(bytes).ok());
    for (size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_FALSE(decode_all_rules(bytes.substr(0, n)).ok()) << "prefix of " << n << " bytes";
        std::string altered = bytes;
        altered[n] = static_cast<char>(altered[n] ^ 0x20);
        EXPECT_FALSE(decode_all_rules(altered).ok()) << "byte " << n << " changed";
    }
    EXPECT_FALSE(decode_all_rules(bytes + "x").ok());
}

TEST(CompiledImage, AnotherFormatVersionIsRefused) {
    auto p = policy_loader::load_from_string(kTwoRules, "t.toml", test_opts());
    ASSERT_TRUE(p.ok());
    std::string bytes = encode(*p);
    // The version follows the 8-byte magic: the one before this build's (an image written before
    // a field was added to the model) and the one after.
    for (const uint64_t other : {kFormatVersion - 1, kFormatVersion + 1}) {
        bytes[8] = static_cast<char>(other);
        auto r = parse(bytes);
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().msg.find("format version " + std::to_string(other)), std::string::npos) << r.error().msg;
    }
}

// Files on disk: an image compiled from the policy's files is used only while they are unchanged
// and it is owned and protected like the policy.
class CompiledFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diagcompiled.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        policy_ = dir_ + "/policy.toml";
        ::chmod(dir_.c_str(), 0755);
        DIAG_SKIP_UNLESS_OWNED_CHAIN(dir_, ::getuid());
        std::filesystem::create_directories(dir_ + "/policy.d");
        ::chmod((dir_ + "/policy.d").c_str(), 0755);
        text_ = kTwoRules;
        text_.replace(text_.find("include = []"), 12, "include = [\"" + dir_ + "/policy.d\"]");
        write(policy_, text_);
        auto p = policy_loader::load(policy_, test_opts());
        ASSERT_TRUE(p.ok()) << p.error().describe();
        auto written = compiled::write(*p, policy_, now_ns(), test_opts());
        ASSERT_TRUE(written.ok()) << written.error().describe();
        image_ = *written;
        ASSERT_TRUE(load(policy_, nullptr, test_opts()).ok());
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    static void write(const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
        ::chmod(path.c_str(), 0644);
    }
    // The reason the image is not used, or "" when it is.
    std::string refusal() {
        auto r = load(policy_, nullptr, test_opts());
        return r.ok() ? "" : r.error().msg;
    }
    std::string dir_;
    std::string policy_;
    std::string text_;
    std::string image_;
};

TEST_F(CompiledFiles, ImageLivesBesideThePolicy) { EXPECT_EQ(image_, policy_ + ".compiled"); }

TEST_F(CompiledFiles, StaleAfterTheMainFileChanges) {
    write(policy_, text_ + "\n# one more comment\n");
    EXPECT_NE(refusal().find("stale"), std::string::npos) << refusal();
    write(policy_, text_);
    EXPECT_EQ(refusal(), "");
}

TEST_F(CompiledFiles, StaleAfterADropInAppearsOrChanges) {
    write(dir_ + "/policy.d/extra.toml", "version = 1\n[deny]\npaths = [\"/srv/secret\"]\n");
    EXPECT_NE(refusal().find("stale"), std::string::npos) << refusal();
    auto p = policy_loader::load(policy_, test_opts());
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(compiled::write(*p, policy_, now_ns(), test_opts()).ok());
    EXPECT_EQ(refusal(), "");
    write(dir_ + "/policy.d/extra.toml", "version = 1\n[deny]\npaths = [\"/srv/other\"]\n");
    EXPECT_NE(refusal().find("stale"), std::string::npos) << refusal();
}

TEST_F(CompiledFiles, GroupOrWorldWritableImageIsRefused) {
    for (const mode_t mode : {0664U, 0646U, 0666U}) {
        ASSERT_EQ(::chmod(image_.c_str(), mode), 0);
        EXPECT_NE(refusal().find("writable by group or other"), std::string::npos) << std::oct << mode;
    }
    ASSERT_EQ(::chmod(image_.c_str(), 0644), 0);
    EXPECT_EQ(refusal(), "");
}

TEST_F(CompiledFiles, ForeignOwnedImageIsRefused) {
    DIAG_SKIP_UNLESS_CHOWN(image_);
    ASSERT_EQ(::chown(image_.c_str(), ::getuid() + 4242, ::getgid()), 0);
    EXPECT_NE(refusal().find("not owned by uid"), std::string::npos) << refusal();
}

TEST_F(CompiledFiles, SymlinkOrDirectoryInsteadOfTheImageIsRefused) {
    const std::string real = dir_ + "/elsewhere.compiled";
    ASSERT_EQ(::rename(image_.c_str(), real.c_str()), 0);
    ASSERT_EQ(::symlink(real.c_str(), image_.c_str()), 0);
    EXPECT_NE(refusal(), "");
    ASSERT_EQ(::unlink(image_.c_str()), 0);
    ASSERT_EQ(::mkdir(image_.c_str(), 0755), 0);
    EXPECT_NE(refusal(), "");
}

TEST_F(CompiledFiles, TruncatedOrTamperedFileIsRefused) {
    std::string bytes;
    {
        std::ifstream in(image_, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    write(image_, bytes.substr(0, bytes.size() - 1));
    EXPECT_NE(refusal().find("compiled policy"), std::string::npos) << refusal();
    std::string tampered = bytes;
    const size_t at = tampered.find("/var/log");  // a root of cat's path argument, in its blob
    ASSERT_NE(at, std::string::npos);
    tampered.replace(at, 8, "/var/lib");
    write(image_, tampered);
    EXPECT_NE(refusal().find("digest"), std::string::npos) << refusal();
    write(image_, bytes);
    EXPECT_EQ(refusal(), "");
}

// An upgrade whose loader refuses more (a check added, a default tightened) must not go on using
// the image its predecessor wrote from the same, unchanged files: the key alone cannot tell.
TEST_F(CompiledFiles, ImageOfAnotherBuildIsRefused) {
    ASSERT_FALSE(build_id().empty()) << "the wrapper is linked without a GNU build ID: no image is ever used";
    auto p = policy_loader::load(policy_, test_opts());
    ASSERT_TRUE(p.ok());
    write(image_, encode(*p, "an older wrapper"));
    EXPECT_NE(refusal().find("another build"), std::string::npos) << refusal();
    write(image_, encode(*p, ""));
    EXPECT_NE(refusal().find("another build"), std::string::npos) << refusal();
    write(image_, encode(*p));
    EXPECT_EQ(refusal(), "");
}

TEST_F(CompiledFiles, MissingImageIsRefusedNotFatal) {
    ASSERT_EQ(::unlink(image_.c_str()), 0);
    EXPECT_NE(refusal(), "");
}

// --check's line (state()): what a request does with the image, and when it does not use it,
// why and that requests parse the files.
TEST_F(CompiledFiles, StateIsCurrentWhileRequestsUseIt) {
    EXPECT_EQ(state(policy_, test_opts()), "compiled image: current: " + image_ + " (requests use it)");
}

TEST_F(CompiledFiles, StateIsAbsentWithoutAnImage) {
    ASSERT_EQ(::unlink(image_.c_str()), 0);
    EXPECT_EQ(state(policy_, test_opts()), "compiled image: absent: " + image_ + "; requests parse the policy's files");
}

TEST_F(CompiledFiles, StateSaysStaleAfterThePolicyChanges) {
    write(policy_, text_ + "# one more comment\n");
    EXPECT_EQ(state(policy_, test_opts()), "compiled image: not used: " + image_ +
                                               ": stale: the policy's files changed since it was compiled; requests "
                                               "parse the policy's files");
}

TEST_F(CompiledFiles, StateSaysAnotherBuildWroteIt) {
    auto p = policy_loader::load(policy_, test_opts());
    ASSERT_TRUE(p.ok());
    write(image_, encode(*p, "other"));
    EXPECT_EQ(state(policy_, test_opts()), "compiled image: not used: " + image_ +
                                               ": written by another build of the wrapper; requests parse the "
                                               "policy's files");
}

TEST_F(CompiledFiles, StateSaysWhoMayWriteIt) {
    ASSERT_EQ(::chmod(image_.c_str(), 0646), 0);
    EXPECT_EQ(state(policy_, test_opts()), "compiled image: not used: " + image_ +
                                               ": writable by group or other; requests parse the policy's files");
}

TEST_F(CompiledFiles, StateSaysWhoOwnsIt) {
    DIAG_SKIP_UNLESS_CHOWN(image_);
    ASSERT_EQ(::chown(image_.c_str(), ::getuid() + 4242, ::getgid()), 0);
    const std::string line = state(policy_, test_opts());
    EXPECT_EQ(line.rfind("compiled image: not used: " + image_ + ": not owned by uid " + std::to_string(::getuid()), 0),
              0u)
        << line;
    EXPECT_TRUE(line.ends_with("; requests parse the policy's files")) << line;
}

TEST_F(CompiledFiles, StateSaysAMalformedImageIsNotUsed) {
    std::string bytes;
    {
        std::ifstream in(image_, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[60] ^= 1;  // in the head
    write(image_, bytes);
    EXPECT_EQ(state(policy_, test_opts()), "compiled image: not used: " + image_ +
                                               ": head does not match its digest; requests parse the policy's files");
}

// A relative path keys an image no request uses (requests name the policy by its absolute path):
// --check does not call such an image current, and --compile refuses to write one.
TEST_F(CompiledFiles, StateOfARelativePathIsNotChecked) {
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir_);
    const std::string line = state("policy.toml", test_opts());
    std::filesystem::current_path(cwd);
    EXPECT_EQ(line.rfind("compiled image: not checked: the policy path 'policy.toml' is relative", 0), 0u) << line;
}

// adr/0026: an image whose sources are unchanged and settled is used without reading them; any
// change to a file's bytes or metadata, or to the set of drop-ins, makes the request hash them.
class CompiledIdentities : public CompiledFiles {
  protected:
    void SetUp() override {
        CompiledFiles::SetUp();
        if (IsSkipped()) {
            return;
        }
        write(dir_ + "/policy.d/a.toml", "version = 1\n[deny]\npaths = [\"/srv/a\"]\n");
        recompile(kLater);
    }
    // A compile that "started" `offset_ns` from now: the files' ctimes, just written, are then
    // settled (10 s later) or not (now).
    void recompile(int64_t offset_ns) {
        auto p = policy_loader::load(policy_, test_opts());
        ASSERT_TRUE(p.ok()) << p.error().describe();
        ASSERT_TRUE(compiled::write(*p, policy_, now_ns() + offset_ns, test_opts()).ok());
    }
    // Whether the request's load took the key from the identities; "stale..." when refused.
    std::string how() {
        auto r = load(policy_, nullptr, test_opts());
        if (!r.ok()) {
            return r.error().msg;
        }
        return r->key_by_identity ? "identity" : "hashed";
    }
    // ctime has the kernel's coarse clock: a change must land in a later tick than the compile's.
    static void next_tick() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }
    static constexpr int64_t kLater = 10'000'000'000;
};

TEST_F(CompiledIdentities, SettledUnchangedFilesAreNotRead) {
    EXPECT_EQ(how(), "identity");
    auto img = parse([&] {
        std::ifstream in(image_, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }());
    ASSERT_TRUE(img.ok());
    // The main file, the include directory, its drop-in: in the digest's order.
    ASSERT_EQ(img->stamp.ids.size(), 3U);
    EXPECT_EQ(img->stamp.ids[0].path, policy_);
    EXPECT_EQ(img->stamp.ids[1].path, dir_ + "/policy.d");
    EXPECT_EQ(img->stamp.ids[2].path, dir_ + "/policy.d/a.toml");
}

TEST_F(CompiledIdentities, FilesWrittenJustBeforeTheCompileAreHashed) {
    recompile(0);
    EXPECT_EQ(how(), "hashed");
}

TEST_F(CompiledIdentities, SameSizeEditWithItsMtimeRestoredIsHashedAndStale) {
    struct stat before {};
    ASSERT_EQ(::stat(policy_.c_str(), &before), 0);
    next_tick();
    std::string edited = text_;
    edited[edited.find("Print files")] = 'p';  // same size
    write(policy_, edited);
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, policy_.c_str(), times, 0), 0);
    struct stat after {};
    ASSERT_EQ(::stat(policy_.c_str(), &after), 0);
    ASSERT_EQ(after.st_size, before.st_size);
    ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    EXPECT_NE(how().find("stale"), std::string::npos) << how();
    // Bytes back, metadata not: hashed, and current.
    write(policy_, text_);
    EXPECT_EQ(how(), "hashed");
}

TEST_F(CompiledIdentities, ChmodBackAndForthIsHashed) {
    next_tick();
    ASSERT_EQ(::chmod(policy_.c_str(), 0600), 0);
    ASSERT_EQ(::chmod(policy_.c_str(), 0644), 0);
    EXPECT_EQ(how(), "hashed");
}

TEST_F(CompiledIdentities, FileReplacedByRenameIsHashed) {
    const std::string tmp = dir_ + "/policy.d/a.toml.new";
    {
        std::ifstream in(dir_ + "/policy.d/a.toml", std::ios::binary);
        write(tmp, std::string(std::istreambuf_iterator<char>(in), {}));
    }
    ASSERT_EQ(::rename(tmp.c_str(), (dir_ + "/policy.d/a.toml").c_str()), 0);
    EXPECT_EQ(how(), "hashed");
    // Of the main file too, same bytes: a new inode.
    write(policy_ + ".new", text_);
    ASSERT_EQ(::rename((policy_ + ".new").c_str(), policy_.c_str()), 0);
    EXPECT_EQ(how(), "hashed");
}

TEST_F(CompiledIdentities, DropInAddedOrRemovedIsHashedAndStale) {
    write(dir_ + "/policy.d/b.toml", "version = 1\n");
    EXPECT_NE(how().find("stale"), std::string::npos) << how();
    ASSERT_EQ(::unlink((dir_ + "/policy.d/b.toml").c_str()), 0);
    ASSERT_EQ(::unlink((dir_ + "/policy.d/a.toml").c_str()), 0);
    EXPECT_NE(how().find("stale"), std::string::npos) << how();
}

// Review: a recorded start near INT64_MIN (a hand-made or corrupted-then-rehashed head) must not
// wrap `started_ns - settle_ns` (signed overflow) into "settled".
TEST(CompiledStamp, StartBeforeTheEpochMarginIsNeverSettled) {
    const policy_loader::SourceId id{"/p", 1, 2, 3, 0100644, 0, 50'000, 60'000};
    EXPECT_FALSE(identities_current(Stamp{INT64_MIN, {id}}, {id}));
    EXPECT_FALSE(identities_current(Stamp{INT64_MIN + 1'000'000'000, {id}}, {id}));
}

TEST(CompiledStamp, SettledOnlyWithTheMarginAndExactIdentities) {
    Stamp s{100'000, {{"/p", 1, 2, 3, 0100644, 0, 50'000, 60'000}, {"/d", 1, 4, 4096, 040755, 0, 70'000, 80'000}}};
    const auto now = s.ids;
    EXPECT_TRUE(identities_current(s, now, 0));
    EXPECT_TRUE(identities_current(s, now, 20'000));
    EXPECT_FALSE(identities_current(s, now, 20'001));  // /d's ctime within the margin
    EXPECT_FALSE(identities_current(s, now));          // 2 s
    auto other = now;
    other[1].ctime_ns += 1;
    EXPECT_FALSE(identities_current(s, other, 0));
    other = now;
    other[0].path = "/q";
    EXPECT_FALSE(identities_current(s, other, 0));
    EXPECT_FALSE(identities_current(s, {now[1], now[0]}, 0));  // order
    EXPECT_FALSE(identities_current(s, {now[0]}, 0));
    EXPECT_FALSE(identities_current(Stamp{100'000, {}}, {}, 0));  // nothing recorded: hash
}

TEST(CompiledStamp, RoundTripsThroughTheHead) {
    const policy::Policy& p = policy_loader::test::shipped();
    const Stamp s{-5, {{"/etc/diag-wrapper/policy.toml", 1, 2, 3, 0100644, 0, -1, INT64_MIN}}};
    const std::string bytes = encode(p, "build", s);
    auto img = parse(bytes);
    ASSERT_TRUE(img.ok()) << img.error().describe();
    EXPECT_TRUE(img->stamp == s);
    auto all = commands(std::move(*img), nullptr);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(encode(all->policy, "build", s), bytes);
}

TEST(CompiledRequestPath, OnlyAnAbsolutePathWithoutDotsOrEmptyComponentsKeysAnImage) {
    EXPECT_TRUE(check_request_path("/etc/diag-wrapper/policy.toml").ok());
    EXPECT_TRUE(check_request_path(DIAG_DEFAULT_POLICY).ok());
    for (const std::string path : {"policy.toml", "./policy.toml", "etc/diag-wrapper/policy.toml", ""}) {
        auto st = check_request_path(path);
        ASSERT_FALSE(st.ok()) << path;
        EXPECT_EQ(st.error().code, ErrorCode::kUsage);
        EXPECT_NE(st.error().msg.find("is relative"), std::string::npos) << st.error().msg;
        EXPECT_NE(st.error().msg.find("give that absolute path"), std::string::npos) << st.error().msg;
    }
    for (const std::string path : {"/etc/diag-wrapper/./policy.toml", "/etc/x/../diag-wrapper/policy.toml",
                                   "/etc//diag-wrapper/policy.toml", "/etc/diag-wrapper/policy.toml/", "/"}) {
        auto st = check_request_path(path);
        ASSERT_FALSE(st.ok()) << path;
        EXPECT_NE(st.error().msg.find("'.', '..' or empty component"), std::string::npos) << st.error().msg;
    }
}

}  // namespace
}  // namespace diag::compiled
