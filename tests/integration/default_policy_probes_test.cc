// SPDX-License-Identifier: Apache-2.0
// The on-call probes of the shipped policy (issue #16, adr/0017) run for real under full
// confinement: where this machine has the tool (scripts/deps.sh installs them) each prints what
// an agent expects; the systemd probes need a running systemd and skip without one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/default_policy.h"

namespace diag::testing {
namespace {

bool have(const std::string& program) {
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
        if (::access((dir + program).c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

// One probe: skipped (and named in the test output) where the program is missing.
struct Probe {
    std::string program;
    std::string request;
    std::string pattern;
};

class DefaultPolicyProbes : public DefaultPolicy {
  protected:
    void run_probes(const std::vector<Probe>& probes) {
        for (const auto& p : probes) {
            if (!have(p.program)) {
                std::cout << "[ SKIPPED  ] " << p.request << ": " << p.program << " is not installed\n";
                continue;
            }
            SCOPED_TRACE(p.request);
            expect_works(p.request, p.pattern);
        }
    }
};

// Each sampler ends by itself, after as many reports as it was asked for.
TEST_F(DefaultPolicyProbes, SamplersEndByThemselves) {
    run_probes({
        {"vmstat", "vmstat", "swpd"},
        {"vmstat", "vmstat -s", "total memory"},
        {"mpstat", "mpstat", "%idle"},
        {"pidstat", "pidstat", "Linux"},
        {"pidstat", "pidstat 1 2", "Linux"},
        {"iostat", "iostat -xz", "avg-cpu"},
        {"top", "top -b -n 1", "PID +USER"},
    });
    struct Counted {
        std::string program;
        std::string request;
        std::string text;  // printed once per report
        size_t reports;
    };
    for (const Counted& c : std::vector<Counted>{
             {"vmstat", "vmstat -n 1 3", "\n", 5},         // two header lines, then one line per report
             {"mpstat", "mpstat -P ALL 1 2", " all ", 3},  // one row per report, and the average
             {"iostat", "iostat -xz 1 2", "avg-cpu", 2},
             {"top", "top -n 2 -d 0.5 -o %MEM", "Tasks:", 2},
             {"free", "free -m -s 1 -c 2", "Mem:", 2},
         }) {
        if (!have(c.program)) {
            std::cout << "[ SKIPPED  ] " << c.request << ": " << c.program << " is not installed\n";
            continue;
        }
        auto r = run_soc(policy_, c.request);
        EXPECT_EQ(r.exit_code, 0) << c.request << "\n" << r.err;
        size_t n = 0;
        for (size_t at = r.out.find(c.text); at != std::string::npos; at = r.out.find(c.text, at + 1)) {
            ++n;
        }
        EXPECT_EQ(n, c.reports) << c.request << "\n" << r.out;
    }
}

// sar reads collected history; the test collects two samples with sadc into its own file.
TEST_F(DefaultPolicyProbes, SarReadsAHistoryFileTypedAsAPath) {
    std::string sadc;
    for (const char* p : {"/usr/lib/sysstat/sadc", "/usr/libexec/sysstat/sadc", "/usr/lib64/sa/sadc"}) {
        if (::access(p, X_OK) == 0) {
            sadc = p;
        }
    }
    if (sadc.empty() || !have("sar")) {
        GTEST_SKIP() << "needs sysstat (sar, sadc)";
    }
    const std::string file = dir_ + "/pub/sa06";
    auto w = run_process({sadc, "1", "2", file}, {});
    ASSERT_EQ(w.exit_code, 0) << w.err;
    ::chmod(file.c_str(), 0644);
    expect_works("sar -u -f " + file, "%user");
    expect_works("sar -n DEV -f " + file, "IFACE");
    expect_works("sar -q -f " + file, "ldavg-1");
    // a denied path stays unreadable as a data file too
    auto r = run_soc(policy_, "sar -u -f " + dir_ + "/secret/canary.txt");
    EXPECT_EQ(r.exit_code, 126) << r.err;
}

TEST_F(DefaultPolicyProbes, KernelLogMountsAndLogins) {
    // The tests run as root, which reads the kernel log whatever kernel.dmesg_restrict says.
    run_probes({
        {"dmesg", "dmesg", "."},
        {"dmesg", "dmesg -T -x", "kern|user"},
        {"dmesg", "dmesg --since 2000-01-01 -l emerg,alert,crit,err,warn,notice,info,debug", "."},
        {"mount", "mount", " on / type "},
        {"mount", "mount -t proc", "^proc on /proc type proc"},
        {"who", "who -b", ".*"},
        {"w", "w", "USER"},
        {"last", "last -n 5", "wtmp begins"},
    });
}

TEST_F(DefaultPolicyProbes, CompressedLogsHashesAndCanonicalPaths) {
    const std::string log = dir_ + "/pub/app.log";
    write(log, "rotated line one\nrotated line two\n", 0644);
    for (const auto& [tool, ext] :
         std::vector<std::pair<std::string, std::string>>{{"gzip", ".gz"}, {"xz", ".xz"}, {"zstd", ".zst"}}) {
        if (!have(tool)) {
            continue;
        }
        auto c = run_process({"/bin/sh", "-c", tool + " -c < '" + log + "' > '" + log + ext + "'"}, {});
        ASSERT_EQ(c.exit_code, 0) << c.err;
        ::chmod((log + ext).c_str(), 0644);
    }
    run_probes({
        {"gzip", "zcat " + log + ".gz", "^rotated line one\nrotated line two\n$"},
        {"gzip", "zcat -f " + log, "^rotated line one\n"},
        {"gzip", "zcat " + log + ".gz | grep -c rotated", "^2\n$"},
        {"xz", "xzcat " + log + ".xz", "^rotated line one\nrotated line two\n$"},
        {"zstd", "zstdcat " + log + ".zst", "^rotated line one\nrotated line two\n$"},
        {"sha256sum", "sha256sum " + log, "^[0-9a-f]{64}  "},
        {"readlink", "readlink -f " + dir_ + "/pub/../pub/app.log", "^" + log + "\n$"},
        {"realpath", "realpath " + dir_ + "/pub", "^" + dir_ + "/pub\n$"},
    });
    // The canary stays unreadable in compressed form, and a decompressor gets no other program.
    if (have("gzip")) {
        auto r = run_process(
            {"/bin/sh", "-c", "gzip -c < '" + dir_ + "/secret/canary.txt' > '" + dir_ + "/secret/canary.gz'"}, {});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        for (const std::string& request :
             {"zcat " + dir_ + "/secret/canary.gz", "sha256sum " + dir_ + "/secret/canary.txt"}) {
            auto d = run_soc(policy_, request);
            EXPECT_EQ(d.exit_code, 126) << request << d.err;
            EXPECT_EQ(d.out.find(canary_), std::string::npos);
        }
    }
}

// The systemd probes talk to systemd over D-Bus: they need it running as init.
TEST_F(DefaultPolicyProbes, SystemdProbesWhereSystemdRuns) {
    expect_works("systemctl --version", "^systemd [0-9]+");
    if (!std::filesystem::exists("/run/systemd/system")) {
        GTEST_SKIP() << "systemd is not PID 1 here: systemctl --failed, timedatectl, hostnamectl, loginctl, "
                        "networkctl, resolvectl and systemd-analyze need its D-Bus services";
    }
    expect_works("systemctl --failed", "UNIT|0 loaded units");
    expect_works("systemctl list-jobs", "jobs|No jobs");
    expect_works("systemctl list-sockets", "LISTEN|sockets");
    expect_works("systemctl status 'systemd-*' -n 0", "systemd-");
    expect_works("systemd-analyze time", "Startup finished|startup");
    expect_works("systemd-analyze blame", "\\.service");
    expect_works("timedatectl", "Time zone|Local time");
    expect_works("timedatectl show -p Timezone --value", ".");
    expect_works("hostnamectl", "hostname");
    expect_works("loginctl list-sessions", "sessions|SESSION");
}

}  // namespace
}  // namespace diag::testing
