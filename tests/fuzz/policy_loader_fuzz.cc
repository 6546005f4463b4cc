// SPDX-License-Identifier: Apache-2.0
// Policy loader fuzzer: arbitrary TOML never crashes the loader, and errors carry a message.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "wrapper/policy/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    diag::policy_loader::Options opts;
    opts.trusted_owner = ::getuid();
    auto r = diag::policy_loader::load_from_string(text, "fuzz.toml", opts);
    if (!r.ok() && r.error().msg.empty()) {
        std::abort();
    }
    return 0;
}
