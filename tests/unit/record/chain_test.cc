// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/chain.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers/privilege.h"
#include "wrapper/base/deadline.h"
#include "wrapper/record/schema.h"

namespace diag::audit_chain {
namespace {

const std::string kId = "01a249be-7008-7a42-aecb-69ad8d3da2eb";
const std::string kHead(64, 'a');

TEST(AuditChain, StateRoundTrips) {
    State s{kId, 12, kHead, 10, 1796533547};
    auto back = parse_state(format_state(s), "t");
    ASSERT_TRUE(back.ok()) << back.error().msg;
    EXPECT_EQ(back->id, kId);
    EXPECT_EQ(back->seq, 12u);
    EXPECT_EQ(back->head, kHead);
    EXPECT_EQ(back->checkpoint_seq, 10u);
    EXPECT_EQ(back->checkpoint_time, 1796533547);
}

TEST(AuditChain, CorruptStateIsRefused) {
    const std::string good = std::string(kStateMagic) + " " + kId + " 12 " + kHead + " 10 5\n";
    ASSERT_TRUE(parse_state(good, "t").ok());
    const std::string cases[] = {
        "",                                                                // empty is first use, never parsed
        good.substr(0, good.size() - 1),                                   // torn: no newline
        good + good,                                                       // two lines
        "diag-wrapper.chain/2 " + kId + " 12 " + kHead + " 10 5\n",        // unknown version
        std::string(kStateMagic) + " " + kId + " 12 " + kHead + " 10\n",   // a field missing
        std::string(kStateMagic) + " nope 12 " + kHead + " 10 5\n",        // bad id
        std::string(kStateMagic) + " " + kId + " -1 " + kHead + " 0 5\n",  // negative seq
        std::string(kStateMagic) + " " + kId + " 12 " + std::string(63, 'a') + " 10 5\n",  // short head
        std::string(kStateMagic) + " " + kId + " 12 " + std::string(64, 'A') + " 10 5\n",  // upper-case hex
        std::string(kStateMagic) + " " + kId + " 12 " + kHead + " 13 5\n",                 // checkpoint after the head
    };
    for (const auto& text : cases) {
        auto s = parse_state(text, "/var/lib/diag-wrapper/chain");
        ASSERT_FALSE(s.ok()) << text;
        EXPECT_EQ(s.error().code, ErrorCode::kAudit);
        EXPECT_NE(s.error().msg.find("/var/lib/diag-wrapper/chain is corrupt"), std::string::npos) << s.error().msg;
    }
}

TEST(AuditChain, GenesisStartsFromTheZeroHash) {
    const State s = genesis(kId, 100);
    EXPECT_EQ(s.seq, 0u);
    EXPECT_EQ(s.head, audit_schema::kGenesisPrev);
    EXPECT_FALSE(checkpoint_due(s, 100 + kCheckpointMaxAgeSeconds));  // nothing to seal yet
}

TEST(AuditChain, CheckpointIsDueByCountOrAge) {
    State s = genesis(kId, 1000);
    s.seq = kCheckpointEvery - 1;
    EXPECT_FALSE(checkpoint_due(s, 1000));
    s.seq = kCheckpointEvery;
    EXPECT_TRUE(checkpoint_due(s, 1000));
    s.checkpoint_seq = s.seq;  // the checkpoint itself was the last record
    EXPECT_FALSE(checkpoint_due(s, 1000 + kCheckpointMaxAgeSeconds));
    s.seq += 1;
    EXPECT_FALSE(checkpoint_due(s, 1000 + kCheckpointMaxAgeSeconds - 1));
    EXPECT_TRUE(checkpoint_due(s, 1000 + kCheckpointMaxAgeSeconds));
}

// The state file in a directory of our own: Locked::open checks the owner of every directory
// above it, which only works where that chain is ours.
class ChainFile : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/diagchain.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0755);
        path_ = dir_ + "/chain";
        if (!test::owned_chain(dir_, ::getuid())) {
            GTEST_SKIP() << "the directories above " << dir_ << " are not all owned by uid " << ::getuid()
                         << " (the state file's trust check needs that)";
        }
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    void put(const std::string& text, mode_t mode) {
        std::ofstream(path_, std::ios::trunc) << text;
        ::chmod(path_.c_str(), mode);
    }
    std::string dir_;
    std::string path_;
};

TEST_F(ChainFile, EmptyFileStartsAChainAndStoreKeepsIt) {
    put("", 0660);
    {
        auto l = Locked::open(path_, kId, ::getuid());
        ASSERT_TRUE(l.ok()) << l.error().msg;
        EXPECT_EQ(l->state().seq, 0u);
        EXPECT_EQ(l->state().id, kId);
        State s = l->state();
        s.seq = 7;
        s.head = kHead;
        ASSERT_TRUE(l->store(s).ok());
    }
    auto again = Locked::open(path_, "ignored", ::getuid());
    ASSERT_TRUE(again.ok()) << again.error().msg;
    EXPECT_EQ(again->state().seq, 7u);
    EXPECT_EQ(again->state().id, kId);
    EXPECT_EQ(again->state().head, kHead);
}

TEST_F(ChainFile, MissingCorruptOrUntrustedStateFailsClosed) {
    auto missing = Locked::open(path_, kId, ::getuid());
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().msg.find("chain state open(" + path_ + ")"), std::string::npos) << missing.error().msg;
    put("garbage\n", 0660);
    auto corrupt = Locked::open(path_, kId, ::getuid());
    ASSERT_FALSE(corrupt.ok());
    EXPECT_NE(corrupt.error().msg.find("is corrupt"), std::string::npos) << corrupt.error().msg;
    put("", 0666);
    auto open = Locked::open(path_, kId, ::getuid());
    ASSERT_FALSE(open.ok());
    EXPECT_NE(open.error().msg.find("not writable by others"), std::string::npos) << open.error().msg;
    put("", 0660);
    auto other = Locked::open(path_, kId, ::getuid() + 4242);  // owned by someone else
    ASSERT_FALSE(other.ok());
}

TEST_F(ChainFile, LockIsHeldUntilReleased) {
    put("", 0660);
    auto first = Locked::open(path_, kId, ::getuid());
    ASSERT_TRUE(first.ok()) << first.error().msg;
    // flock locks belong to the open file description: a second open waits, then gives up
    // (after the shortest wait: a decision deadline that has passed).
    deadline::start(0);
    auto second = Locked::open(path_, kId, ::getuid());
    deadline::clear();
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().msg.find("not obtained within"), std::string::npos) << second.error().msg;
}

}  // namespace
}  // namespace diag::audit_chain
