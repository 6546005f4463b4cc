#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes wrapper/base/text_safety_table.inc: the code points text_safety::escape() shows as \\u{XXXX}.

Inputs are the Unicode Character Database files (Debian: apt-get install unicode-data, which puts
them in /usr/share/unicode; nixpkgs: unicode-character-database):
  DerivedCoreProperties.txt  -> every Default_Ignorable_Code_Point (invisible by definition)
  UnicodeData.txt            -> general categories Cc (controls), Cf (format), Zl, Zp (line and
                                paragraph separators), Zs (spaces other than U+0020)
plus a short hand-kept list of quote and backquote lookalikes (LOOKALIKES below), which are
visible but let a request pose as the end of the quoting diag-audit puts around it.

Usage: scripts/gen_text_safety.py [UCD_DIR] > wrapper/base/text_safety_table.inc
Rerun when a new Unicode version is adopted and commit the result with its version line.
"""
import re
import sys

# Visible characters that read as ` ' or " in a terminal font. Escaping them costs curly
# apostrophes in ordinary prose; diag-audit shows commands and identifiers, where they are rare
# and where a forged closing quote is the attack (ADR 0009).
LOOKALIKES = {
    0x00B4: "ACUTE ACCENT",
    0x02B9: "MODIFIER LETTER PRIME",
    0x02BA: "MODIFIER LETTER DOUBLE PRIME",
    0x02BB: "MODIFIER LETTER TURNED COMMA",
    0x02BC: "MODIFIER LETTER APOSTROPHE",
    0x02BD: "MODIFIER LETTER REVERSED COMMA",
    0x02C8: "MODIFIER LETTER VERTICAL LINE",
    0x02CA: "MODIFIER LETTER ACUTE ACCENT",
    0x02CB: "MODIFIER LETTER GRAVE ACCENT",
    0x02EE: "MODIFIER LETTER DOUBLE APOSTROPHE",
    0x02F4: "MODIFIER LETTER MIDDLE GRAVE ACCENT",
    0x0374: "GREEK NUMERAL SIGN",
    0x055A: "ARMENIAN APOSTROPHE",
    0x05F3: "HEBREW PUNCTUATION GERESH",
    0x05F4: "HEBREW PUNCTUATION GERSHAYIM",
    0x1FEF: "GREEK VARIA",
    0x1FFD: "GREEK OXIA",
    0x2018: "LEFT SINGLE QUOTATION MARK",
    0x2019: "RIGHT SINGLE QUOTATION MARK",
    0x201A: "SINGLE LOW-9 QUOTATION MARK",
    0x201B: "SINGLE HIGH-REVERSED-9 QUOTATION MARK",
    0x201C: "LEFT DOUBLE QUOTATION MARK",
    0x201D: "RIGHT DOUBLE QUOTATION MARK",
    0x201E: "DOUBLE LOW-9 QUOTATION MARK",
    0x201F: "DOUBLE HIGH-REVERSED-9 QUOTATION MARK",
    0x2032: "PRIME",
    0x2033: "DOUBLE PRIME",
    0x2035: "REVERSED PRIME",
    0x2036: "REVERSED DOUBLE PRIME",
    0x275B: "HEAVY SINGLE TURNED COMMA QUOTATION MARK ORNAMENT",
    0x275C: "HEAVY SINGLE COMMA QUOTATION MARK ORNAMENT",
    0x275D: "HEAVY DOUBLE TURNED COMMA QUOTATION MARK ORNAMENT",
    0x275E: "HEAVY DOUBLE COMMA QUOTATION MARK ORNAMENT",
    0x301D: "REVERSED DOUBLE PRIME QUOTATION MARK",
    0x301E: "DOUBLE PRIME QUOTATION MARK",
    0x301F: "LOW DOUBLE PRIME QUOTATION MARK",
    0xA78C: "LATIN SMALL LETTER SALTILLO",
    0xFF02: "FULLWIDTH QUOTATION MARK",
    0xFF07: "FULLWIDTH APOSTROPHE",
    0xFF40: "FULLWIDTH GRAVE ACCENT",
}

CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Zs"}

# Zs is every space; the ASCII one is the separator the reader itself prints. The others look
# like it but are not where a request splits its arguments (cat<U+2009>/etc/shadow is one word).
KEPT = {0x0020}

# Visible only as blanks or as strokes over the neighbouring character (over a closing quote,
# too): the braille blank, and the combining overlays.
BLANKS_AND_OVERLAYS = {
    0x2800: "BRAILLE PATTERN BLANK",
    0x0334: "COMBINING TILDE OVERLAY",
    0x0335: "COMBINING SHORT STROKE OVERLAY",
    0x0336: "COMBINING LONG STROKE OVERLAY",
    0x0337: "COMBINING SHORT SOLIDUS OVERLAY",
    0x0338: "COMBINING LONG SOLIDUS OVERLAY",
    0x20D2: "COMBINING LONG VERTICAL LINE OVERLAY",
    0x20D3: "COMBINING SHORT VERTICAL LINE OVERLAY",
    0x20E5: "COMBINING REVERSE SOLIDUS OVERLAY",
    0x20EB: "COMBINING LONG DOUBLE SOLIDUS OVERLAY",
}


def derived_ignorable(path):
    out, version = set(), "unknown"
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"# DerivedCoreProperties-(\d+\.\d+\.\d+)\.txt", line)
            if m:
                version = m.group(1)
            body = line.split("#", 1)[0].strip()
            if not body:
                continue
            cps, prop = (x.strip() for x in body.split(";")[:2])
            if prop != "Default_Ignorable_Code_Point":
                continue
            lo, _, hi = cps.partition("..")
            out.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return out, version


def by_category(path):
    out, first = set(), None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split(";")
            cp, name, cat = int(fields[0], 16), fields[1], fields[2]
            if name.endswith(", First>"):
                first = cp
                continue
            start = first if name.endswith(", Last>") else cp
            first = None
            if cat in CATEGORIES:
                out.update(range(start, cp + 1))
    return out


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and cp == out[-1][1] + 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def main():
    ucd = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
    ignorable, version = derived_ignorable(ucd + "/DerivedCoreProperties.txt")
    cats = by_category(ucd + "/UnicodeData.txt")
    table = ranges((ignorable | cats | set(LOOKALIKES) | set(BLANKS_AND_OVERLAYS)) - KEPT)
    print("// SPDX-License-Identifier: Apache-2.0")
    print("// Generated by scripts/gen_text_safety.py from the Unicode Character Database " + version + ":")
    print("// Default_Ignorable_Code_Point, general categories Cc Cf Zl Zp Zs (but U+0020), quote/backquote")
    print("// lookalikes, blanks and overlays. Do not edit; rerun the script. Sorted, disjoint, inclusive.")
    print("// clang-format off")
    print('inline constexpr const char* kUnicodeVersion = "%s";' % version)
    print("inline constexpr CodePointRange kEscapedRanges[] = {")
    for lo, hi in table:
        print("    {0x%04X, 0x%04X}," % (lo, hi))
    print("};")
    print("// clang-format on")


if __name__ == "__main__":
    main()
