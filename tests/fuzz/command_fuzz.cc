// SPDX-License-Identifier: Apache-2.0
// Tokenizer fuzzer: never crashes; every accepted request is at most kMaxStages non-empty stages of
// at most kMaxArgs words in all, free of the bytes the tokenizer promises to refuse; a word's
// pattern, read back as fnmatch(3) reads it, is its text (a glob word's unquoted glob characters
// aside); and tokenize() accepts exactly the one-stage requests without glob words.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "wrapper/base/text_safety.h"
#include "wrapper/request/command.h"

namespace {

using diag::command::Word;

// The pattern with its backslash escapes removed: the literal text, for any word.
std::string unescape(const std::string& pattern) {
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) {
            ++i;
        }
        out += pattern[i];
    }
    return out;
}

void check_word(const Word& w) {
    if (!diag::text_safety::valid_utf8(w.text) || diag::text_safety::find_control(w.text) ||
        w.text.size() > diag::command::kMaxArgBytes) {
        std::abort();
    }
    if (!w.glob && w.pattern != w.text) {
        std::abort();
    }
    if (w.glob && unescape(w.pattern) != w.text) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    auto r = diag::command::parse(in);
    auto flat = diag::command::tokenize(in);
    if (!r.ok()) {
        if (r.error().code != diag::ErrorCode::kDenied || r.error().reason.empty() || flat.ok()) {
            std::abort();
        }
        return 0;
    }
    if (r->size() > diag::command::kMaxStages) {
        std::abort();
    }
    size_t words = 0;
    bool any_glob = false;
    for (const auto& stage : *r) {
        if (stage.empty()) {
            std::abort();
        }
        words += stage.size();
        for (const auto& w : stage) {
            check_word(w);
            any_glob = any_glob || w.glob;
        }
    }
    if (words > diag::command::kMaxArgs) {
        std::abort();
    }
    const bool simple = r->size() <= 1 && !any_glob;
    if (flat.ok() != simple || (simple && !r->empty() && *flat != diag::command::texts((*r)[0]))) {
        std::abort();
    }
    return 0;
}
