// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/deny_glob.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace diag::deny_list {
namespace {

namespace fs = std::filesystem;

// FsMemo answers stat(2) from an lstat(2) where it can (deny_glob.cc): every answer must be the
// kernel's, whichever question came first, for every kind of path a deny entry meets. Below /tmp
// (any account may change what is there) it keeps nothing.
class Memo : public ::testing::Test {
  protected:
    // Where the fixture lives: "/tmp" here, a directory only root can change in SettledMemo.
    virtual std::string where() const { return "/tmp"; }
    void SetUp() override {
        if (where().empty()) {
            GTEST_SKIP() << "only root can make a directory no other account can change";
        }
        std::string tmpl = where() + "/diagmemo.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        d_ = fs::canonical(tmpl).string();
        fs::create_directories(d_ + "/dir/sub");
        fs::create_directories(d_ + "/locked/in");
        std::ofstream(d_ + "/file") << "x";
        std::ofstream(d_ + "/locked/in/f") << "x";
        fs::create_symlink(d_ + "/file", d_ + "/to_file");
        fs::create_symlink("dir", d_ + "/to_dir");
        fs::create_symlink(d_ + "/gone", d_ + "/dangling");
        fs::create_symlink("loop", d_ + "/loop");
        fs::create_symlink("locked/in", d_ + "/to_locked");
        ASSERT_EQ(::chmod((d_ + "/locked").c_str(), 0), 0);  // EACCES below it, unless root
    }
    void TearDown() override {
        ::chmod((d_ + "/locked").c_str(), 0755);
        std::error_code ec;
        fs::remove_all(d_, ec);
    }
    std::vector<std::string> paths() const {
        std::vector<std::string> out;
        for (const char* p : {"",
                              "/file",
                              "/dir",
                              "/dir/sub",
                              "/to_file",
                              "/to_dir",
                              "/to_dir/sub",
                              "/dangling",
                              "/dangling/x",
                              "/loop",
                              "/loop/x",
                              "/gone",
                              "/gone/deeper/x",
                              "/file/x",
                              "/file/x/y",
                              "/locked",
                              "/locked/in",
                              "/locked/in/f",
                              "/locked/in/f/x",
                              "/to_locked",
                              "/to_locked/f"}) {
            out.push_back(d_ + p);
        }
        return out;
    }

  public:
    static void expect_kernel(const FsMemo::Look& got, int want_err, const struct stat& want) {
        EXPECT_EQ(got.err, want_err);
        if (want_err == 0) {
            EXPECT_EQ(got.st.st_dev, want.st_dev);
            EXPECT_EQ(got.st.st_ino, want.st_ino);
            EXPECT_EQ(got.st.st_mode, want.st_mode);
            EXPECT_EQ(got.st.st_uid, want.st_uid);
        }
    }

  protected:
    std::string d_;
};

// Below a directory only root can change (here a root-owned 0700 one in /var/lib): what the memo
// keeps for the rest of the build.
class SettledMemo : public Memo {
  protected:
    std::string where() const override { return ::geteuid() == 0 ? "/var/lib" : ""; }
};

void every_answer_is_the_kernels(const std::vector<std::string>& paths);

TEST_F(Memo, EveryAnswerIsTheKernelsWhicheverIsAskedFirst) { every_answer_is_the_kernels(paths()); }

TEST_F(SettledMemo, EveryAnswerIsTheKernelsWhicheverIsAskedFirst) { every_answer_is_the_kernels(paths()); }

void every_answer_is_the_kernels(const std::vector<std::string>& paths) {
    for (const bool lstat_first : {true, false}) {
        FsMemo memo;
        for (const auto& p : paths) {
            SCOPED_TRACE(p + (lstat_first ? " (lstat first)" : " (stat first)"));
            for (int round = 0; round < 2; ++round) {
                const bool ask_lstat = (round == 0) == lstat_first;
                struct stat want {};
                const int rc = ask_lstat ? ::lstat(p.c_str(), &want) : ::stat(p.c_str(), &want);
                const int want_err = rc == 0 ? 0 : errno;
                Memo::expect_kernel(ask_lstat ? memo.lstat(p) : memo.stat(p), want_err, want);
            }
        }
    }
}

// A failed lstat of a directory on the way answers stat below it without asking, with its errno;
// a symlink on the way (dangling here) does not.
TEST_F(SettledMemo, AFailedPrefixAnswersBelowItAndASymlinkDoesNot) {
    FsMemo memo;
    ASSERT_EQ(memo.lstat(d_ + "/gone").err, ENOENT);
    ASSERT_EQ(memo.lstat(d_ + "/file/x").err, ENOTDIR);
    ASSERT_EQ(memo.lstat(d_ + "/dangling").err, 0);
    fs::create_directories(d_ + "/gone/deeper");  // the memo answers as the file system was when asked
    std::ofstream(d_ + "/gone/deeper/x") << "x";
    EXPECT_EQ(memo.stat(d_ + "/gone/deeper/x").err, ENOENT);
    EXPECT_EQ(memo.stat(d_ + "/file/x/y").err, ENOTDIR);
    fs::create_directories(d_ + "/gone2");
    fs::remove(d_ + "/dangling");
    fs::create_symlink(d_ + "/gone2", d_ + "/dangling");
    const FsMemo::Look through = memo.stat(d_ + "/dangling");
    EXPECT_EQ(through.err, 0);
    EXPECT_TRUE(S_ISDIR(through.st.st_mode)) << "a symlink's stat must be asked, not taken from its lstat";
    EXPECT_EQ(FsMemo().stat(d_ + "/gone/deeper/x").err, 0) << "a new memo asks again";
}

// A glob match's lstat is kept when something is there (asked again by the symlink check and the
// canonicalization), not when nothing is: an account could list a million absent names.
TEST_F(SettledMemo, AProbedNameIsKeptOnlyWhenThere) {
    FsMemo memo;
    EXPECT_EQ(memo.probe(d_ + "/later").err, ENOENT);
    EXPECT_EQ(memo.probe(d_ + "/file").err, 0);
    std::ofstream(d_ + "/later") << "x";
    fs::remove(d_ + "/file");
    EXPECT_EQ(memo.probe(d_ + "/later").err, 0) << "an absent name was kept";
    EXPECT_EQ(memo.probe(d_ + "/file").err, 0) << "a match is asked once";
    EXPECT_EQ(memo.lstat(d_ + "/file").err, 0) << "the probe's answer serves lstat";
}

// What the memo says opendir(3) fails with, without asking, is what opendir says.
TEST_F(SettledMemo, AnUnlistableDirectoryIsKnownOnlyAsOpendirWouldFail) {
    FsMemo memo;
    for (const auto& p : paths()) {
        (void)memo.lstat(p);
    }
    size_t known = 0;
    for (const auto& p : paths()) {
        SCOPED_TRACE(p);
        const int said = memo.known_unlistable(p);
        if (said == 0) {
            continue;
        }
        ++known;
        DIR* d = ::opendir(p.c_str());
        const int err = d == nullptr ? errno : 0;
        if (d != nullptr) {
            ::closedir(d);
        }
        EXPECT_EQ(said, err);
    }
    EXPECT_GE(known, 4u);  // at least /gone, /gone/deeper/x, /file/x, /file/x/y
    EXPECT_EQ(FsMemo().known_unlistable(d_ + "/gone"), 0) << "a new memo knows nothing";
}

// The canonical form through the memo is realpath(3)'s for every existing prefix.
TEST_F(Memo, CanonicalFormsFollowSymlinksAndKeepTheMissingRest) {
    FsMemo memo;
    EXPECT_EQ(canonicalize_lenient(d_ + "/to_dir/sub", memo), d_ + "/dir/sub");
    EXPECT_EQ(canonicalize_lenient(d_ + "/to_file", memo), d_ + "/file");
    EXPECT_EQ(canonicalize_lenient(d_ + "/gone/deeper/x", memo), d_ + "/gone/deeper/x");
    EXPECT_EQ(canonicalize_lenient(d_ + "/dangling/x", memo), d_ + "/dangling/x");
    EXPECT_EQ(canonicalize_lenient(d_ + "/loop/x", memo), d_ + "/loop/x");
    EXPECT_EQ(canonicalize_lenient(d_ + "/to_dir/sub", memo), d_ + "/dir/sub") << "asked again, same answer";
    const std::string locked = canonicalize_lenient(d_ + "/to_locked/f", memo);
    EXPECT_EQ(locked, ::geteuid() == 0 ? d_ + "/locked/in/f" : d_ + "/to_locked/f");
}

// Below /tmp another account can swap a name between two questions of one build: each question
// is asked again. Kept, `dir` a directory while /tmp/x/dir/x was canonicalized and a symlink to
// etc when the glob expansion read /tmp/x/dir/shadow made etc/shadow's object "dir/shadow" (what
// the hard-link scan of the denied objects then walks: another account's directory).
TEST_F(Memo, ANameAnotherAccountCanChangeIsAskedAgain) {
    FsMemo memo;
    fs::create_directories(d_ + "/etc");
    std::ofstream(d_ + "/etc/shadow") << "secret";
    ASSERT_EQ(canonicalize_lenient(d_ + "/dir/x", memo), d_ + "/dir/x");
    ASSERT_TRUE(S_ISDIR(memo.lstat(d_ + "/dir").st.st_mode));
    ASSERT_EQ(memo.lstat(d_ + "/gone").err, ENOENT);
    memo.note_unlistable(d_ + "/later", ENOENT);
    fs::rename(d_ + "/dir", d_ + "/dir.was");
    fs::create_symlink(d_ + "/etc", d_ + "/dir");
    fs::create_directories(d_ + "/gone/deeper");
    fs::create_directories(d_ + "/later");
    EXPECT_TRUE(S_ISLNK(memo.lstat(d_ + "/dir").st.st_mode));
    EXPECT_EQ(canonicalize_lenient(d_ + "/dir/shadow", memo), d_ + "/etc/shadow");
    EXPECT_EQ(memo.stat(d_ + "/gone/deeper").err, 0);
    EXPECT_EQ(memo.known_unlistable(d_ + "/later"), 0);
    EXPECT_EQ(memo.probe(d_ + "/file").err, 0);
    fs::remove(d_ + "/file");
    EXPECT_EQ(memo.probe(d_ + "/file").err, ENOENT);
}

}  // namespace
}  // namespace diag::deny_list
