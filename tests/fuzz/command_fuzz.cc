// SPDX-License-Identifier: Apache-2.0
// Tokenizer fuzzer: never crashes, and every accepted argv is free of the bytes the tokenizer
// promises to refuse.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "wrapper/base/text_safety.h"
#include "wrapper/request/command.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    auto r = diag::command::tokenize(in);
    if (!r.ok()) {
        if (r.error().code != diag::ErrorCode::kDenied || r.error().reason.empty()) {
            std::abort();
        }
        return 0;
    }
    if (r->size() > diag::command::kMaxArgs) {
        std::abort();
    }
    for (const auto& a : *r) {
        if (!diag::text_safety::valid_utf8(a) || diag::text_safety::find_control(a) ||
            a.size() > diag::command::kMaxArgBytes) {
            std::abort();
        }
    }
    return 0;
}
