// SPDX-License-Identifier: Apache-2.0
// diag-audit --command: a regular-expression search whose time is linear in the text and whose
// stack use does not depend on the text at all. A request is chosen by the client being audited
// and may be megabytes long; std::regex (libstdc++) recurses once per character on some patterns
// and dies of SIGSEGV on a 40 KB command, so record data never reaches a backtracking matcher.
//
// The pattern is compiled to a small program and run as a Pike VM (a Thompson NFA simulation
// that keeps each program state at most once per input position): O(text x pattern) time,
// O(pattern) memory, no recursion on the text. Matching is by code point; a byte that is not
// well-formed UTF-8 matches only `.` and negated classes.
//
// Supported (an ECMAScript subset; anything else is a usage error, never silently literal):
//   literals; \ before a punctuation character makes it literal; \t \n \r \f \v \0; \xHH;
//   \uHHHH and \u{H...} (the form diag-audit prints for invisible characters)
//   .            any character except \n
//   [...] [^...] classes with ranges (a-z) and \d \w \s \D \W \S inside; [] matches nothing
//   \d \w \s \D \W \S   ASCII digit, word character, white space, and their complements
//   ^ $          start and end of the command (there is no multi-line mode)
//   * + ?        repetition (a following ? - lazy - is accepted and changes nothing for a search)
//   |  ( )  (?: )
// Not supported: {m,n}, back-references, look-around, \b \B, flags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::audit_pattern {

// Longest pattern accepted, in bytes, and deepest group nesting: they bound the program size and
// the compiler's recursion (which follows the pattern, never the text).
inline constexpr size_t kMaxPatternBytes = 4096;
inline constexpr int kMaxNesting = 64;

class Pattern {
  public:
    // Compiles `pattern`. Errors: kUsage naming the offset and what is wrong or unsupported.
    [[nodiscard]] static Result<Pattern> compile(std::string_view pattern);

    // True if the pattern matches anywhere in `text` (std::regex_search semantics).
    [[nodiscard]] bool search(std::string_view text) const;

    struct Range {
        uint32_t lo;
        uint32_t hi;
    };
    enum class Op : uint8_t { kSet, kSplit, kJmp, kBol, kEol, kMatch };
    struct Inst {
        Op op;
        uint32_t x = 0;  // kJmp / kSplit: first target; kSet: index into sets_
        uint32_t y = 0;  // kSplit: second target
    };

  private:
    std::vector<Inst> prog_;
    std::vector<std::vector<Range>> sets_;  // sorted, disjoint code point ranges

    friend class Compiler;
};

}  // namespace diag::audit_pattern
