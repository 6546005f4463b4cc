// SPDX-License-Identifier: Apache-2.0
// Between matcher.cc and stage_match.cc: the words of one parsed stage as the matcher types them.
// The matcher parses the words' texts as it always does and tells StageWords what it made of
// each one; StageWords decides where a glob word (command::Word::glob) may stand: in a path value
// (expanded later, glob.h), in a pattern-typed value (passed literally), nowhere else.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/command.h"
#include "wrapper/request/matcher.h"

namespace diag::matcher::detail {

class StageWords {
  public:
    StageWords() = default;  // plain words (match()): none is a glob
    explicit StageWords(const command::Stage& stage);

    // Forgets what an earlier rule made of the words: each candidate rule types them afresh.
    void reset();

    // True if word `arg` (argv index, 0 = the command word) carries unquoted glob characters.
    [[nodiscard]] bool glob(size_t arg) const;

    // parse-metachar for glob word `arg` standing where nothing expands.
    [[nodiscard]] Error refuse(size_t arg) const;

    // The value typed `spec` that starts at byte `offset` of word `arg` (after an attached option
    // name). Not a glob: ok. A glob typed path or meta-path where `ref` is given: `ref` becomes
    // a glob (its pattern the word's pattern from `offset`). A glob typed as a pattern (regex,
    // string, unit): ok, the value check sees the literal text. Anything else: parse-metachar.
    [[nodiscard]] Status value(size_t arg, size_t offset, const policy::ValueSpec& spec, PathRef* ref);

    // After a rule accepted the words: ok if every glob word was typed by value() above; a glob
    // word the rule took as an option or flag is refused.
    [[nodiscard]] Status all_typed() const;

  private:
    const command::Stage* stage_ = nullptr;
    std::vector<bool> typed_;
};

// The matcher's core (matcher.cc): the first rule of `candidates` (rules whose first word names
// argv[0]; non-empty) that accepts `argv`, longer match lists first, then policy order; else the
// most specific refusal. `words` types argv's words (argv[i] is the text of word i).
[[nodiscard]] Result<Match> match_candidates(std::vector<const policy::Command*> candidates,
                                             const std::vector<std::string>& argv, StageWords& words);

}  // namespace diag::matcher::detail
