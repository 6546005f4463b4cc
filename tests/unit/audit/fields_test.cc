// SPDX-License-Identifier: Apache-2.0
// diag-audit record fields: timestamps as the records and --since/--until write them.
#include "wrapper/audit/fields.h"

#include <gtest/gtest.h>

namespace diag::audit_reader {
namespace {

TEST(AuditReader, ParsesTimestamps) {
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_timestamp("2026-11-23T14:10:29.512345Z"), 1795443029512345);
    EXPECT_EQ(parse_timestamp("2026-11-23T14:10:29.5Z"), 1795443029500000);
    EXPECT_EQ(parse_timestamp("2026-11-23 14:10:29"), 1795443029000000);
    EXPECT_EQ(parse_timestamp("2026-11-23T15:10:29+01:00"), 1795443029000000);
    EXPECT_EQ(parse_timestamp("2026-11-23T13:10:29-0100"), 1795443029000000);
    EXPECT_EQ(parse_timestamp("2026-11-23T14:10Z"), 1795443000000000);
    EXPECT_EQ(parse_timestamp("2026-11-23"), 1795392000000000);
    EXPECT_EQ(parse_timestamp("2024-02-29"), 1709164800000000);
    for (const char* bad :
         {"", "2026", "2026-11-23T", "2026-13-01", "2026-02-29", "2026-11-23T24:00:00Z", "2026-11-23T14:10:29.Z",
          "2026-11-23T14:10:29Zjunk", "2026-11-23X14:00", "26-11-23", "2026-11-23T14:10:29+25:00"}) {
        EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace diag::audit_reader
