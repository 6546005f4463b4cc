// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/deny_snapshot.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/helpers/privilege.h"
#include "wrapper/base/passwd.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/policy/deny_match.h"

namespace diag::deny_snapshot {
namespace {

namespace fs = std::filesystem;
using deny_list::build_deny;
using deny_list::match_deny;
using Id = std::pair<dev_t, ino_t>;

constexpr int64_t kSettle = 10'000'000;  // 10 ms: ctime ticks with the coarse clock (4-10 ms)

// Longer than a coarse clock tick plus kSettle: what was made before is settled after.
void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }

std::vector<policy::DenyWritten> raw(const std::vector<std::string>& paths) {
    std::vector<policy::DenyWritten> out;
    for (const auto& p : paths) {
        out.push_back(policy::DenyWritten{p, "test:1"});
    }
    return out;
}

int64_t ns(const timespec& t) { return t.tv_sec * 1'000'000'000 + t.tv_nsec; }

Id id_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return {st.st_dev, st.st_ino};
}

// A snapshot restore() took right after it was taken (the control every attack needs), with the
// list it gave; else `why` not.
struct Current {
    Snapshot taken;
    std::string bytes;
    policy::Deny deny;
    std::string why;
};

// Retried: every walk passes /tmp, which other tests change at any time (ctest -j).
Current take_current(const std::vector<policy::DenyWritten>& r) {
    Current c;
    for (int attempt = 0; attempt < 40; ++attempt, settle()) {
        auto s = take(r, kSettle);
        if (!s.ok()) {
            c.why = s.error().msg;
            continue;
        }
        c.taken = *s;
        c.bytes = encode(*s);
        auto d = restore(c.bytes, kSettle);
        if (d.ok()) {
            c.deny = std::move(d).value();
            return c;
        }
        c.why = d.error().msg;
        c.bytes.clear();
    }
    return c;
}

// A fresh temporary tree per test, below /tmp (writable by nobody too).
class DenySnapshot : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = "/tmp/diagsnap.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        d_ = fs::canonical(tmpl).string();
    }
    void TearDown() override {
        for (const auto& p : locked_) {
            (void)::chmod(p.c_str(), 0755);
        }
        std::error_code ec;
        fs::remove_all(d_, ec);
    }
    void put(const std::string& path) { std::ofstream(path) << "secret"; }
    void dirs(const std::vector<std::string>& rel) {
        for (const auto& r : rel) {
            fs::create_directories(d_ + r);
        }
    }
    // A current snapshot of `r`; empty, and a failure unless only what is outside this test's
    // tree (/tmp, the mount table) kept changing, when there is none.
    std::string snap(const std::vector<policy::DenyWritten>& r) {
        settle();
        const Current& c = last_ = take_current(r);
        // A /tmp on a file system whose times are not relied on (adr/0027) is the host's, too.
        const bool noise = c.why.find("not relied on") != std::string::npos ||
                           (c.why.find(d_) == std::string::npos &&
                            (c.why.find(": /") != std::string::npos || c.why.find("mount table") != std::string::npos));
        EXPECT_TRUE(!c.bytes.empty() || noise) << "no snapshot restore() took right away: " << c.why;
        return c.bytes;
    }
    // The recorded witnesses in this test's tree whose lstat(2) differs now: a mutation must
    // show here, whatever else (another test's files in /tmp) restore() also saw change.
    std::vector<std::string> changed_inside(const std::string& bytes) const {
        std::vector<std::string> out;
        auto s = decode(bytes);
        EXPECT_TRUE(s.ok());
        for (const auto& w : s.ok() ? s->witnesses : std::vector<Witness>{}) {
            if (w.path != d_ && w.path.rfind(d_ + "/", 0) != 0) {
                continue;
            }
            struct stat st {};
            const int err = ::lstat(w.path.c_str(), &st) == 0 ? 0 : errno;
            const bool same =
                err == w.err &&
                (err != 0 || (st.st_dev == w.dev && st.st_ino == w.ino && st.st_mode == w.mode && st.st_uid == w.uid &&
                              st.st_gid == w.gid && ns(st.st_mtim) == w.mtime_ns && ns(st.st_ctim) == w.ctime_ns));
            if (!same) {
                out.push_back(w.path);
            }
        }
        return out;
    }
    // After a mutation: restore() refuses, and a witness of this tree shows the change.
    void expect_stale(const std::string& bytes) {
        settle();  // not refused by the settle rule: by what the witnesses say
        auto r = restore(bytes, kSettle);
        EXPECT_FALSE(r.ok()) << "restore() took a stale snapshot";
        EXPECT_TRUE(r.ok() || r.error().code == ErrorCode::kPolicyInvalid);
        EXPECT_FALSE(changed_inside(bytes).empty()) << "no witness in " << d_ << " changed";
    }
    static policy::Deny fresh(const std::vector<policy::DenyWritten>& r) {
        auto d = build_deny(r);
        EXPECT_TRUE(d.ok());
        return d.ok() ? std::move(d).value() : policy::Deny{};
    }
    static policy::Deny recorded(const std::string& bytes) {
        auto s = decode(bytes);
        EXPECT_TRUE(s.ok());
        return s.ok() ? std::move(s->deny) : policy::Deny{};
    }
    std::string d_;
    Current last_;                     // what snap() took
    std::vector<std::string> locked_;  // chmod 0755 before removal
};

// `var` = snap(r); the test ends there, skipped, when /tmp never stood still long enough.
#define SNAP_OR_SKIP(var, r)                                                  \
    const std::string var = snap(r);                                          \
    if ((var).empty()) {                                                      \
        if (!HasFailure()) {                                                  \
            GTEST_SKIP() << "/tmp or the mount table never stood still here"; \
        }                                                                     \
        return;                                                               \
    }

TEST_F(DenySnapshot, RoundTripOfAnUnchangedTreeGivesTheSameList) {
    dirs({"/home/alice/.ssh", "/home/bob"});
    put(d_ + "/home/alice/.ssh/id");
    put(d_ + "/secret");
    const auto r = raw({d_ + "/home/*/.ssh", d_ + "/secret", d_ + "/absent/key"});
    SNAP_OR_SKIP(bytes, r);
    const Snapshot* s = &last_.taken;
    auto back = decode(bytes);
    ASSERT_TRUE(back.ok()) << back.error().msg;
    EXPECT_EQ(back->started_ns, s->started_ns);
    EXPECT_EQ(back->creds, current_creds());
    EXPECT_EQ(back->mounts_sha256, s->mounts_sha256);
    EXPECT_EQ(back->witnesses, s->witnesses);
    EXPECT_EQ(encode(*back), bytes);
    const policy::Deny& want = s->deny;
    const policy::Deny& got = last_.deny;  // restore()'s
    ASSERT_EQ(got.entries.size(), want.entries.size());
    for (size_t i = 0; i < want.entries.size(); ++i) {
        EXPECT_EQ(got.entries[i].pattern, want.entries[i].pattern);
        EXPECT_EQ(got.entries[i].origin, want.entries[i].origin);
        EXPECT_EQ(got.entries[i].kernel_guarded, want.entries[i].kernel_guarded);
    }
    EXPECT_EQ(got.objects, want.objects);
    EXPECT_EQ(got.unexpanded, want.unexpanded);
    EXPECT_EQ(got.mount_points, want.mount_points);
    EXPECT_EQ(got.listings, want.listings);  // the Landlock walk reuses them
    EXPECT_FALSE(got.listings.empty());      // home/ was listed for the glob
    EXPECT_EQ(got.objects.count(id_of(d_ + "/home/alice/.ssh")), 1U);
    for (const std::string& p :
         std::vector<std::string>{d_ + "/home/alice/.ssh/id", d_ + "/home/alice", d_ + "/home/bob/.ssh", d_ + "/secret",
                                  d_ + "/absent/key", d_ + "/public", "/etc/hostname", "/proc/1/environ", "/dev/mem"}) {
        SCOPED_TRACE(p);
        const auto* a = match_deny(want, p);
        const auto* b = match_deny(got, p);
        ASSERT_EQ(a == nullptr, b == nullptr);
        if (a != nullptr) {
            EXPECT_EQ(a->pattern, b->pattern);
        }
    }
}

TEST_F(DenySnapshot, NewGlobMatchMakesItStale) {
    dirs({"/home/alice/.ssh", "/home/bob"});
    const auto r = raw({d_ + "/home/*/.ssh"});
    SNAP_OR_SKIP(bytes, r);
    fs::create_directory(d_ + "/home/bob/.ssh");
    expect_stale(bytes);
    EXPECT_EQ(recorded(bytes).objects.count(id_of(d_ + "/home/bob/.ssh")), 0U);
    EXPECT_EQ(fresh(r).objects.count(id_of(d_ + "/home/bob/.ssh")), 1U);
}

// /home is empty: only its listing makes it a witness.
TEST_F(DenySnapshot, NewUserDirectoryMakesItStale) {
    dirs({"/home"});
    const auto r = raw({d_ + "/home/*/.ssh"});
    SNAP_OR_SKIP(bytes, r);
    fs::create_directories(d_ + "/home/carol/.ssh");
    expect_stale(bytes);
    EXPECT_EQ(recorded(bytes).objects.count(id_of(d_ + "/home/carol/.ssh")), 0U);
    EXPECT_EQ(fresh(r).objects.count(id_of(d_ + "/home/carol/.ssh")), 1U);
}

TEST_F(DenySnapshot, DeniedFileReplacedByRenameMakesItStale) {
    put(d_ + "/secret");
    const auto r = raw({d_ + "/secret"});
    SNAP_OR_SKIP(bytes, r);
    put(d_ + "/secret.new");
    fs::rename(d_ + "/secret.new", d_ + "/secret");
    expect_stale(bytes);
    EXPECT_EQ(recorded(bytes).objects.count(id_of(d_ + "/secret")), 0U);
    EXPECT_EQ(fresh(r).objects.count(id_of(d_ + "/secret")), 1U);
}

TEST_F(DenySnapshot, SymlinkRepointedMakesItStale) {
    dirs({"/a", "/b"});
    put(d_ + "/a/secret");
    put(d_ + "/b/secret");
    fs::create_symlink(d_ + "/a", d_ + "/link");
    const auto r = raw({d_ + "/link/secret"});
    SNAP_OR_SKIP(bytes, r);
    ASSERT_EQ(match_deny(recorded(bytes), d_ + "/b/secret"), nullptr);
    fs::remove(d_ + "/link");
    fs::create_symlink(d_ + "/b", d_ + "/link");
    expect_stale(bytes);
    const auto deny = fresh(r);
    EXPECT_NE(match_deny(deny, d_ + "/b/secret"), nullptr);
    EXPECT_EQ(deny.objects.count(id_of(d_ + "/b/secret")), 1U);
}

TEST_F(DenySnapshot, NewMatchBelowASymlinkedDirectoryMakesItStale) {
    dirs({"/lib", "/srv/svc"});
    fs::create_symlink(d_ + "/srv/svc", d_ + "/lib/svc");
    const auto r = raw({d_ + "/lib/*/.ssh"});
    SNAP_OR_SKIP(bytes, r);
    ASSERT_EQ(match_deny(recorded(bytes), d_ + "/srv/svc/.ssh"), nullptr);
    fs::create_directory(d_ + "/srv/svc/.ssh");
    expect_stale(bytes);
    const auto deny = fresh(r);
    EXPECT_NE(match_deny(deny, d_ + "/srv/svc/.ssh"), nullptr);
    EXPECT_EQ(deny.objects.count(id_of(d_ + "/srv/svc/.ssh")), 1U);
}

// The middle hop sits in a directory only the chain leads to: only following it witnesses it.
TEST_F(DenySnapshot, MiddleHopOfASymlinkChainRepointedMakesItStale) {
    dirs({"/z", "/w", "/hop"});
    put(d_ + "/z/key");
    put(d_ + "/w/key");
    fs::create_symlink(d_ + "/z", d_ + "/hop/y");
    fs::create_symlink(d_ + "/hop/y", d_ + "/x");
    const auto r = raw({d_ + "/x/key"});
    SNAP_OR_SKIP(bytes, r);
    ASSERT_NE(match_deny(recorded(bytes), d_ + "/z/key"), nullptr);
    ASSERT_EQ(match_deny(recorded(bytes), d_ + "/w/key"), nullptr);
    fs::create_symlink(d_ + "/w", d_ + "/hop/y.new");
    fs::rename(d_ + "/hop/y.new", d_ + "/hop/y");
    expect_stale(bytes);
    const auto deny = fresh(r);
    EXPECT_NE(match_deny(deny, d_ + "/w/key"), nullptr);
    EXPECT_EQ(deny.objects.count(id_of(d_ + "/w/key")), 1U);
}

TEST_F(DenySnapshot, ChmodOfAnUnreadableDirectoryMakesItStale) {
    dirs({"/home/alice/.ssh", "/home/dave/.ssh"});
    const Id key = id_of(d_ + "/home/dave/.ssh");
    ASSERT_EQ(::chmod((d_ + "/home/dave").c_str(), 0), 0);
    locked_.push_back(d_ + "/home/dave");
    struct stat st {};
    if (::lstat((d_ + "/home/dave/.ssh").c_str(), &st) == 0) {
        GTEST_SKIP() << "mode 0000 does not stop this process (root or CAP_DAC_OVERRIDE): needs an unprivileged user";
    }
    const auto r = raw({d_ + "/home/*/.ssh"});
    SNAP_OR_SKIP(bytes, r);
    ASSERT_EQ(recorded(bytes).objects.count(key), 0U);
    ASSERT_EQ(::chmod((d_ + "/home/dave").c_str(), 0755), 0);
    expect_stale(bytes);
    EXPECT_EQ(fresh(r).objects.count(key), 1U);
}

TEST_F(DenySnapshot, OwnerChangesThatMakeASymlinkTrustedMakeItStale) {
    dirs({"/home/eve", "/store/ssh"});
    fs::create_symlink(d_ + "/store/ssh", d_ + "/home/eve/.ssh");
    DIAG_SKIP_UNLESS_CHOWN(d_ + "/home/eve/.ssh");
    const std::string link = d_ + "/home/eve/.ssh";
    const std::string target = d_ + "/store/ssh";
    const Id key = id_of(target);
    const auto r = raw({d_ + "/home/*/.ssh"});
    // The link is 4000's, its target 5000's: not trusted, the target is not pinned. Then the
    // link is given to 5000 (lchown), or the target to 4000 (chown): both trust it.
    for (const bool move_link : {true, false}) {
        SCOPED_TRACE(move_link ? "lchown of the symlink" : "chown of its target");
        ASSERT_EQ(::lchown(link.c_str(), 4000, 4000), 0);
        ASSERT_EQ(::chown(target.c_str(), 5000, 5000), 0);
        SNAP_OR_SKIP(bytes, r);
        ASSERT_EQ(recorded(bytes).objects.count(key), 0U);
        ASSERT_EQ(move_link ? ::lchown(link.c_str(), 5000, 5000) : ::chown(target.c_str(), 4000, 4000), 0);
        expect_stale(bytes);
        EXPECT_EQ(fresh(r).objects.count(key), 1U);
    }
}

TEST_F(DenySnapshot, BindMountMakesItStale) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "bind mounts in a new mount namespace need root";
    }
    dirs({"/secret", "/pub/mnt"});
    put(d_ + "/secret/canary");
    const auto r = raw({d_ + "/secret"});
    settle();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // no gtest here: the exit status says what happened
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            ::_exit(77);
        }
        const Current c = take_current(r);
        if (c.bytes.empty()) {
            ::_exit(c.why.find(d_) == std::string::npos ? 78 : 20);
        }
        const std::string* bytes = &c.bytes;
        if (::mount((d_ + "/secret").c_str(), (d_ + "/pub/mnt").c_str(), nullptr, MS_BIND, nullptr) != 0) {
            ::_exit(21);
        }
        settle();
        auto again = restore(*bytes, kSettle);
        if (again.ok() || again.error().msg.find("mount table") == std::string::npos) {
            ::_exit(again.ok() ? 22 : 23);
        }
        auto deny = build_deny(r);
        auto s = decode(*bytes);
        if (!deny.ok() || !s.ok()) {
            ::_exit(24);
        }
        ::_exit(match_deny(*deny, d_ + "/pub/mnt/canary") == nullptr     ? 25
                : match_deny(s->deny, d_ + "/pub/mnt/canary") != nullptr ? 26
                                                                         : 0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the child died: status " << status;
    if (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 78) {
        GTEST_SKIP() << (WEXITSTATUS(status) == 77 ? "unshare(CLONE_NEWNS) or MS_PRIVATE not permitted here"
                                                   : "/tmp never stood still here");
    }
    // 20 no current snapshot, 21 bind mount failed, 22 restore() took it, 23 refused for another
    // reason, 24 no fresh build or decode, 25 a fresh build does not deny the alias, 26 the snapshot did.
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(DenySnapshot, OtherCredentialsAreRefused) {
    put(d_ + "/secret");
    SNAP_OR_SKIP(bytes, raw({d_ + "/secret"}));
    auto s = decode(bytes);
    ASSERT_TRUE(s.ok());
    Snapshot other_uid = *s;
    other_uid.creds.uid += 1;
    Snapshot other_groups = *s;
    other_groups.creds.groups.push_back(other_groups.creds.groups.empty() ? 4242
                                                                          : other_groups.creds.groups.back() + 1);
    for (const Snapshot* o : {&other_uid, &other_groups}) {
        auto r = restore(encode(*o), kSettle);
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().msg.find("taken for uid"), std::string::npos) << r.error().msg;
    }
}

// Every count in an encoding of `s` (encode()'s layout), with its offset: groups, witnesses,
// entries, objects, unexpanded, mount points.
std::vector<std::pair<size_t, uint64_t>> counts(const Snapshot& s) {
    std::vector<std::pair<size_t, uint64_t>> out;
    size_t at = 6 * 8 + 8 + s.creds.lsm.size();  // started, uid, gid, euid, egid, caps, lsm
    const auto count = [&](size_t n) {
        out.emplace_back(at, n);
        at += 8;
    };
    count(s.creds.groups.size());
    at += 8 * s.creds.groups.size() + 8 + s.mounts_sha256.size() + 1;  // + runtime_apart
    count(s.witnesses.size());
    for (const auto& w : s.witnesses) {
        at += 8 + w.path.size() + 8 * 8;
    }
    count(s.deny.entries.size());
    for (const auto& e : s.deny.entries) {
        at += 8 + e.pattern.size() + 8 + e.origin.size() + 1;
    }
    count(s.deny.objects.size());
    for (const auto& o : s.deny.objects) {
        at += 3 * 8 + o.second.size();
    }
    for (const auto* list : {&s.deny.unexpanded, &s.deny.mount_points}) {
        count(list->size());
        for (const auto& u : *list) {
            at += 8 + u.first.size() + 8;
        }
    }
    count(s.deny.listings.size());
    for (const auto& [dir, entries] : s.deny.listings) {
        at += 8 + dir.size();
        count(entries.size());
        for (const auto& e : entries) {
            at += 8 + e.first.size() + 1;
        }
    }
    return out;
}

std::string with_u64(std::string bytes, size_t at, uint64_t v) {
    for (size_t i = 0; i < 8; ++i) {
        bytes[at + i] = static_cast<char>(static_cast<uint8_t>(v >> (8 * i)));
    }
    return bytes;
}

TEST_F(DenySnapshot, MalformedBytesAreRefusedNeverRead) {
    dirs({"/home/alice/.ssh"});
    SNAP_OR_SKIP(bytes, raw({d_ + "/home/*/.ssh", d_ + "/absent"}));
    auto s = decode(bytes);
    ASSERT_TRUE(s.ok());
    for (size_t n = 0; n < bytes.size(); ++n) {
        const std::string_view cut(bytes.data(), n);
        ASSERT_FALSE(decode(cut).ok()) << "truncated to " << n << " of " << bytes.size();
        ASSERT_FALSE(restore(cut, kSettle).ok()) << "truncated to " << n;
    }
    const auto where = counts(*s);
    for (const auto& [at, v] : where) {
        ASSERT_EQ(with_u64(bytes, at, v), bytes) << "not a count at " << at;  // the layout is encode()'s
        for (const uint64_t bad : {v + 1, v - 1, v | (uint64_t{1} << 63), uint64_t{UINT64_MAX}, v + 0x100000000}) {
            SCOPED_TRACE("count at " + std::to_string(at) + " set to " + std::to_string(bad));
            const std::string b = with_u64(bytes, at, bad);
            EXPECT_FALSE(decode(b).ok() && restore(b, kSettle).ok());
        }
    }
    // More witnesses than the bytes left could hold, though fewer than the bytes left.
    const size_t at = where[1].first;
    EXPECT_FALSE(decode(with_u64(bytes, at, (bytes.size() - at - 8) / 72 + 1)).ok());
    // Any single byte flipped: an answer, never a crash.
    for (size_t i = 0; i < bytes.size(); i += 7) {
        std::string f = bytes;
        f[i] = static_cast<char>(f[i] ^ 0x5a);
        (void)restore(f, kSettle);
    }
}

TEST_F(DenySnapshot, WitnessChangedWithinTheSettleTimeIsRefused) {
    dirs({"/home/alice/.ssh"});
    const auto r = raw({d_ + "/home/*/.ssh"});
    settle();
    put(d_ + "/home/new");  // d_/home changes just before
    auto s = take(r, 2'000'000'000);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInternal);
    EXPECT_NE(s.error().msg.find("unsettled"), std::string::npos) << s.error().msg;

    // By hand: a start less than the settle time after the newest witness's ctime.
    SNAP_OR_SKIP(bytes, r);
    auto back = decode(bytes);
    ASSERT_TRUE(back.ok());
    int64_t newest = 0;
    for (const auto& w : back->witnesses) {
        newest = w.err == 0 ? std::max(newest, w.ctime_ns) : newest;
    }
    for (const int64_t after : {int64_t{0}, kSettle / 2, kSettle - 1}) {
        back->started_ns = newest + after;
        auto again = restore(encode(*back), kSettle);
        ASSERT_FALSE(again.ok()) << "started " << after << " ns after the newest ctime";
        EXPECT_NE(again.error().msg.find("not settled"), std::string::npos) << again.error().msg;
    }
    back->started_ns = INT64_MIN;  // start minus the settle time overflows
    EXPECT_FALSE(restore(encode(*back), kSettle).ok());
}

TEST_F(DenySnapshot, TakeAsNeedsAKnownAccountAndRootForAnother) {
    put(d_ + "/secret");
    const auto r = raw({d_ + "/secret"});
    settle();
    EXPECT_FALSE(take_as(r, "", kSettle).ok());
    auto unknown = take_as(r, "diag-no-such-account-7f3a", kSettle);
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().msg.find("no account"), std::string::npos) << unknown.error().msg;
    if (::geteuid() != 0) {
        auto other = take_as(r, "root", kSettle);
        ASSERT_FALSE(other.ok());
        EXPECT_NE(other.error().msg.find("only root"), std::string::npos) << other.error().msg;
        return;
    }
    // Root takes it as nobody; this process (root) must not use nobody's view.
    const auto passwd = sys::read_small_file("/etc/passwd", 1 << 20);
    const auto nobody = passwd ? util::passwd_ids(*passwd, "nobody") : std::nullopt;
    if (!nobody) {
        GTEST_SKIP() << "no account 'nobody' in /etc/passwd";
    }
    auto bytes = take_as(r, "nobody", kSettle);
    for (int attempt = 0; attempt < 10 && !bytes.ok(); ++attempt) {  // /tmp may not settle at once
        bytes = take_as(r, "nobody", kSettle);
    }
    if (!bytes.ok() && bytes.error().msg.find("unsettled: /") != std::string::npos &&
        bytes.error().msg.find(d_) == std::string::npos) {
        GTEST_SKIP() << "/tmp never stood still here: " << bytes.error().msg;
    }
    ASSERT_TRUE(bytes.ok()) << bytes.error().msg;
    auto s = decode(*bytes);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->creds.uid, nobody->first);
    EXPECT_EQ(s->creds.gid, nobody->second);
    auto mine = restore(*bytes, kSettle);
    ASSERT_FALSE(mine.ok());
    EXPECT_NE(mine.error().msg.find("taken for uid"), std::string::npos) << mine.error().msg;
}

// A deny entry that resolves through /proc/self answers for the process that took the snapshot:
// no snapshot is taken (a request resolves it to itself).
TEST_F(DenySnapshot, AnEntryThroughProcSelfIsNeverSnapshotted) {
    dirs({"/etc"});
    ASSERT_EQ(::symlink("/proc/self", (d_ + "/me").c_str()), 0);
    settle();
    auto s = take(raw({d_ + "/me/environ", d_ + "/etc"}), kSettle);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().msg.find("resolves through /proc/"), std::string::npos) << s.error().msg;
}

// A witness on a file system whose directory times are not relied on (ramfs here; NFS, FUSE,
// devpts, an fscrypt directory alike): no snapshot (adr/0027, review finding).
TEST_F(DenySnapshot, AWitnessOnAnUndatedFileSystemIsNeverSnapshotted) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "mounting in a new mount namespace needs root";
    }
    dirs({"/ram"});
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // no gtest here: the exit status says what happened
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("none", (d_ + "/ram").c_str(), "ramfs", 0, nullptr) != 0) {
            ::_exit(77);
        }
        std::ofstream(d_ + "/ram/secret") << "secret";
        settle();
        auto s = take(raw({d_ + "/ram/*"}), kSettle);
        ::_exit(s.ok() ? 1 : s.error().msg.find(d_ + "/ram is on a file system") == std::string::npos ? 2 : 0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the child died: status " << status;
    if (WEXITSTATUS(status) == 77) {
        GTEST_SKIP() << "unshare(CLONE_NEWNS) or a ramfs mount not permitted here";
    }
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: taken; 2: refused for another reason";
}

// An answer that is neither a result nor "absent" or "not for you" (here ENAMETOOLONG; EIO,
// ESTALE, EMFILE alike) is taken as absent by a build, for one request; a snapshot would keep it
// for all of them, so none is taken (review finding).
TEST_F(DenySnapshot, AnOddErrorDuringTheBuildLeavesNoSnapshot) {
    dirs({"/etc"});
    settle();
    auto s = take(raw({d_ + "/etc/" + std::string(300, 'a')}), kSettle);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().msg.find("the build met"), std::string::npos) << s.error().msg;
    EXPECT_TRUE(build_deny(raw({d_ + "/etc/" + std::string(300, 'a')})).ok());  // a request's build goes on
}

// pam_systemd mounts a tmpfs at /run/user/UID for every session: left out of the digest when no
// deny entry or witness reaches there, and only that kind of mount (review finding: otherwise no
// request over SSH would ever find the snapshot current).
TEST(DenySnapshotMountKey, OnlyALoginsRuntimeTmpfsIsLeftOut) {
    const std::string base =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n";
    const std::string runtime = "90 27 0:55 / /run/user/1000 rw,nosuid shared:40 - tmpfs tmpfs rw,size=100k\n";
    EXPECT_EQ(mount_key(base + runtime, true), base);
    EXPECT_EQ(mount_key(base + runtime, false), base + runtime);
    for (const std::string& kept : {
             // a bind mount there shows another file system's device (a denied directory's?)
             std::string("91 27 8:1 /root /run/user/1000 rw - ext4 /dev/sda1 rw\n"),
             std::string("92 27 0:56 /sub /run/user/1000 rw - tmpfs tmpfs rw\n"),   // not its root
             std::string("93 27 0:57 / /run/user/1000/doc rw - tmpfs tmpfs rw\n"),  // below it
             std::string("94 27 0:58 / /run/user/abc rw - tmpfs tmpfs rw\n"),
             std::string("95 27 0:59 / /run/user rw - tmpfs tmpfs rw\n"),
             std::string("96 27 0:60 / /run/user/1000 rw - fuse.x x rw\n"),
             // the same tmpfs as another mount (a bind of /dev/shm's root, say): an alias
             std::string(
                 "97 27 0:61 / /run/user/1000 rw - tmpfs tmpfs rw\n98 27 0:61 / /dev/shm rw - tmpfs tmpfs rw\n"),
         }) {
        EXPECT_EQ(mount_key(base + kept, true), base + kept) << kept;
    }
}

TEST(DenySnapshotMountKey, RuntimeIsApartOnlyWhenNothingReachesIt) {
    const auto deny_of = [](const std::vector<std::string>& paths) {
        policy::Deny d;
        for (const auto& p : paths) {
            deny_list::add_deny_entry(d, p, "test:1", false);
        }
        return d;
    };
    EXPECT_TRUE(runtime_apart(deny_of({"/etc/shadow*", "/run/secrets", "/home/*/.ssh"}), {}));
    for (const char* p : {"/run/user/*/keyring", "/run/user", "/run", "/", "/r*/u*", "/*/*/*/x"}) {
        EXPECT_FALSE(runtime_apart(deny_of({p}), {})) << p;
    }
    Witness w;
    w.path = "/run/user/1000/x";
    EXPECT_FALSE(runtime_apart(deny_of({"/etc/shadow"}), {w}));
}

// A listing below /proc is never kept: processes come and go and /proc's times do not move.
TEST_F(DenySnapshot, AListingBelowProcIsNeverSnapshotted) {
    auto s = take(raw({"/pro[c]/[0-9]*"}), kSettle);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().msg.find("lists /proc"), std::string::npos) << s.error().msg;
}

}  // namespace
}  // namespace diag::deny_snapshot
