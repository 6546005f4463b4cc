// SPDX-License-Identifier: Apache-2.0
// The on-call probes of the shipped policy/default.toml (issue #16, adr/0017) as the matcher reads
// them: what agents type is accepted by the rule meant for it, with the argv the program gets, and
// every option that writes, follows, runs, pages or reads a file not typed as a path is refused
// by name. (tests/integration/default_policy_probes_test.cc runs them for real.)
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "tests/unit/policy/shipped_policy.h"

namespace diag::policy_loader {
namespace {

using test::Argv;
using test::match;
using test::shipped;

// Each request is accepted by rule `id`, and the program gets `args` (fixed arguments included).
void expect_accepted(const std::vector<std::tuple<std::string, std::string, Argv>>& accepted) {
    for (const auto& [request, id, args] : accepted) {
        auto m = match(shipped(), request);
        ASSERT_TRUE(m.ok()) << request << ": " << m.error().reason << ": " << m.error().msg;
        EXPECT_EQ(m->command->id, id) << request;
        if (!args.empty()) {
            EXPECT_EQ(m->exec_args, args) << request;
        }
    }
}

// Each request is refused with `reason` (a denial: nothing would run).
void expect_refused(const std::vector<std::pair<std::string, std::string>>& refused) {
    for (const auto& [request, reason] : refused) {
        auto m = match(shipped(), request);
        ASSERT_FALSE(m.ok()) << request << " matched " << m->command->id;
        EXPECT_EQ(m.error().code, ErrorCode::kDenied) << request;
        EXPECT_EQ(m.error().reason, reason) << request << ": " << m.error().msg;
    }
}

TEST(DefaultPolicyProbes, SamplersPrintOneReportOrSampleABoundedNumberOfTimes) {
    expect_accepted({
        {"vmstat", "vmstat", {}},
        {"vmstat -s", "vmstat", {"-s"}},
        {"vmstat 1 5", "vmstat-sample", {"--", "1", "5"}},
        {"vmstat -w -t 2 10", "vmstat-sample", {"-w", "-t", "--", "2", "10"}},
        {"mpstat", "mpstat", {}},
        {"mpstat -P ALL 1 5", "mpstat-sample", {"-P", "ALL", "1", "5"}},
        {"pidstat", "pidstat", {}},
        {"pidstat 1 5", "pidstat-sample", {"1", "5"}},
        {"pidstat -d -p 1 2 3", "pidstat-sample", {"-d", "-p", "1", "2", "3"}},
        {"iostat -xz", "iostat", {"-x", "-z"}},
        {"iostat -xz 1 5", "iostat-sample", {"-x", "-z", "1", "5"}},
        {"iostat -x sda 1 2", "iostat-sample", {"-x", "sda", "1", "2"}},
        {"sar -u", "sar", {"-u"}},
        {"sar -n DEV", "sar", {"-n", "DEV"}},
        {"sar -n TCP,ETCP -s 10:00 -e 11:00:00", "sar", {"-n", "TCP,ETCP", "-s", "10:00", "-e", "11:00:00"}},
        {"top -b -n 1", "top", {"-b", "-b", "-n", "1"}},
        {"top -n 1 -o %MEM", "top", {"-b", "-n", "1", "-o", "%MEM"}},
        {"top -b -n 2 -d 1", "top", {"-b", "-b", "-n", "2", "-d", "1"}},
        {"free -m -s 1 -c 5", "free-sample", {"-m", "-s", "1", "-c", "5"}},
        {"free -c 3", "free-sample", {"-c", "3"}},
        {"free -s 10 -c 12", "free-sample", {"-s", "10", "-c", "12"}},
        {"free -m", "free", {"-m"}},
    });
    expect_refused({
        // no count: the sampler would never end
        {"vmstat 1", "positional-count"},
        {"mpstat 1", "positional-count"},
        {"pidstat 1", "positional-count"},
        {"iostat 1", "bad-value"},
        {"free -s 1", "unknown-option"},
        {"top -b", "option-value"},
        // past the bounds: interval 1..10, count 1..12, top -n 1..5
        {"vmstat 11 5", "positional-count"},
        {"iostat -x 1 13", "bad-value"},
        {"iostat -x 0 5", "bad-value"},
        {"free -c 13", "unknown-option"},  // reported by the one-report rule free, which comes first
        {"free -s 11 -c 2", "unknown-option"},
        {"top -b -n 6", "bad-value"},
        {"top -b -n 1 -d 6", "bad-value"},
        // write, run, read another directory, or a file not typed as a path
        {"pidstat -e /bin/sh", "unknown-option"},
        {"pidstat -U root", "unknown-option"},
        {"iostat -f /tmp", "unknown-option"},
        {"sar -o /tmp/sa", "unknown-option"},
        {"sar -u 1 5", "positional-count"},
        {"sar -i 5", "unknown-option"},
        {"vmstat -m 1 5 -o /tmp/x", "unknown-option"},
        // top: interactive or wide forms
        {"top", "option-value"},
        {"top -n 1 -w 200", "unknown-option"},
        {"top -n 1 -O", "unknown-option"},
    });
}

// interval x count (and top's delay x iterations) stays below the rule's timeout: no accepted
// request can be cut off by it, so a sampler always ends by itself.
TEST(DefaultPolicyProbes, EverySampleFitsItsRulesTimeout) {
    const std::vector<std::string> forms = {"vmstat {i} {c}",    "mpstat {i} {c}",     "pidstat {i} {c}",
                                            "iostat -x {i} {c}", "free -s {i} -c {c}", "top -n {c} -d {i}"};
    for (const auto& form : forms) {
        size_t accepted = 0;
        for (int i = 1; i <= 20; ++i) {
            for (int c = 1; c <= 20; ++c) {
                std::string request = form;
                request.replace(request.find("{i}"), 3, std::to_string(i));
                request.replace(request.find("{c}"), 3, std::to_string(c));
                auto m = match(shipped(), request);
                if (!m.ok()) {
                    continue;
                }
                ++accepted;
                // top's delay may have a tenth more (5.9 s): count it as i + 1
                const uint64_t worst_ms = static_cast<uint64_t>((i + 1) * c) * 1000;
                EXPECT_LT(worst_ms, m->command->timeout_ms) << request;
            }
        }
        EXPECT_GE(accepted, 25u) << form;
    }
}

// dmesg reads the kernel log; it never clears it, changes the console, follows, pages, or reads a
// file named in the request.
TEST(DefaultPolicyProbes, DmesgReadsOnly) {
    expect_accepted({
        {"dmesg", "dmesg", {}},
        {"dmesg -T", "dmesg", {"-T"}},
        {"dmesg -T -l err,warn", "dmesg", {"-T", "-l", "err,warn"}},
        {"dmesg -x -k -l err+", "dmesg", {"-x", "-k", "-l", "err+"}},
        {"dmesg -f kern,daemon", "dmesg", {"-f", "kern,daemon"}},
        {"dmesg --since -1h", "dmesg", {"--since=-1h"}},
        {"dmesg --since '2026-12-06 10:00' --until now", "dmesg", {"--since=2026-12-06 10:00", "--until=now"}},
        {"dmesg --time-format iso -J", "dmesg", {"--time-format=iso", "-J"}},
    });
    expect_refused({
        {"dmesg -c", "unknown-option"},
        {"dmesg --read-clear", "unknown-option"},
        {"dmesg -C", "unknown-option"},
        {"dmesg --clear", "unknown-option"},
        {"dmesg -D", "unknown-option"},
        {"dmesg -E", "unknown-option"},
        {"dmesg -n 1", "unknown-option"},
        {"dmesg --console-level=1", "unknown-option"},
        {"dmesg -w", "unknown-option"},
        {"dmesg --follow", "unknown-option"},
        {"dmesg -W", "unknown-option"},
        {"dmesg --follow-new", "unknown-option"},
        {"dmesg -H", "unknown-option"},
        {"dmesg --human", "unknown-option"},
        {"dmesg -F /etc/shadow", "unknown-option"},
        {"dmesg -rF /etc/shadow", "unknown-option"},
        {"dmesg --file=/etc/shadow", "unknown-option"},
        {"dmesg -K /etc/shadow", "unknown-option"},
        {"dmesg -s 1", "unknown-option"},
        {"dmesg -L", "unknown-option"},
        {"dmesg -l panic", "bad-value"},
        {"dmesg -f kern;id", "parse-metachar"},
        {"dmesg /etc/shadow", "positional-count"},
    });
}

// mount with no operand lists; every other form mounts.
TEST(DefaultPolicyProbes, MountOnlyLists) {
    expect_accepted(
        {{"mount", "mount", {}}, {"mount -l", "mount", {"-l"}}, {"mount -t ext4,xfs", "mount", {"-t", "ext4,xfs"}}});
    expect_refused({
        {"mount /dev/sda1 /mnt", "positional-count"},
        {"mount -a", "unknown-option"},
        {"mount -o bind /bin/sh /bin/mount", "unknown-option"},
        {"mount --bind /a /b", "unknown-option"},
        {"mount -T /tmp/fstab -a", "unknown-option"},
        {"mount -N 1 /a", "unknown-option"},
        {"mount -t 'ext4 -o'", "bad-value"},
    });
}

// Time, host and session probes: read verbs, with the pager and password prompts off; every verb
// that sets something is refused.
TEST(DefaultPolicyProbes, HostAndSessionProbesReadVerbsOnly) {
    expect_accepted({
        {"timedatectl", "timedatectl-bare", {"--no-pager", "--no-ask-password"}},
        {"timedatectl status", "timedatectl", {"status", "--no-pager", "--no-ask-password"}},
        {"timedatectl show -p NTPSynchronized --value", "timedatectl", {}},
        {"timedatectl timesync-status", "timedatectl", {}},
        {"timedatectl list-timezones", "timedatectl", {"list-timezones", "--no-pager", "--no-ask-password"}},
        {"hostnamectl", "hostnamectl", {"--no-ask-password"}},
        {"hostnamectl status --json=pretty", "hostnamectl", {"--no-ask-password", "--json=pretty", "--", "status"}},
        {"loginctl", "loginctl-bare", {}},
        {"loginctl list-sessions", "loginctl", {"list-sessions", "--no-pager", "--no-ask-password"}},
        {"loginctl user-status alice -n 5", "loginctl", {}},
        {"loginctl show-session 3 -p State", "loginctl", {}},
        {"who", "who", {}},
        {"who -b", "who", {"-b"}},
        {"who -a -H", "who", {}},
        {"w", "w", {}},
        {"w -h alice", "w", {"-h", "--", "alice"}},
        {"last -n 20", "last", {"-n", "20"}},
        {"last -n 10 reboot", "last", {"-n", "10", "--", "reboot"}},
        {"last -n 50 -x -F --since yesterday", "last", {}},
        {"networkctl list", "networkctl", {"list", "--no-pager"}},
        {"networkctl status eth0", "networkctl", {"status", "--no-pager", "--", "eth0"}},
        {"networkctl status 'en*'", "networkctl", {}},
        {"resolvectl status", "resolvectl", {"status", "--no-pager"}},
        {"resolvectl statistics", "resolvectl", {}},
        {"resolvectl dns", "resolvectl-link", {"dns", "--no-pager"}},
        {"resolvectl domain eth0", "resolvectl-link", {}},
        {"resolvectl query example.com", "resolvectl-query", {"query", "--no-pager", "--", "example.com"}},
        {"resolvectl query -t MX example.com", "resolvectl-query", {}},
    });
    expect_refused({
        {"timedatectl set-time 12:00", "positional-count"},
        {"timedatectl set-timezone UTC", "positional-count"},
        {"timedatectl set-ntp false", "positional-count"},
        {"timedatectl timesync-status --monitor", "unknown-option"},
        {"timedatectl status -H root@192.0.2.1", "unknown-option"},
        {"timedatectl status -M other", "unknown-option"},
        {"hostnamectl hostname evil", "positional-count"},
        {"hostnamectl hostname", "bad-value"},
        {"hostnamectl set-hostname evil", "positional-count"},
        {"hostnamectl --static", "unknown-option"},
        {"loginctl terminate-session 3", "positional-count"},
        {"loginctl kill-user alice", "positional-count"},
        {"loginctl enable-linger alice", "positional-count"},
        {"loginctl lock-sessions", "positional-count"},
        {"loginctl user-status -s KILL alice", "unknown-option"},
        {"loginctl user-status --kill-whom=all", "unknown-option"},
        {"who /var/log/wtmp", "positional-count"},
        {"who --lookup", "unknown-option"},
        {"w alice bob", "positional-count"},
        {"last", "option-value"},
        {"last -n 10 -f /etc/shadow", "unknown-option"},
        {"last -n 10 --file=/etc/shadow", "unknown-option"},
        {"last -n 10 -d", "unknown-option"},
        {"last -10", "unknown-option"},
        {"last -n 100000", "bad-value"},
        {"networkctl up eth0", "unknown-subcommand"},
        {"networkctl reload", "unknown-subcommand"},
        {"networkctl delete br0", "unknown-subcommand"},
        {"resolvectl flush-caches", "unknown-subcommand"},
        {"resolvectl dns eth0 1.1.1.1", "positional-count"},
        {"resolvectl domain eth0 evil.example", "positional-count"},
        {"resolvectl monitor", "unknown-subcommand"},
        {"resolvectl query --raw example.com", "unknown-option"},
        {"resolvectl status --set-dns=1.1.1.1 -i eth0", "unknown-option"},
    });
}

TEST(DefaultPolicyProbes, SystemdReadFormsAndBootTiming) {
    expect_accepted({
        {"systemctl", "systemctl", {"--no-pager"}},
        {"systemctl --failed", "systemctl", {"--no-pager", "--failed"}},
        {"systemctl --version", "systemctl", {"--no-pager", "--version"}},
        {"systemctl --type=service --state=running", "systemctl", {}},
        {"systemctl list-jobs", "systemctl-list-jobs", {"list-jobs", "--no-pager"}},
        {"systemctl list-sockets --all", "systemctl-list-sockets", {"list-sockets", "--no-pager", "--all"}},
        // unit patterns reach the unit-typed operand: systemctl matches them, never the file system
        {"systemctl status 'podman-*'", "systemctl-status", {"status", "--no-pager", "--", "podman-*"}},
        {"systemctl is-failed 'nginx*' 'php-fpm@?.service'", "systemctl-is-failed", {}},
        {"systemd-analyze time", "systemd-analyze-time", {"time", "--no-pager"}},
        {"systemd-analyze blame", "systemd-analyze-blame", {"blame", "--no-pager"}},
        {"systemd-analyze critical-chain", "systemd-analyze-critical-chain", {}},
        {"systemd-analyze critical-chain nginx.service --fuzz 1s",
         "systemd-analyze-critical-chain",
         {"critical-chain", "--no-pager", "--fuzz=1s", "--", "nginx.service"}},
    });
    expect_refused({
        // a verb that changes state is an operand the bare rule does not take
        {"systemctl restart nginx", "positional-count"},
        {"systemctl start nginx", "positional-count"},
        {"systemctl edit nginx", "positional-count"},
        {"systemctl link /tmp/x.service", "positional-count"},
        {"systemctl --failed -H root@192.0.2.1", "unknown-option"},
        {"systemctl --user --failed", "unknown-option"},
        {"systemctl --root=/ --failed", "unknown-option"},
        {"systemctl status 'a;b'", "bad-value"},
        {"systemctl status '-H'", "unknown-option"},
        {"systemd-analyze verify /tmp/x.service", "unknown-subcommand"},
        {"systemd-analyze cat-config /etc/shadow", "unknown-subcommand"},
        {"systemd-analyze security --offline=true /tmp/x.service", "unknown-subcommand"},
        {"systemd-analyze plot", "unknown-subcommand"},
        {"systemd-analyze dot", "unknown-subcommand"},
        {"systemd-analyze blame --user", "unknown-option"},
        {"systemd-analyze time -H root@192.0.2.1", "unknown-option"},
        {"systemd-analyze critical-chain --root=/tmp", "unknown-option"},
    });
}

// Compressed logs and hashes are content reads of typed paths; readlink and realpath are metadata.
TEST(DefaultPolicyProbes, CompressedLogsHashesAndCanonicalPaths) {
    expect_accepted({
        {"zcat /var/log/syslog.2.gz", "zcat", {"-c", "-d", "--", "/var/log/syslog.2.gz"}},
        {"zcat -f /var/log/syslog.1", "zcat", {"-c", "-d", "-f", "--", "/var/log/syslog.1"}},
        {"xzcat /var/log/a.xz", "xzcat", {"--decompress", "--stdout", "--", "/var/log/a.xz"}},
        {"zstdcat /var/log/a.zst", "zstdcat", {"--decompress", "--stdout", "--", "/var/log/a.zst"}},
        {"sha256sum /etc/os-release", "sha256sum", {"--", "/etc/os-release"}},
        {"readlink -f /etc/localtime", "readlink", {"-f", "--", "/etc/localtime"}},
        {"realpath /etc/os-release", "realpath", {"--", "/etc/os-release"}},
    });
    for (const char* request : {"zcat /var/log/a.gz", "xzcat /var/log/a.xz", "zstdcat /a.zst", "sha256sum /a"}) {
        auto m = match(shipped(), request);
        ASSERT_TRUE(m.ok()) << request;
        ASSERT_EQ(m->paths.size(), 1u) << request;
        EXPECT_EQ(m->paths[0].use, path_resolve::Use::kContent) << request;
    }
    for (const char* request : {"readlink -f /etc/localtime", "realpath /etc"}) {
        auto m = match(shipped(), request);
        ASSERT_TRUE(m.ok()) << request;
        EXPECT_EQ(m->paths[0].use, path_resolve::Use::kMetadata) << request;
    }
    expect_refused({
        {"zcat", "positional-count"},
        {"zcat -r /var/log", "unknown-option"},
        {"zcat -k /var/log/a.gz", "unknown-option"},
        {"zcat --to-stdout /var/log/a.gz", "unknown-option"},
        {"xzcat --files=/etc/list", "unknown-option"},
        {"xzcat --files0=/etc/list", "unknown-option"},
        {"xzcat -z /var/log/a", "unknown-option"},
        {"zstdcat -o /tmp/x /var/log/a.zst", "unknown-option"},
        {"zstdcat --rm /var/log/a.zst", "unknown-option"},
        {"zstdcat --filelist=/etc/list", "unknown-option"},
        {"zstdcat -D /etc/shadow /var/log/a.zst", "unknown-option"},
        {"zstdcat -r /var/log", "unknown-option"},
        {"zgrep error /var/log/a.gz", "unknown-command"},
        {"sha256sum -c /tmp/sums", "unknown-option"},
        {"sha256sum --check /tmp/sums", "unknown-option"},
        {"sha256sum", "positional-count"},
        {"readlink /etc/localtime", "option-value"},
        {"readlink -f -m /nonexistent", "unknown-option"},
        {"readlink -e /etc/localtime", "unknown-option"},
        {"realpath -m /nonexistent", "unknown-option"},
        {"realpath -s /etc/localtime", "unknown-option"},
        {"realpath --relative-to=/root /etc", "unknown-option"},
    });
}

// help lists the shipped rules in sections; the new rules each name one.
TEST(DefaultPolicyProbes, EveryNewRuleNamesAFamily) {
    for (const auto& c : shipped().commands) {
        if (c.id == "du" || c.id == "find" || c.id == "grep" || c.id == "grep-e" || c.id == "ls") {
            continue;  // rules of issue #15's tree pruning: their family comes with it
        }
        EXPECT_FALSE(c.family.empty()) << c.id;
    }
}

}  // namespace
}  // namespace diag::policy_loader
