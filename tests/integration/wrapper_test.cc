// SPDX-License-Identifier: Apache-2.0
// The built binary, run as sshd runs it, against testdata policies.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "tests/helpers/policies.h"
#include "tests/integration/harness.h"

namespace diag::testing {
namespace {

// Rules only these tests use: the child's process state, sensitive arguments, a marker.
const char* kProbes = R"toml(
[command.probe]
match = ["probe"]
program = "sh"
description = "Shows the child's process state with shell builtins only (test only)"
fixed = ["-c", "echo umask=$(umask); echo cwd=$(pwd); for f in /proc/self/fd/*; do printf '%s ' \"${f##*/}\"; done; echo; while read -r l; do case $l in Sig*|NoNewPrivs*|Seccomp:*) echo \"$l\";; esac; done < /proc/self/status; export -p; read x && echo stdin=$x || echo stdin=eof"]

[command.secret]
match = ["secret"]
program = "printf"
description = "Prints its arguments; they are sensitive (test only)"
fixed = ["%s|"]
end_of_options = false
[[command.secret.option]]
names = ["--token"]
type = "string"
sensitive = true
[[command.secret.positional]]
type = "string"
sensitive = true
min = 0

[command.touch-marker]
match = ["marker"]
program = "sh"
description = "Prints a marker (test only: proves whether anything ran)"
fixed = ["-c", "echo ran-$0", "MARKER"]
)toml";

// `cat` as a site would allow it (tests/testdata/policies/cat.toml), then the probes above.
std::string commands() { return policies::rules({"cat"}) + kProbes; }

class Wrapper : public WrapperFixture {
  protected:
    std::string std_policy() { return write_policy(policy(commands())); }
};

TEST_F(Wrapper, AllowedRequestRunsAndIsAudited) {
    const auto p = std_policy();
    auto r = run_soc(p, "cat " + dir_ + "/pub/readme.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
    EXPECT_EQ(r.err, "");
    auto recs = audit_records();
    ASSERT_EQ(recs.size(), 2u);  // the decision before exec, the end after wait
    EXPECT_EQ(recs[0]["event"]["action"], "decision");
    EXPECT_EQ(recs[1]["event"]["action"], "end");
    EXPECT_EQ(recs[1]["diag"]["request_id"], recs[0]["diag"]["request_id"]);
    EXPECT_EQ(recs[1]["diag"]["result"]["exit_status"], 0);
    EXPECT_EQ(recs[1]["diag"]["result"]["stdout"]["bytes"], 14);
    // sha256("public-readme\n")
    EXPECT_EQ(recs[1]["diag"]["result"]["stdout"]["sha256"],
              "d7933205769d9ab5bb0f8d0940aaa0fbbfb5f6a33fa35506536c34d2a4616e39");
    EXPECT_EQ(recs[0]["diag"]["decision"], "allow");
    EXPECT_EQ(recs[0]["diag"]["confinement"]["landlock"]["abi"].get<int>() >= 0, true);
    EXPECT_EQ(recs[0]["diag"]["rule"], "cat");
    EXPECT_EQ(recs[0]["process"]["command_line"], "cat " + dir_ + "/pub/readme.txt");
    EXPECT_EQ(recs[0]["source"]["ip"], "192.0.2.7");
    EXPECT_EQ(recs[0]["process"]["args"].back(), dir_ + "/pub/readme.txt");
    EXPECT_EQ(recs[0]["diag"]["request_id"].get<std::string>().size(), 36u);
}

TEST_F(Wrapper, DeniedRequestPrintsOneLineWithReasonAndRequestId) {
    const auto p = std_policy();
    auto r = run_soc(p, "cat " + dir_ + "/secret/canary.txt");
    EXPECT_DENIED(r, "path-denied");
    auto recs = audit_records();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["diag"]["decision"], "deny");
    EXPECT_EQ(recs[0]["diag"]["reason"], "path-denied");
    EXPECT_NE(r.err.find("(request " + recs[0]["diag"]["request_id"].get<std::string>() + ")"), std::string::npos);
}

TEST_F(Wrapper, EmptyRequestAndHelpListCommandsWithoutAShell) {
    const auto p = std_policy();
    for (const char* req : {"", "help"}) {
        auto r = run_soc(p, req);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("cat\tcat [-n|--number] PATH...\tPrint files\n"), std::string::npos) << r.out;
    }
    auto j = run_soc(p, "help --json");
    ASSERT_EQ(j.exit_code, 0);
    auto arr = nlohmann::json::parse(j.out);
    ASSERT_TRUE(arr.is_array());
    EXPECT_EQ(arr[0]["id"], "cat");
    EXPECT_EQ(arr[0]["available"], true);
    // `help CMD` for a CMD no rule names is refused as an unknown command; a second word is no form.
    EXPECT_DENIED(run_soc(p, "help me"), "unknown-command");
    EXPECT_DENIED(run_soc(p, "help cat me"), "unknown-option");
    // No SSH_ORIGINAL_COMMAND and no -c (an interactive login): the listing, never a shell.
    auto login = run_args({"--policy", p});
    EXPECT_EQ(login.exit_code, 0);
    EXPECT_NE(login.out.find("cat\t"), std::string::npos);
}

TEST_F(Wrapper, LoginShellModeTakesTheRequestFromDashC) {
    const auto p = std_policy();
    auto r = run_args({"--policy", p, "-c", "cat " + dir_ + "/pub/readme.txt"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "public-readme\n");
    auto d = run_args({"--policy", p, "-c", "cat " + dir_ + "/secret/canary.txt"});
    EXPECT_DENIED(d, "path-denied");
}

TEST_F(Wrapper, InteractiveLoginThroughTheLoginShellShowsTheListing) {
    const auto p = std_policy();
    // ForceCommand with the wrapper as login shell and no client command: sshd runs
    // `diag-wrapper -c '/path/to/diag-wrapper --policy X'` and sets no SSH_ORIGINAL_COMMAND.
    for (const std::string& forced : {std::string(DIAG_WRAPPER_BIN), std::string(DIAG_WRAPPER_BIN) + " --policy " + p,
                                      std::string("/run/current-system/sw/bin/diag-wrapper")}) {
        auto r = run_args({"--policy", p, "-c", forced});
        EXPECT_EQ(r.exit_code, 0) << forced << ": " << r.err;
        EXPECT_NE(r.out.find("cat\t"), std::string::npos) << forced;
    }
    // The -c string is never parsed for options: a different --policy in it changes nothing.
    auto r = run_args({"--policy", p, "-c", std::string(DIAG_WRAPPER_BIN) + " --policy /nonexistent"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // ... but the record keeps what arrived.
    EXPECT_EQ(audit_records().back()["process"]["shell_c"], std::string(DIAG_WRAPPER_BIN) + " --policy /nonexistent");
}

TEST_F(Wrapper, SshOriginalCommandWinsOverDashCWhichIsTheForcedCommand) {
    const auto p = std_policy();
    // sshd runs `shell -c FORCECOMMAND` with SSH_ORIGINAL_COMMAND set: the -c string must not be
    // parsed as the request (here it would be allowed; the real request is denied).
    auto r = run_process({DIAG_WRAPPER_BIN, "--policy", p, "-c", "cat " + dir_ + "/pub/readme.txt"},
                         {"SSH_ORIGINAL_COMMAND=cat " + dir_ + "/secret/canary.txt"});
    EXPECT_DENIED(r, "path-denied");
}

TEST_F(Wrapper, ThePolicyPathNeverComesFromTheRequest) {
    const auto p = std_policy();
    // An attacker-controlled -c string that looks like wrapper options is just a request.
    auto r = run_args({"-c", "diag-wrapper --policy " + p + " --explain cat"}, {});
    // No --policy in argv: the compiled default applies; it does not exist here, so fail closed.
    if (std::filesystem::exists(DIAG_DEFAULT_POLICY)) {
        GTEST_SKIP() << "a real policy is installed at " << DIAG_DEFAULT_POLICY;
    }
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("diag-wrapper: error: policy:"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(Wrapper, ChildGetsACleanEnvironmentStdinFdsUmaskAndCwd) {
    const auto p = std_policy();
    // An inherited fd and hostile environment variables must not reach the child.
    const int leak = ::open(p.c_str(), O_RDONLY);  // no O_CLOEXEC
    ASSERT_GE(leak, 3);
    auto r = run_soc(p, "probe",
                     {"LD_PRELOAD=/tmp/evil.so", "BASH_FUNC_ls%%=() { /bin/sh; }", "LESSOPEN=|/bin/sh %s",
                      "PAGER=/bin/sh", "NIX_CONFIG=x", "GCONV_PATH=/tmp", "HOME=/tmp/attacker"});
    ::close(leak);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("umask=0077\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("cwd=/\n"), std::string::npos) << r.out;
    // sh's own fds: 0 1 2, plus the directory fd the glob of /proc/self/fd opens.
    EXPECT_NE(r.out.find("\n0 1 2 3 \n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("NoNewPrivs:\t1\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Seccomp:\t2\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SigBlk:\t0000000000000000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SigIgn:\t0000000000000000"), std::string::npos) << r.out;
    for (const char* banned : {"LD_PRELOAD", "BASH_FUNC", "LESSOPEN", "NIX_CONFIG", "GCONV_PATH",
                               "SSH_ORIGINAL_COMMAND", "SSH_CONNECTION", "/tmp/attacker"}) {
        EXPECT_EQ(r.out.find(banned), std::string::npos) << banned << "\n" << r.out;
    }
    for (const char* wanted : {"export PAGER='cat'\n", "export SYSTEMD_PAGER=''\n", "export TERM='dumb'\n",
                               "export LANG='C.UTF-8'\n", "export TZ='UTC'\n", "export HOME='/var/empty'\n",
                               "export LESSSECURE='1'\n", "export MANPAGER='cat'\n", "export SYSTEMD_COLORS='0'\n"}) {
        EXPECT_NE(r.out.find(wanted), std::string::npos) << wanted << "\n" << r.out;
    }
    EXPECT_NE(r.out.find("stdin=eof"), std::string::npos) << r.out;
}

TEST_F(Wrapper, UnwritableAuditSinkMeansNothingRuns) {
    std::string text = policy(commands());
    const std::string bad_audit = dir_ + "/no-such-dir/audit.jsonl";
    text.replace(text.find(audit_), audit_.size(), bad_audit);
    auto r = run_soc(write_policy(text), "marker");
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("diag-wrapper: error: audit file open(" + bad_audit + "): No such file or directory", 0), 0u)
        << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    EXPECT_EQ(r.out, "");  // the marker command did not run
    // With a writable sink the same request does run (the probe is real).
    auto ok = run_soc(write_policy(policy(commands()), "policy2.toml"), "marker");
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, "ran-MARKER\n");
}

TEST_F(Wrapper, MissingSyslogOrJournaldSocketIsAFailureNotASilentSuccess) {
    for (const char* sink : {"syslog", "journald"}) {
        const char* socket = std::string(sink) == "syslog" ? "/dev/log" : "/run/systemd/journal/socket";
        if (std::filesystem::exists(socket)) {
            continue;  // a real daemon is listening on this host
        }
        std::string text = policy(commands());
        text.replace(text.find("sinks = [\"file\"]"), 16, std::string("sinks = [\"") + sink + "\"]");
        auto r = run_soc(write_policy(text), "cat " + dir_ + "/pub/readme.txt");
        EXPECT_EQ(r.exit_code, 125) << sink;
        EXPECT_NE(r.err.find(socket), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "") << sink;
    }
}

TEST_F(Wrapper, BadPoliciesExit125WithOneLine) {
    struct Case {
        std::string text;
        mode_t mode;
        const char* expect;
    } cases[] = {
        {"version = 1\n[settings]\nsearch_path = [\"/usr/bin\"]\ntiemout = \"3s\"\n", 0644,
         "policy.toml:4:1: unknown key 'tiemout' in settings"},
        {policy(commands()), 0666, "writable by group or other"},
        {"not toml at all", 0644, "policy.toml:1:"},
    };
    for (const auto& c : cases) {
        const auto p = write_policy(c.text);
        ::chmod(p.c_str(), c.mode);
        auto r = run_soc(p, "cat /etc/hostname");
        EXPECT_EQ(r.exit_code, 125);
        EXPECT_EQ(r.err.rfind("diag-wrapper: error: policy: ", 0), 0u) << r.err;
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.out, "");
    }
    auto missing = run_soc(dir_ + "/nope.toml", "cat /etc/hostname");
    EXPECT_EQ(missing.exit_code, 125);
}

TEST_F(Wrapper, CheckAndExplainRunNothing) {
    const auto p = std_policy();
    auto c = run_args({"--policy", p, "--check"});
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_NE(c.out.find("policy OK: " + p), std::string::npos) << c.out;
    auto a = run_args({"--policy", p, "--explain", "--", "cat " + dir_ + "/pub/../pub/readme.txt"});
    EXPECT_EQ(a.exit_code, 0);
    EXPECT_NE(a.out.find("decision: allow\nrule: cat"), std::string::npos) << a.out;
    EXPECT_NE(a.out.find("exec: /usr/bin/cat -- " + dir_ + "/pub/readme.txt\n"), std::string::npos) << a.out;
    EXPECT_EQ(a.out.find("public-readme"), std::string::npos);  // nothing ran
    auto d = run_args({"--policy", p, "--explain", "--", "cat " + dir_ + "/secret/canary.txt"});
    EXPECT_EQ(d.exit_code, 126);
    EXPECT_NE(d.out.find("decision: deny\nreason: path-denied\n"), std::string::npos) << d.out;
    EXPECT_NE(d.out.find("deny-entry: " + dir_ + "/secret\n"), std::string::npos) << d.out;
    auto e = run_args({"--policy", p, "--explain", "--", "marker"});
    EXPECT_EQ(e.exit_code, 0);
    EXPECT_EQ(e.out.find("ran-MARKER"), std::string::npos) << e.out;
    EXPECT_TRUE(audit_records().empty());
}

// --check --build skips the ownership checks, so it must stay a flag of the command line alone:
// refused with anything but --check, and never taken from what the client sends.
TEST_F(Wrapper, BuildCheckIsOnlyACheckAndNeverReachableFromTheClient) {
    const auto p = std_policy();
    ::chmod(p.c_str(), 0666);  // a file no run would accept
    auto b = run_args({"--policy", p, "--check", "--build", "--include", dir_ + "/none.d"});
    EXPECT_EQ(b.exit_code, 0) << b.err;
    EXPECT_NE(b.out.find("(syntax checked; resolved on the host"), std::string::npos) << b.out;
    EXPECT_EQ(run_args({"--policy", p, "--build"}).exit_code, 125);
    EXPECT_EQ(run_args({"--policy", p, "--include", dir_, "--check"}).exit_code, 125);
    auto explain = run_args({"--policy", p, "--build", "--explain", "--", "marker"});
    EXPECT_EQ(explain.exit_code, 125);
    EXPECT_EQ(explain.out.find("ran-MARKER"), std::string::npos);
    // As sshd runs it: the client's words are the request, whatever they look like.
    for (const std::string& soc : std::vector<std::string>{"--check --build", "--policy " + p + " --check --build"}) {
        auto r = run_soc(p, soc);
        EXPECT_EQ(r.exit_code, 125) << r.err;  // the policy itself is refused (world-writable)
        EXPECT_EQ(r.out.find("policy OK"), std::string::npos) << r.out;
    }
    ::chmod(p.c_str(), 0644);
    auto r = run_soc(p, "--check --build");
    EXPECT_EQ(r.exit_code, 126) << r.err;  // an unknown command, refused
    EXPECT_EQ(r.out.find("policy OK"), std::string::npos) << r.out;
}

TEST_F(Wrapper, SensitiveArgumentsAreRecordedAsHashAndLengthOnly) {
    const auto p = std_policy();
    const std::string secret = "hunter2-Secret-" + std::to_string(::getpid());
    auto r = run_soc(p, "secret --token=" + secret + "x " + secret);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "--token=" + secret + "x|" + secret + "|");  // the client gets its output
    // A refused request for the same command: which token is the secret is unknown, all are hidden.
    auto bad = run_soc(p, "secret --nope " + secret);
    EXPECT_DENIED(bad, "unknown-option");
    std::ifstream in(audit_);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(secret), std::string::npos) << all;
    const auto recs = audit_records();
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0]["process"]["command_line_redacted"], true);
    EXPECT_EQ(recs[0]["diag"]["argv"], (nlohmann::json{"secret", "[redacted]", "[redacted]"}));
    ASSERT_EQ(recs[0]["diag"]["sensitive"].size(), 2u);
    EXPECT_EQ(recs[0]["diag"]["sensitive"][1]["length"], secret.size());
    EXPECT_EQ(recs[0]["diag"]["sensitive"][1]["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(recs[2]["diag"]["argv"], (nlohmann::json{"secret", "[redacted]", "[redacted]"}));
}

TEST_F(Wrapper, HardLinkIntoADeniedDirectoryTheUserCannotListIsRefused) {
    // Red-team finding: a world-readable file in a 0700 denied directory, with a second name in a
    // readable directory. The unprivileged wrapper cannot list the denied directory, so it cannot
    // prove the second name is not a secret: it must refuse, not read it.
    if (::access("/usr/bin/setpriv", X_OK) != 0) {
        GTEST_SKIP() << "needs setpriv to run the wrapper as an unprivileged user";
    }
    const std::string hidden = dir_ + "/hidden";
    std::filesystem::create_directories(hidden);
    ::chmod(hidden.c_str(), 0700);
    write(hidden + "/canary", canary_ + "\n", 0644);
    ASSERT_EQ(::link((hidden + "/canary").c_str(), (dir_ + "/pub/hl").c_str()), 0);
    // As deployed: root-owned, the account's group (nobody's here) appends.
    write(audit_, "", 0620);
    ASSERT_EQ(::chown(audit_.c_str(), 0, 65534), 0);
    const auto p = write_policy(policy(commands(), ", \"" + hidden + "\""));
    for (const std::string& req : {"cat " + dir_ + "/pub/hl", "cat " + dir_ + "/pub/readme.txt"}) {
        auto r = run_process(
            {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DIAG_WRAPPER_BIN, "--policy", p},
            {"SSH_ORIGINAL_COMMAND=" + req});
        EXPECT_EQ(r.out.find(canary_), std::string::npos) << req;
        if (req.find("/pub/hl") != std::string::npos) {
            EXPECT_DENIED(r, "path-denied");
            EXPECT_NE(r.err.find("cannot rule out a hard link into " + hidden), std::string::npos) << r.err;
        } else {
            EXPECT_EQ(r.exit_code, 0) << r.err;  // a singly-linked file is unaffected
        }
    }
}

// The raw-I/O devices of the built-in denylist (/dev/mem, /dev/port) are left to their driver's
// CAP_SYS_RAWIO check only when the child cannot hold it: as root the walk covers them.
// The same through a glob: /home/*/.ssh where the match sits in a directory the user cannot
// search. The expansion cannot see whether it exists, so multiply-linked files on that device
// are not cleared.
TEST_F(Wrapper, HardLinkIntoAGlobMatchTheUserCannotSeeIsRefused) {
    if (::access("/usr/bin/setpriv", X_OK) != 0) {
        GTEST_SKIP() << "needs setpriv to run the wrapper as an unprivileged user";
    }
    const std::string ssh = dir_ + "/home/bob/.ssh";
    std::filesystem::create_directories(ssh);
    ::chmod((dir_ + "/home/bob").c_str(), 0700);
    write(ssh + "/id_ed25519", canary_ + "\n", 0644);
    ASSERT_EQ(::link((ssh + "/id_ed25519").c_str(), (dir_ + "/pub/hl2").c_str()), 0);
    // As deployed: root-owned, the account's group (nobody's here) appends.
    write(audit_, "", 0620);
    ASSERT_EQ(::chown(audit_.c_str(), 0, 65534), 0);
    const auto p = write_policy(policy(commands(), ", \"" + dir_ + "/home/*/.ssh\""));
    auto r = run_process(
        {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DIAG_WRAPPER_BIN, "--policy", p},
        {"SSH_ORIGINAL_COMMAND=cat " + dir_ + "/pub/hl2"});
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
    EXPECT_DENIED(r, "path-denied");
}

// Review of the glob fix: three more ways a match the user cannot see escaped. Each request runs
// as nobody and must not print the canary.
class UnseenMatch : public Wrapper {
  protected:
    void SetUp() override {
        Wrapper::SetUp();
        if (::access("/usr/bin/setpriv", X_OK) != 0 || ::geteuid() != 0) {
            GTEST_SKIP() << "needs root and setpriv (mounts, and the wrapper run as nobody)";
        }
        // As deployed: root-owned, the account's group (nobody's here) appends.
        write(audit_, "", 0620);
        ASSERT_EQ(::chown(audit_.c_str(), 0, 65534), 0);
    }
    void TearDown() override {
        for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
            ::umount2(it->c_str(), MNT_DETACH);
        }
        Wrapper::TearDown();
    }
    bool mount_or_skip(const std::string& src, const std::string& dst, const char* type, unsigned long flags,
                       const char* opts) {
        if (::mount(src.c_str(), dst.c_str(), type, flags, opts) != 0) {
            return false;
        }
        mounts_.push_back(dst);
        return true;
    }
    RunResult as_nobody(const std::string& deny_entry, const std::string& request) {
        static const std::string kGrep = R"(
[command.grep]
match = ["grep"]
description = "search"
[[command.grep.option]]
names = ["-r"]
type = "flag"
recursive = true
[[command.grep.positional]]
type = "string"
[[command.grep.positional]]
type = "path"
)";
        const auto p = write_policy(policy(commands() + kGrep, ", \"" + deny_entry + "\""));
        return run_process(
            {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DIAG_WRAPPER_BIN, "--policy", p},
            {"SSH_ORIGINAL_COMMAND=" + request});
    }
    std::vector<std::string> mounts_;
};

// A wildcard component to expand inside a directory nobody can search.
TEST_F(UnseenMatch, HardLinkBelowADirectoryTheExpansionCannotOpen) {
    std::filesystem::create_directories(dir_ + "/vault/bob/sub");
    write(dir_ + "/vault/bob/sub/key", canary_ + "\n", 0644);
    ASSERT_EQ(::link((dir_ + "/vault/bob/sub/key").c_str(), (dir_ + "/pub/leak").c_str()), 0);
    ::chmod((dir_ + "/vault/bob").c_str(), 0744);  // readable, not searchable
    // ... and a literal entry behind the same directory (add_object cannot stat it either).
    for (const std::string& entry : {dir_ + "/vault/*/*/*", dir_ + "/vault/*/sub/*", dir_ + "/vault/bob/sub/key"}) {
        SCOPED_TRACE(entry);
        auto r = as_nobody(entry, "cat " + dir_ + "/pub/leak");
        EXPECT_EQ(r.out.find(canary_), std::string::npos);
        EXPECT_DENIED(r, "path-denied");
    }
}

// The match is a bind mount inside a 0700 directory: its source must be denied too, though the
// expansion cannot see the match (the mount table says where it is).
TEST_F(UnseenMatch, BindMountSourceOfAHiddenMatch) {
    std::filesystem::create_directories(dir_ + "/home/bob/.ssh");
    std::filesystem::create_directories(dir_ + "/keys/bob");
    write(dir_ + "/keys/bob/id", canary_ + "\n", 0644);
    if (!mount_or_skip(dir_ + "/keys/bob", dir_ + "/home/bob/.ssh", nullptr, MS_BIND, nullptr)) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    ::chmod((dir_ + "/home/bob").c_str(), 0700);
    auto r = as_nobody(dir_ + "/home/*/.ssh", "cat " + dir_ + "/keys/bob/id");
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
    EXPECT_DENIED(r, "path-denied");
}

// The hidden match is on another file system mounted below the hidden directory: its device, not
// only the visible ancestor's, must be unverified for the hard-link check.
TEST_F(UnseenMatch, HardLinkOnAnotherFileSystemBelowAHiddenDirectory) {
    std::filesystem::create_directories(dir_ + "/fs");
    std::filesystem::create_directories(dir_ + "/home/bob/.ssh");
    if (!mount_or_skip("tmpfs", dir_ + "/fs", "tmpfs", 0, "mode=755,size=1m")) {
        GTEST_SKIP() << "tmpfs mount not permitted here";
    }
    std::filesystem::create_directories(dir_ + "/fs/ssh");
    std::filesystem::create_directories(dir_ + "/fs/pub");
    ::chmod((dir_ + "/fs/ssh").c_str(), 0700);
    write(dir_ + "/fs/ssh/id", canary_ + "\n", 0644);
    ASSERT_EQ(::link((dir_ + "/fs/ssh/id").c_str(), (dir_ + "/fs/pub/leak").c_str()), 0);
    ASSERT_TRUE(mount_or_skip(dir_ + "/fs/ssh", dir_ + "/home/bob/.ssh", nullptr, MS_BIND, nullptr));
    ::chmod((dir_ + "/home/bob").c_str(), 0700);
    auto r = as_nobody(dir_ + "/home/*/.ssh", "cat " + dir_ + "/fs/pub/leak");
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
    EXPECT_DENIED(r, "path-denied");
}

// Review of the fd-relative walker: the index of links below a denied directory that it cannot
// finish (here: a directory in it nobody may read) cleared the device of every file system
// mounted below it, though it never reached them. A second name of the secret on that file
// system, outside the denied paths, was served.
TEST_F(UnseenMatch, HardLinkOnAFileSystemMountedBelowAnUnfinishedDeniedDirectory) {
    std::filesystem::create_directories(dir_ + "/fs");
    if (!mount_or_skip("tmpfs", dir_ + "/fs", "tmpfs", 0, "mode=755,size=1m")) {
        GTEST_SKIP() << "tmpfs mount not permitted here";
    }
    std::filesystem::create_directories(dir_ + "/fs/priv");
    std::filesystem::create_directories(dir_ + "/fs/pub");
    write(dir_ + "/fs/priv/secret", canary_ + "\n", 0644);
    ASSERT_EQ(::link((dir_ + "/fs/priv/secret").c_str(), (dir_ + "/fs/pub/backup").c_str()), 0);
    // dir_/secret (denied) shows the private half, behind a directory nobody can read; the
    // public half is shown elsewhere.
    std::filesystem::create_directories(dir_ + "/secret/mnt");
    std::filesystem::create_directories(dir_ + "/pubmnt");
    ASSERT_TRUE(mount_or_skip(dir_ + "/fs/priv", dir_ + "/secret/mnt", nullptr, MS_BIND, nullptr));
    ASSERT_TRUE(mount_or_skip(dir_ + "/fs/pub", dir_ + "/pubmnt", nullptr, MS_BIND, nullptr));
    ::chmod((dir_ + "/fs/priv").c_str(), 0700);
    for (const std::string& req : {"cat " + dir_ + "/pubmnt/backup", "grep -r CANARY " + dir_ + "/pubmnt"}) {
        SCOPED_TRACE(req);
        auto r = as_nobody(dir_ + "/nothing-else", req);
        EXPECT_EQ(r.out.find(canary_), std::string::npos);
        EXPECT_EQ(r.exit_code, 126) << r.err;
    }
}

// Third review: a bind mount whose source is a hidden denied directory (the mount point itself is
// not denied by name). The mount table's root field says what it shows.
TEST_F(UnseenMatch, BindMountWhoseSourceIsAHiddenMatch) {
    std::filesystem::create_directories(dir_ + "/home/bob/.ssh");
    std::filesystem::create_directories(dir_ + "/pub/view");
    write(dir_ + "/home/bob/.ssh/id", canary_ + "\n", 0644);
    if (!mount_or_skip(dir_ + "/home/bob/.ssh", dir_ + "/pub/view", nullptr, MS_BIND, nullptr)) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    ::chmod((dir_ + "/home/bob").c_str(), 0700);
    for (const std::string& entry : {dir_ + "/home/bob/.ssh", dir_ + "/home/*/.ssh"}) {
        SCOPED_TRACE(entry);
        auto r = as_nobody(entry, "cat " + dir_ + "/pub/view/id");
        EXPECT_EQ(r.out.find(canary_), std::string::npos);
        EXPECT_DENIED(r, "path-denied");
    }
}

// Third review: the wildcard matches a symlink into a hidden directory, where a bind mount sits.
TEST_F(UnseenMatch, GlobThroughASymlinkIntoAHiddenDirectory) {
    std::filesystem::create_directories(dir_ + "/home");
    std::filesystem::create_directories(dir_ + "/data/bob/.ssh");
    std::filesystem::create_directories(dir_ + "/keys/bob");
    write(dir_ + "/keys/bob/id", canary_ + "\n", 0644);
    std::filesystem::create_directory_symlink(dir_ + "/data/bob", dir_ + "/home/bob");
    if (!mount_or_skip(dir_ + "/keys/bob", dir_ + "/data/bob/.ssh", nullptr, MS_BIND, nullptr)) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    ::chmod((dir_ + "/data/bob").c_str(), 0700);
    auto r = as_nobody(dir_ + "/home/*/.ssh", "cat " + dir_ + "/keys/bob/id");
    EXPECT_EQ(r.out.find(canary_), std::string::npos);
    EXPECT_DENIED(r, "path-denied");
}

// Red-team findings: the child looked the canonical path up again by name. A directory the
// attacker owns (or another local account owns), swapped for a symlink after the check
// (renameat2 RENAME_EXCHANGE in a loop), sent `cat` to a hard link of a secret kept in a 0700
// denied directory (which the hard-link check refuses only by name, and Landlock cannot tell
// apart). Such a file is now handed to the child as the object checked (/proc/self/fd/N), and
// such a directory is refused.
class SwappedPath : public UnseenMatch {
  protected:
    // dir_/<owner_dir>/{d/app.key (harmless), l -> dir_/pub}; dir_/pub/app.key is a hard link of
    // dir_/private/app.key (the canary, in a 0700 denied directory).
    void prepare(const std::string& top, uid_t owner) {
        std::filesystem::create_directories(dir_ + "/private");
        write(dir_ + "/private/app.key", canary_ + "\n", 0644);
        ::chmod((dir_ + "/private").c_str(), 0700);
        ASSERT_EQ(::link((dir_ + "/private/app.key").c_str(), (dir_ + "/pub/app.key").c_str()), 0);
        std::filesystem::create_directories(dir_ + top + "/d");
        write(dir_ + top + "/d/app.key", "harmless\n", 0644);
        std::filesystem::create_directory_symlink(dir_ + "/pub", dir_ + top + "/l");
        for (const std::string& p : {top, top + "/d", top + "/d/app.key", top + "/l"}) {
            ASSERT_EQ(::lchown((dir_ + p).c_str(), owner, owner), 0);
        }
    }
    // Swaps d and l as `owner` until stopped; returns the pid.
    pid_t swap_loop(const std::string& top, uid_t owner) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::setgroups(0, nullptr) != 0 || ::setresgid(owner, owner, owner) != 0 ||
                ::setresuid(owner, owner, owner) != 0) {
                ::_exit(1);
            }
            const std::string a = dir_ + top + "/d";
            const std::string b = dir_ + top + "/l";
            for (;;) {
                ::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE);
            }
        }
        return pid;
    }
    void attack(const std::string& top, uid_t owner) {
        prepare(top, owner);
        // Asked for directly, the hard link is refused (its device cannot be scanned).
        EXPECT_DENIED(as_nobody(dir_ + "/private", "cat " + dir_ + "/pub/app.key"), "path-denied");
        // Without a race: the file is read through the fd of what was checked; the directory is refused.
        auto r = as_nobody(dir_ + "/private", "cat " + dir_ + top + "/d/app.key");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "harmless\n");
        EXPECT_DENIED(as_nobody(dir_ + "/private", "grep -r x " + dir_ + top + "/d"), "path-replaceable");
        const auto recs = audit_records();
        ASSERT_GE(recs.size(), 3u);
        EXPECT_EQ(recs[recs.size() - 3]["process"]["args"].back(), "/proc/self/fd/62");
        EXPECT_EQ(recs[recs.size() - 3]["diag"]["paths"][0]["given_as"], "/proc/self/fd/62");
        // With the swap running: nothing of the secret, ever.
        const pid_t swapper = swap_loop(top, owner);
        ASSERT_GT(swapper, 0);
        int leaks = 0;
        for (int i = 0; i < 60; ++i) {
            for (const std::string& req :
                 {"cat " + dir_ + top + "/d/app.key", "grep -r " + canary_ + " " + dir_ + top + "/d"}) {
                auto a = as_nobody(dir_ + "/private", req);
                leaks += a.out.find(canary_) != std::string::npos ? 1 : 0;
            }
        }
        ::kill(swapper, SIGKILL);
        ::waitpid(swapper, nullptr, 0);
        EXPECT_EQ(leaks, 0);
    }
};

TEST_F(SwappedPath, ByTheUserItself) { attack("/race", 65534); }

// Review finding: a held file in a directory the Landlock walk cannot list (0711, a service's)
// had no rule of its own, so the command could not open /proc/self/fd/62.
TEST_F(SwappedPath, HeldFileInAnUnlistableDirectoryIsReadable) {
    std::filesystem::create_directories(dir_ + "/svc");
    write(dir_ + "/svc/app.log", "log line\n", 0644);
    ASSERT_EQ(::chown((dir_ + "/svc").c_str(), 4243, 4243), 0);
    ::chmod((dir_ + "/svc").c_str(), 0711);
    auto r = as_nobody(dir_ + "/secret", "cat " + dir_ + "/svc/app.log");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "log line\n");
}

// Review finding: the escaping of literal names made a backslash in a written deny entry an
// escape, so "rv\x2dsec" (systemd's escape of "-") matched "rvx2dsec" and not itself: printed.
TEST_F(UnseenMatch, BackslashInADenyEntryIsAnOrdinaryCharacter) {
    std::filesystem::create_directories(dir_ + "/rv\\x2dsec");
    write(dir_ + "/rv\\x2dsec/key", canary_ + "\n", 0644);
    // The TOML basic string needs the backslash doubled.
    auto r = as_nobody(dir_ + "/rv\\\\x2dsec", "cat '" + dir_ + "/rv\\x2dsec/key'");
    EXPECT_DENIED(r, "path-denied");
    auto g = as_nobody(dir_ + "/rv\\\\x2dsec", "grep -r " + canary_ + " " + dir_);
    EXPECT_EQ(g.out.find(canary_), std::string::npos) << g.err;
}

TEST_F(SwappedPath, ByAnotherLocalAccount) { attack("/eve", 4242); }

// Red-team finding: /home that can be searched but not listed (0711) hides the matches of
// /home/*/.ssh from the expansion; the same directories bind-mounted elsewhere (an impermanence
// /persist/home, or a second bind) were readable there. The unseen pattern is denied under every
// mount that shows the same place.
TEST_F(UnseenMatch, UnlistableGlobParentIsDeniedThroughItsBindMounts) {
    std::filesystem::create_directories(dir_ + "/persist/home/alice/.ssh");
    std::filesystem::create_directories(dir_ + "/home");
    std::filesystem::create_directories(dir_ + "/homebind");
    write(dir_ + "/persist/home/alice/.ssh/id_ed25519", canary_ + "\n", 0644);
    ::chmod((dir_ + "/persist/home").c_str(), 0711);
    if (!mount_or_skip(dir_ + "/persist/home", dir_ + "/home", nullptr, MS_BIND, nullptr) ||
        !mount_or_skip(dir_ + "/home", dir_ + "/homebind", nullptr, MS_BIND, nullptr)) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    for (const std::string& where : {dir_ + "/home", dir_ + "/persist/home", dir_ + "/homebind"}) {
        SCOPED_TRACE(where);
        auto r = as_nobody(dir_ + "/home/*/.ssh", "cat " + where + "/alice/.ssh/id_ed25519");
        EXPECT_DENIED(r, "path-denied");
        auto g = as_nobody(dir_ + "/home/*/.ssh", "grep -r " + canary_ + " " + where + "/alice");
        EXPECT_EQ(g.out.find(canary_), std::string::npos) << g.err;
        EXPECT_NE(g.exit_code, 0);
    }
}

// Review finding: a literal deny entry inside a directory this user cannot search (a root-only
// /persist whose home is bound on /home) has no inode to compare; its bind mounts must be denied
// by name too.
TEST_F(UnseenMatch, UnsearchableLiteralEntryIsDeniedThroughItsBindMounts) {
    std::filesystem::create_directories(dir_ + "/p/home/alice/.ssh");
    std::filesystem::create_directories(dir_ + "/h");
    write(dir_ + "/p/home/alice/.ssh/id", canary_ + "\n", 0644);
    if (!mount_or_skip(dir_ + "/p/home", dir_ + "/h", nullptr, MS_BIND, nullptr)) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    ::chmod((dir_ + "/p").c_str(), 0700);
    EXPECT_DENIED(as_nobody(dir_ + "/p/home/alice/.ssh", "cat " + dir_ + "/h/alice/.ssh/id"), "path-denied");
    auto g = as_nobody(dir_ + "/p/home/alice/.ssh", "grep -r " + canary_ + " " + dir_ + "/h");
    EXPECT_EQ(g.out.find(canary_), std::string::npos) << g.err;
    EXPECT_NE(g.exit_code, 0);
}

// Red-team finding: a second account hard-links a secret it owns (in a denied directory the
// wrapper's account cannot list) more than PATH_MAX deep under a readable tree with nothing
// denied in it, as /var/tmp. grep -r walks there through directory fds and printed the secret;
// the scan must reach it too and refuse the tree.
TEST_F(UnseenMatch, HardLinkDeeperThanPathMaxInAReadableTree) {
    const std::string secret = dir_ + "/private/secret";
    const std::string tree = dir_ + "/vartmp";
    std::filesystem::create_directories(dir_ + "/private");
    std::filesystem::create_directories(tree);
    ::chmod((dir_ + "/private").c_str(), 0711);
    ::chmod(tree.c_str(), 01777);
    write(secret, canary_ + "\n", 0644);
    ASSERT_EQ(::chown(secret.c_str(), 4243, 4243), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        // 210 levels of 20-byte names: over 4400 bytes of path, built relative to open fds.
        if (::setgroups(0, nullptr) != 0 || ::setresgid(4243, 4243, 4243) != 0 || ::setresuid(4243, 4243, 4243) != 0) {
            ::_exit(1);
        }
        int fd = ::open(tree.c_str(), O_RDONLY | O_DIRECTORY);
        for (int i = 0; fd >= 0 && i < 210; ++i) {
            ::mkdirat(fd, "dddddddddddddddddddd", 0755);
            const int next = ::openat(fd, "dddddddddddddddddddd", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            ::close(fd);
            fd = next;
        }
        ::_exit(fd >= 0 && ::linkat(AT_FDCWD, secret.c_str(), fd, "hl", 0) == 0 ? 0 : 2);
    }
    int status = -1;
    ::waitpid(pid, &status, 0);
    ASSERT_EQ(status, 0) << "the second account could not build the chain";
    auto g = as_nobody(dir_ + "/private", "grep -r " + canary_ + " " + tree);
    EXPECT_DENIED(g, "path-tree-denied");
    EXPECT_NE(g.err.find("cannot rule out a hard link into " + dir_ + "/private"), std::string::npos) << g.err;
}

// Review finding: literal names with glob characters (here a mount point) went into the deny
// list unescaped; the alias of an unseen match under "hb[1]" matched "hb1" and not itself.
TEST_F(UnseenMatch, AliasUnderAMountPointWithGlobCharacters) {
    std::filesystem::create_directories(dir_ + "/persist/home/alice/.ssh");
    std::filesystem::create_directories(dir_ + "/hb[1]");
    write(dir_ + "/persist/home/alice/.ssh/id", canary_ + "\n", 0644);
    ::chmod((dir_ + "/persist/home").c_str(), 0711);
    if (!mount_or_skip(dir_ + "/persist/home", dir_ + "/hb[1]", nullptr, MS_BIND, nullptr)) {
        GTEST_SKIP() << "mount --bind not permitted here";
    }
    auto r = as_nobody(dir_ + "/persist/home/*/.ssh", "cat '" + dir_ + "/hb[1]/alice/.ssh/id'");
    EXPECT_DENIED(r, "path-denied");
}

// Third review: a mount stacked over a parent (bind other -> top, after a tmpfs on top/sec) hides
// the deeper one; the aliases of top/sec/key must come from the mount a lookup really reaches,
// or other/sec (the same file) stays readable to a recursive tool.
TEST_F(UnseenMatch, AliasesComeFromTheMountALookupReaches) {
    std::filesystem::create_directories(dir_ + "/top/sec");
    std::filesystem::create_directories(dir_ + "/other/sec");
    if (!mount_or_skip("tmpfs", dir_ + "/top/sec", "tmpfs", 0, "mode=755,size=1m")) {
        GTEST_SKIP() << "tmpfs mount not permitted here";
    }
    write(dir_ + "/other/sec/key", canary_ + "\n", 0644);
    ASSERT_TRUE(mount_or_skip(dir_ + "/other", dir_ + "/top", nullptr, MS_BIND, nullptr));
    ASSERT_TRUE(std::filesystem::exists(dir_ + "/top/sec/key")) << "the bind should hide the tmpfs";
    for (const std::string& entry : {dir_ + "/top/sec/key", dir_ + "/top/sec"}) {
        SCOPED_TRACE(entry);
        auto r = as_nobody(entry, "grep -r " + canary_ + " " + dir_ + "/other");
        EXPECT_EQ(r.out.find(canary_), std::string::npos);
        EXPECT_DENIED(r, "path-tree-denied");
    }
    // Control: the same grep over a tree without the file runs.
    auto control = as_nobody(dir_ + "/top/sec/key", "grep -r " + canary_ + " " + dir_ + "/pub");
    EXPECT_EQ(control.exit_code, 1) << control.err;  // ran, found nothing
}

TEST_F(Wrapper, RawIoDevicesAreLeftToTheKernelOnlyForAnUnprivilegedChild) {
    if (::access("/usr/bin/setpriv", X_OK) != 0) {
        GTEST_SKIP() << "needs setpriv to run the wrapper as an unprivileged user";
    }
    if (::getuid() != 0) {
        GTEST_SKIP() << "needs root to compare with an unprivileged run";
    }
    // As deployed: root-owned, the account's group (nobody's here) appends.
    write(audit_, "", 0620);
    ASSERT_EQ(::chown(audit_.c_str(), 0, 65534), 0);
    const auto p = write_policy(policy(commands()));
    const std::string req = "SSH_ORIGINAL_COMMAND=cat " + dir_ + "/pub/readme.txt";
    auto unprivileged = run_process(
        {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DIAG_WRAPPER_BIN, "--policy", p},
        {req});
    ASSERT_EQ(unprivileged.exit_code, 0) << unprivileged.err;
    auto as_root = run_process({DIAG_WRAPPER_BIN, "--policy", p}, {req});
    ASSERT_EQ(as_root.exit_code, 0) << as_root.err;
    const auto recs = audit_records();
    std::vector<std::string> seen;
    for (const auto& r : recs) {
        if (r["event"]["action"] == "decision") {
            seen.push_back(r["diag"]["confinement"]["landlock"]["raw_io_devices"].get<std::string>());
        }
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"kernel", "landlock"}));
    // Either way the devices are refused as arguments.
    for (const char* dev : {"/dev/mem", "/dev/port"}) {
        auto r = run_process(
            {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DIAG_WRAPPER_BIN, "--policy", p},
            {std::string("SSH_ORIGINAL_COMMAND=cat ") + dev});
        EXPECT_NE(r.exit_code, 0) << dev;
        EXPECT_EQ(r.out, "") << dev;
    }
}

TEST_F(Wrapper, UsageErrorsExit125) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"--bogus"}, {"--explain"}, {"-c", "a", "b"}, {"--policy"}}) {
        auto r = run_args(args);
        EXPECT_EQ(r.exit_code, 125);
        EXPECT_EQ(r.err.rfind("diag-wrapper: error: ", 0), 0u) << r.err;
    }
}

TEST_F(Wrapper, ExecutableSwappedAfterLoadIsNotRun) {
    // The rule pins the program by (dev, ino) at load and execs the checked fd; a program that is
    // missing or untrusted makes the rule unavailable (refused), never a fallback to a later dir.
    std::string text = policy(commands() + "[command.fake]\nmatch = [\"fake\"]\nprogram = \"" + dir_ +
                              "/pub/fake\"\ndescription = \"x\"\n");
    write(dir_ + "/pub/fake", "#!/bin/sh\necho ran\n", 0777);  // world-writable: untrusted
    auto r = run_soc(write_policy(text), "fake");
    EXPECT_DENIED(r, "command-unavailable");
    ::chmod((dir_ + "/pub/fake").c_str(), 0755);
    auto ok = run_soc(write_policy(text), "fake");
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, "ran\n");
}

}  // namespace
}  // namespace diag::testing
