// SPDX-License-Identifier: Apache-2.0
// The one text-safety decision: every code point of the generated table is shown escaped, and
// ordinary text of any script is kept byte for byte; CSV cells are never formulas.
#include "wrapper/base/text_safety.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace diag::text_safety {
namespace {

std::string utf8(uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        s += static_cast<char>(0xF0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

std::string shown(uint32_t cp) {
    char buf[16];
    if (cp < 0x20 || cp == 0x7F) {
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
    } else {
        std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
    }
    return buf;
}

// The examples, the tag block and the lookalike backquotes: each must be escaped.
constexpr uint32_t kMustEscape[] = {
    0x00AD,
    0x034F,
    0x115F,
    0x1160,
    0x3164,
    0xFFA0,
    0x180E,
    0xFE0F,
    0xFE00,
    0x2065,
    0xFFF9,
    0xFFFA,
    0xFFFB,
    0xE0001,
    0xE0041,
    0xE007F,
    0xE0100,
    0xE01EF,
    0x200B,
    0x200D,
    0x202E,
    0x2066,
    0x2069,
    0xFEFF,
    0x061C,
    0x2028,
    0x2029,
    0x0085,
    0x009B,
    0x1D173,
    0x1BCA0,
    0x02CB,
    0xFF40,
    0x2018,
    0x2019,
    0x201C,
    0x201D,
    0xFF02,
    0xFF07,
    0x2035,
    0x1FEF,
    0x0600,
    0x06DD,
    0x070F,
    // Review finding: spaces other than U+0020 (cat<U+2009>/etc/shadow is one word that reads as
    // two), the braille blank, and overlays that strike through a neighbour or a closing quote.
    0x00A0,
    0x1680,
    0x2000,
    0x2009,
    0x200A,
    0x202F,
    0x205F,
    0x3000,
    0x2800,
    0x0336,
    0x0338,
    0x20E5,
};

TEST(TextSafety, TableMatchesItsUnicodeVersion) {
    size_t count = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        count += must_escape(cp) ? 1u : 0u;
    }
    // Unicode 15.0: 4174 Default_Ignorable_Code_Point and 237 Cc, Cf, Zl, Zp, 16 Zs other than
    // U+0020, 40 lookalikes, 10 blanks and overlays, overlaps counted once. A regenerated table
    // changes both lines on purpose.
    EXPECT_EQ(unicode_version(), "15.0.0");
    EXPECT_EQ(count, 4339u);
}

TEST(TextSafety, EveryTableCodePointIsEscaped) {
    size_t checked = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            continue;  // not encodable in UTF-8
        }
        if (!must_escape(cp) || cp == '\\') {
            continue;
        }
        ASSERT_EQ(escape("a" + utf8(cp) + "b"), "a" + shown(cp) + "b") << std::hex << cp;
        ++checked;
    }
    EXPECT_GT(checked, 4200u);
    for (const uint32_t cp : kMustEscape) {
        EXPECT_TRUE(must_escape(cp)) << std::hex << cp;
        EXPECT_EQ(escape(utf8(cp)), shown(cp)) << std::hex << cp;
    }
}

TEST(TextSafety, HiddenSoftHyphenIsVisible) {
    // `cat /etc/sha<U+00AD>dow` must not read as `cat /etc/shadow`.
    EXPECT_EQ(escape("cat /etc/sha\xc2\xad"
                     "dow"),
              "cat /etc/sha\\u{00AD}dow");
    EXPECT_EQ(escape("x\xf3\xa0\x81\x81"), "x\\u{E0041}");  // TAG LATIN CAPITAL LETTER A
}

TEST(TextSafety, OrdinaryTextIsKept) {
    const std::string kept[] = {
        "uname -a",
        "ls -l /var/log/journal | head",
        "caf\xc3\xa9 na\xc3\xafve \xc3\x85ngstr\xc3\xb6m",                           // Latin with diacritics
        "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",                          // Cyrillic
        "\xce\xb1\xce\xb2\xce\xb3",                                                  // Greek
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",                                      // CJK
        "\xed\x95\x9c\xea\xb8\x80",                                                  // Hangul syllables (not fillers)
        "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a",                                          // Arabic letters
        "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80",  // Devanagari
        "\xf0\x9f\x98\x80 \xe2\x80\x94 \xe2\x80\xa6",                                // emoji, em dash, ellipsis
        "'single' \"double\" `back`",
    };
    for (const auto& s : kept) {
        EXPECT_EQ(escape(s), s) << s;
    }
    // Every assigned letter and digit of the Basic Multilingual Plane outside the table is kept.
    for (uint32_t cp = 0x20; cp < 0x10000; ++cp) {
        if ((cp >= 0xD800 && cp <= 0xDFFF) || must_escape(cp) || cp == '\\') {
            continue;
        }
        ASSERT_EQ(escape(utf8(cp)), utf8(cp)) << std::hex << cp;
    }
}

TEST(TextSafety, ControlsBackslashAndInvalidBytes) {
    EXPECT_EQ(escape("a\nb\x1b[2J\x7f"), "a\\x0ab\\x1b[2J\\x7f");
    EXPECT_EQ(escape("a\\x41"), "a\\\\x41");  // an escape in the output is always ours
    EXPECT_EQ(escape("\xff\xc3"), "\\xff\\xc3");
    EXPECT_EQ(escape("\xc0\xaf"), "\\xc0\\xaf");           // overlong "/"
    EXPECT_EQ(escape("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a UTF-16 surrogate
    EXPECT_EQ(escape("\xff"
                     "caf\xc3\xa9"),
              "\\xffcaf\xc3\xa9");  // one bad byte spoils nothing else
}

TEST(TextSafety, LengthCapNeverSplitsAUnit) {
    EXPECT_EQ(escape("abcdef", 3), "abc...");
    EXPECT_EQ(escape("ab\x1b"
                     "cdef",
                     3),
              "ab\\x1b...");
    EXPECT_EQ(escape("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9\xc3\xa9");  // nothing cut: no marker
    EXPECT_EQ(escape("\xc3\xa9\xc3\xa9\xc3\xa9", 3), "\xc3\xa9\xc3\xa9...");
    EXPECT_EQ(escape("abc", 3), "abc");
}

TEST(TextSafety, PrintableIsTheSameDecision) {
    // The wrapper's messages to the client and diag-audit show a string the same way.
    for (const std::string s : {"cat /etc/sha\xc2\xad"
                                "dow",
                                "x\xe2\x80\xae"
                                "y",
                                "a\xc2\x9b"
                                "2J",
                                "\xff", "cat \xcb\x8b; id", "caf\xc3\xa9"}) {
        EXPECT_EQ(text_safety::printable(s, 4096), escape(s)) << s;
    }
}

TEST(TextSafety, CsvFieldsAreNeverFormulas) {
    const std::pair<std::string, std::string> cases[] = {
        {"uname -a", "uname -a"},
        {"", ""},
        {"=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""},
        {"+1+1", "\"'+1+1\""},
        {"-2+3", "\"'-2+3\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tcmd", "\"'\\x09cmd\""},
        {"\rcmd", "\"'\\x0dcmd\""},
        {";=1+1", "\"';=1+1\""},
        {"ls a;=cmd|' /C calc'!A0", "\"'ls a;=cmd|' /C calc'!A0\""},
        {"a,b", "\"a,b\""},
        {" padded", "\" padded\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
    };
    for (const auto& [raw, want] : cases) {
        EXPECT_EQ(csv_field(raw), want) << raw;
    }
}

TEST(Util, Utf8Validation) {
    EXPECT_TRUE(valid_utf8("plain"));
    EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
    EXPECT_FALSE(valid_utf8("\xc3"));
    EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));      // overlong
    EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(Util, PrintableEscapesControls) {
    EXPECT_EQ(printable("a\nb\x1b[2J"), "a\\x0ab\\x1b[2J");
    EXPECT_EQ(printable("\xff"), "\\xff");
    EXPECT_EQ(printable("a\xc2\x9b"
                        "2J"),
              "a\\u{009B}2J");  // C1 CSI: one code point, shown as one
    EXPECT_EQ(printable("x\xe2\x80\xae"
                        "y\xe2\x80\xa8"
                        "z\xe2\x81\xa6"),
              "x\\u{202E}y\\u{2028}z\\u{2066}");
    EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x80\x94"), "caf\xc3\xa9 \xe2\x80\x94");  // ordinary text untouched
}

}  // namespace
}  // namespace diag::text_safety
