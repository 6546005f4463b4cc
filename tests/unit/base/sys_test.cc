// SPDX-License-Identifier: Apache-2.0
// The syscall seam's file helpers.
#include "wrapper/base/sys.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <optional>
#include <string>

namespace diag::util {
namespace {

// Never a silent prefix: a file larger than the bound is no file (mountinfo cut short would hide
// bind mounts of denied paths).
TEST(Util, ReadSmallFileIsWholeOrNothing) {
    char tmpl[] = "/tmp/diag-small.XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    const std::string text(10000, 'q');
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    EXPECT_EQ(sys::read_small_file(tmpl, 10000), text);
    EXPECT_EQ(sys::read_small_file(tmpl, 9999), std::nullopt);
    EXPECT_EQ(sys::read_small_file(tmpl, 100), std::nullopt);
    ::unlink(tmpl);
    EXPECT_EQ(sys::read_small_file(tmpl, 10000), std::nullopt);
    // /proc files report size 0 but have content.
    const auto self = sys::read_small_file("/proc/self/stat", 4096);
    ASSERT_TRUE(self.has_value());
    EXPECT_EQ(self->rfind(std::to_string(::getpid()) + " (", 0), 0u);
}

}  // namespace
}  // namespace diag::util
