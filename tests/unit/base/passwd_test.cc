// SPDX-License-Identifier: Apache-2.0
// passwd(5) lookups: the first local entry wins; NIS compat lines are never an answer.
#include "wrapper/base/passwd.h"

#include <gtest/gtest.h>

#include <string>

namespace diag::util {
namespace {

TEST(Util, PasswdNameIsTheFirstEntryWithThatUid) {
    const std::string text =
        "root:x:0:0:root:/root:/bin/bash\n"
        "+nisuser:x:1000:1000::/:/bin/sh\n"  // NIS compat: never a local answer
        "broken line without fields\n"
        ":x:1001:1001::/:/bin/sh\n"  // empty name
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
        "#diag:x:7:7::/:/bin/sh\n"  // a comment, not an entry
        "+diag:x:8:8::/:/bin/sh\n"  // NIS compat: never a local answer
        "diag:x:1001:1001::/var/empty:/bin/sh\n"
        "diag:x:1002:1002::/var/empty:/bin/sh\n"  // a second entry: glibc answers the first
        "broken:x:99999999999:1::/:/bin/sh\n"     // uid out of range
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
