// SPDX-License-Identifier: Apache-2.0
// Stage 1: the request string (SSH_ORIGINAL_COMMAND or -c) -> the words of each pipeline stage.
// Never a shell: a POSIX subset with single quotes, double quotes and backslash escapes, unquoted
// `|` between stages, and unquoted glob characters kept as a pattern for the wrapper to expand
// where the matched rule types the word as a path (glob.h). Nothing else expands.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::command {

inline constexpr size_t kMaxRequestBytes = 8192;  // docs/bypass-catalogue.md A.14: cap before parsing
inline constexpr size_t kMaxArgs = 64;            // words in the whole request, every stage together
inline constexpr size_t kMaxStages = 4;           // commands in one pipeline (adr/0013)
inline constexpr size_t kMaxArgBytes = 4096;

// Characters refused outside quotes (a shell would give them meaning). `|` separates stages and
// `*`, `?`, `[`, `]` make a word a glob; `!` directly after an unquoted `[` negates the bracket.
inline constexpr std::string_view kMetachars = ";&|<>()$`{}*?[]~#!";
inline constexpr std::string_view kGlobChars = "*?[]";

// One word of a stage.
struct Word {
    std::string text;     // quotes and escapes removed: the literal word
    std::string pattern;  // fnmatch(3) pattern: unquoted glob characters as typed, every quoted or
                          // escaped `*?[]\` escaped with a backslash; equals `text` when !glob
    bool glob = false;    // an unquoted `*`, `?`, `[` or `]` occurs in the word
};

using Stage = std::vector<Word>;

// Tokenizes `request` into its pipeline stages (at most kMaxStages, each non-empty). Errors are
// denials: parse-control, parse-utf8, parse-metachar, parse-quote, parse-limit, pipe-syntax
// (`||`, `|&`, a leading or trailing `|`, an empty stage) and pipe-limit. An empty or all-blank
// request yields no stage.
[[nodiscard]] Result<std::vector<Stage>> parse(std::string_view request);

// The literal words of `stage`.
[[nodiscard]] std::vector<std::string> texts(const Stage& stage);

// A request of one stage without glob words, as its literal words: what callers that take no
// pipeline and no glob use (main.cc's -c check, tests). A `|` or an unquoted glob character is
// refused as parse-metachar.
[[nodiscard]] Result<std::vector<std::string>> tokenize(std::string_view request);

}  // namespace diag::command
