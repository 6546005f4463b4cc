// SPDX-License-Identifier: Apache-2.0
// Executable pinning: what gets pinned, and when a command is unavailable instead.
#include "wrapper/policy/pin.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace diag::policy_loader {
namespace {

policy::Command command_running(const std::string& program) {
    policy::Command c;
    c.id = "t";
    c.program = program;
    return c;
}

TEST(Pin, PinsTheFileItFindsByDeviceAndInode) {
    auto c = command_running("cat");
    pin(c, {"/usr/bin", "/bin"});
    if (!c.unavailable.empty()) {
        GTEST_SKIP() << "no trusted cat on this host: " << c.unavailable;
    }
    struct stat st {};
    ASSERT_EQ(::stat(c.exe_path.c_str(), &st), 0) << c.exe_path;
    EXPECT_EQ(c.exe_dev, st.st_dev);
    EXPECT_EQ(c.exe_ino, st.st_ino);
}

TEST(Pin, MissingProgramIsUnavailableNotAnError) {
    auto c = command_running("definitely-not-installed-diag");
    pin(c, {"/usr/bin", "/bin"});
    EXPECT_EQ(c.unavailable, "'definitely-not-installed-diag' not found in the search path");
    EXPECT_TRUE(c.exe_path.empty());
}

// The first directory that has the program decides: an untrusted copy there makes the command
// unavailable rather than falling through to a trusted one later in the search path.
TEST(Pin, UntrustedFirstCandidateMakesTheCommandUnavailable) {
    char tmpl[] = "/tmp/diagpin.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    ::chmod(dir.c_str(), 0777);  // writable by anyone: nothing in it can be trusted
    std::ofstream(dir + "/cat") << "#!/bin/sh\n";
    ::chmod((dir + "/cat").c_str(), 0755);
    auto c = command_running("cat");
    pin(c, {dir, "/usr/bin", "/bin"});
    std::filesystem::remove_all(dir);
    EXPECT_FALSE(c.unavailable.empty());
    EXPECT_TRUE(c.exe_path.empty()) << c.exe_path;
}

}  // namespace
}  // namespace diag::policy_loader
