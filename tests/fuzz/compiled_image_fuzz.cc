// SPDX-License-Identifier: Apache-2.0
// Compiled policy image fuzzer: arbitrary bytes never crash the image reader, an image that is
// accepted re-encodes to the same bytes, and errors carry a message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wrapper/policy/compiled.h"
#include "wrapper/policy/deny_snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto img = diag::compiled::parse(bytes);
    if (!img.ok()) {
        if (img.error().msg.empty()) {
            std::abort();
        }
        return 0;
    }
    const std::string build = img->build;
    const diag::compiled::Stamp stamp = img->stamp;
    const std::string snapshot = img->snapshot;
    // The deny-list snapshot in the head: decoded without a crash, and one that decodes re-encodes
    // to its own bytes.
    if (auto snap = diag::deny_snapshot::decode(snapshot);
        snap.ok() && diag::deny_snapshot::encode(*snap) != snapshot) {
        std::abort();
    }
    const std::vector<std::string> words = {"cat"};
    (void)diag::compiled::commands(*img, &words);
    auto all = diag::compiled::commands(std::move(*img), nullptr);
    if (all.ok() && diag::compiled::encode(all->policy, build, stamp, snapshot) != bytes) {
        std::abort();
    }
    return 0;
}
