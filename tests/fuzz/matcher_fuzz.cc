// SPDX-License-Identifier: Apache-2.0
// Matcher fuzzer: tokenized input against a fixed policy; an accepted request never hands the
// resolver a path that starts with '-' (empty paths are the resolver's to refuse), and an optional
// value (journalctl -b) never lets an option the rule does not list reach the program.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/helpers/policies.h"
#include "wrapper/policy/loader.h"
#include "wrapper/request/command.h"
#include "wrapper/request/matcher.h"

namespace {

const diag::policy::Policy& fuzz_policy() {
    static const diag::policy::Policy p = [] {
        const std::string settings = R"(
version = 1
[settings]
search_path = ["/usr/bin", "/bin"]
[audit]
sinks = ["file"]
file = "/dev/null"
)";
        const std::string head_and_find = R"(
[command.head]
match = ["head"]
description = "first lines"
[[command.head.option]]
names = ["-n", "--lines"]
type = "int"
min = 0
max = 100000
[[command.head.positional]]
type = "path"
max = 8
[command.find]
match = ["find"]
description = "find"
style = "words"
layout = "positionals-first"
[[command.find.option]]
names = ["-name"]
type = "string"
[[command.find.positional]]
type = "path"
tree = true
[command.journalctl]
match = ["journalctl"]
description = "journal"
option = [
    { names = ["-b", "--boot"], type = "boot", optional_value = true },
    { names = ["-k"], type = "flag" },
    { names = ["-u"], type = "unit" },
]
)";
        // cat as the integration tests type it (tests/testdata/policies/cat.toml), head and find.
        const std::string text = settings + diag::testing::policies::rules({"cat"}) + head_and_find;
        diag::policy_loader::Options opts;
        opts.trusted_owner = ::getuid();
        auto r = diag::policy_loader::load_from_string(text, "fuzz.toml", opts);
        if (!r.ok()) {
            std::abort();
        }
        return std::move(r).value();
    }();
    return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    auto argv = diag::command::tokenize(in);
    if (!argv.ok() || argv->empty()) {
        return 0;
    }
    auto m = diag::matcher::match(fuzz_policy(), *argv);
    if (!m.ok()) {
        return 0;
    }
    if (m->command->id == "journalctl") {
        // Every word starting with '-' is one of the rule's options (with an attached value).
        for (const auto& a : m->exec_args) {
            if (!a.empty() && a[0] == '-' && a.rfind("-b", 0) != 0 && a.rfind("--boot", 0) != 0 && a != "-k" &&
                a != "-u") {
                std::abort();
            }
        }
    }
    for (const auto& ref : m->paths) {
        if (!ref.input.empty() && ref.input[0] == '-') {
            std::abort();
        }
    }
    return 0;
}
