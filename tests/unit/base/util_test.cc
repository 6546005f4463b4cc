// SPDX-License-Identifier: Apache-2.0

#include <fnmatch.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "wrapper/base/encoding.h"
#include "wrapper/base/parse.h"
#include "wrapper/base/passwd.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"

namespace diag::util {
namespace {
using text_safety::find_control;
using text_safety::printable;
using text_safety::valid_utf8;

TEST(Util, DurationsParseToMilliseconds) {
    EXPECT_EQ(parse_duration_ms("500ms"), 500u);
    EXPECT_EQ(parse_duration_ms("30s"), 30000u);
    EXPECT_EQ(parse_duration_ms("5min"), 300000u);
    EXPECT_EQ(parse_duration_ms("1h30min"), 5400000u);
    EXPECT_EQ(parse_duration_ms("2d"), 172800000u);
    for (const char* bad : {"", "s", "5", "5 s", "-5s", "5sec", "99999999999999999999s", "5x"}) {
        EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
    }
}

TEST(Util, SizesParseToBytes) {
    EXPECT_EQ(parse_size("65536"), 65536u);
    EXPECT_EQ(parse_size("64KiB"), 65536u);
    EXPECT_EQ(parse_size("16M"), 16u * 1024 * 1024);
    EXPECT_EQ(parse_size("1GiB"), 1024u * 1024 * 1024);
    for (const char* bad : {"", "K", "1T", "1 K", "-1", "99999999999999999999"}) {
        EXPECT_FALSE(parse_size(bad).has_value()) << bad;
    }
}

TEST(Util, FieldsSplitOnRunsOfWhitespace) {
    using V = std::vector<std::string_view>;
    EXPECT_EQ(fields(""), V{});
    EXPECT_EQ(fields(" \t\n"), V{});
    EXPECT_EQ(fields("192.0.2.7 50000 127.0.0.1 22"), (V{"192.0.2.7", "50000", "127.0.0.1", "22"}));
    EXPECT_EQ(fields("  a\tb\n\nc  "), (V{"a", "b", "c"}));
    // /proc/PID/stat after "(comm)": state, then ppid.
    EXPECT_EQ(fields(" S 527 527 19223"), (V{"S", "527", "527", "19223"}));
}

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

TEST(Util, PathWithinIsComponentWise) {
    EXPECT_TRUE(path_within("/tmp", "/tmp"));
    EXPECT_TRUE(path_within("/tmp/x", "/tmp"));
    EXPECT_FALSE(path_within("/tmpfiles", "/tmp"));  // docs/bypass-catalogue.md B.20
    EXPECT_TRUE(path_within("/anything", "/"));
}

TEST(Util, Utf8Validation) {
    EXPECT_TRUE(valid_utf8("plain"));
    EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
    EXPECT_FALSE(valid_utf8("\xc3"));
    EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));  // overlong
    EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(Util, PrintableEscapesControls) {
    EXPECT_EQ(printable("a\nb\x1b[2J"), "a\\x0ab\\x1b[2J");
    EXPECT_EQ(printable("\xff"), "\\xff");
    EXPECT_EQ(printable("a\xc2\x9b" "2J"), "a\\u{009B}2J");  // C1 CSI: one code point, shown as one
    EXPECT_EQ(printable("x\xe2\x80\xae" "y\xe2\x80\xa8" "z\xe2\x81\xa6"), "x\\u{202E}y\\u{2028}z\\u{2066}");
    EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x80\x94"), "caf\xc3\xa9 \xe2\x80\x94");  // ordinary text untouched
}

TEST(Util, Base64MatchesRfc4648) {
    // RFC 4648 section 10 test vectors.
    const char* vectors[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
                                {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& v : vectors) {
        EXPECT_EQ(base64_encode(v[0]), v[1]);
        EXPECT_EQ(base64_decode(v[1]), std::string(v[0]));
    }
    EXPECT_EQ(base64_encode("fo", false), "Zm8");
    EXPECT_EQ(base64_decode("Zm8"), std::string("fo"));
    EXPECT_FALSE(base64_decode("Zm9v!").has_value());
    const std::string bytes("\x00\xff\x80\n", 4);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
}

TEST(Util, IntsParseWithSignAndWithoutOverflow) {
    EXPECT_EQ(parse_int("-5"), -5);
    EXPECT_EQ(parse_int("+7"), 7);
    EXPECT_FALSE(parse_int("1e3").has_value());
    EXPECT_FALSE(parse_int("9999999999999999999999").has_value());
    EXPECT_FALSE(parse_int("-").has_value());
}

TEST(Util, GlobEscapeMatchesExactlyTheLiteral) {
    const std::string names[] = {"plain", "v[1]", "a*b", "q?", "back\\slash", "[!x]", "*"};
    for (const auto& n : names) {
        const std::string pat = glob_escape(n);
        EXPECT_EQ(::fnmatch(pat.c_str(), n.c_str(), 0), 0) << n;
        EXPECT_FALSE(has_glob(pat)) << n;  // nothing in it is a wildcard any more
        EXPECT_EQ(glob_unescape(pat), n);
    }
    EXPECT_NE(::fnmatch(glob_escape("v[1]").c_str(), "v1", 0), 0);
    EXPECT_NE(::fnmatch(glob_escape("a*b").c_str(), "axxb", 0), 0);
    EXPECT_EQ(glob_escape("/srv/app"), "/srv/app");
    EXPECT_TRUE(has_glob("a\\\\*"));  // an escaped backslash, then a real wildcard
    EXPECT_FALSE(has_glob("a\\*"));
}

TEST(Util, PasswdNameIsTheFirstEntryWithThatUid) {
    const std::string text =
        "root:x:0:0:root:/root:/bin/bash\n"
        "+nisuser:x:1000:1000::/:/bin/sh\n"  // NIS compat: never a local answer
        "broken line without fields\n"
        ":x:1001:1001::/:/bin/sh\n"           // empty name
        "diag:x:1001:1001:diag:/var/empty:/usr/bin/diag-wrapper\n"
        "alias:x:1001:1001::/:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";  // no final newline
    EXPECT_EQ(passwd_name(text, 0), "root");
    EXPECT_EQ(passwd_name(text, 1001), "diag");
    EXPECT_EQ(passwd_name(text, 65534), "nobody");
    EXPECT_FALSE(passwd_name(text, 1000).has_value());
    EXPECT_FALSE(passwd_name(text, 42).has_value());
    EXPECT_FALSE(passwd_name("x:y:-1:0::/:/bin/sh\n", 4294967295U).has_value());
    EXPECT_FALSE(passwd_name("x:y:+7:0::/:/bin/sh\n", 7).has_value());
    EXPECT_FALSE(passwd_name("", 0).has_value());
    // glibc's files source skips comments and blank lines, ignores leading blanks and needs
    // every field: the name it gives is the one recorded.
    const std::string odd =
        "#olddiag:x:4242:4242::/:/bin/sh\n"
        "\n"
        "diag:x:4242:4242::/:/bin/sh\n"
        "  spaced:x:4243:4243::/:/bin/sh\n"
        "short:x:4244:\n"
        "real4244:x:4244:4244::/:/bin/sh\n"
        "badgid:x:4245:g::/:/bin/sh\n"
        "extra:x:4246:4246::/:/bin/sh:more\n";
    EXPECT_EQ(passwd_name(odd, 4242), "diag");
    EXPECT_EQ(passwd_name(odd, 4243), "spaced");
    EXPECT_EQ(passwd_name(odd, 4244), "real4244");
    EXPECT_FALSE(passwd_name(odd, 4245).has_value());
    EXPECT_FALSE(passwd_name(odd, 4246).has_value());
}

TEST(Util, PasswdUidIsTheFirstEntryWithThatName) {
    const std::string text =
        "root:x:0:0:root:/root:/bin/bash\n"
        "#diag:x:7:7::/:/bin/sh\n"                 // a comment, not an entry
        "+diag:x:8:8::/:/bin/sh\n"                 // NIS compat: never a local answer
        "diag:x:1001:1001::/var/empty:/bin/sh\n"
        "diag:x:1002:1002::/var/empty:/bin/sh\n"   // a second entry: glibc answers the first
        "broken:x:99999999999:1::/:/bin/sh\n"      // uid out of range
        "nobody:x:65534:65534::/:/usr/sbin/nologin";
    EXPECT_EQ(passwd_uid(text, "root"), 0u);
    EXPECT_EQ(passwd_uid(text, "diag"), 1001u);
    EXPECT_EQ(passwd_uid(text, "nobody"), 65534u);
    EXPECT_FALSE(passwd_uid(text, "broken").has_value());
    EXPECT_FALSE(passwd_uid(text, "dia").has_value());
    EXPECT_FALSE(passwd_uid(text, "").has_value());
}

}  // namespace
}  // namespace diag::util
