// SPDX-License-Identifier: Apache-2.0
// The TOML rules several tests share, kept once in tests/testdata/policies/<name>.toml: a test
// composes its policy from its own settings, these files, and the rules only it uses. A file may
// hold placeholders (@PUB@) for paths that exist only when the test runs.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace diag::testing::policies {

// Placeholders and the text each one stands for, e.g. {{"@PUB@", dir + "/pub"}}.
using Values = std::vector<std::pair<std::string, std::string>>;

// tests/testdata/policies, or its copy under DIAG_TESTDATA_DIR: the unprivileged unit test run
// copies tests/testdata, since the source tree may not be readable there
// (tests/helpers/run_unprivileged.sh).
inline std::string dir() {
    const char* copy = std::getenv("DIAG_TESTDATA_DIR");
    return (copy != nullptr ? std::string(copy) : std::string(DIAG_SOURCE_DIR) + "/tests/testdata") + "/policies";
}

// The files `names` (without .toml) in order, each with every placeholder in `values` replaced.
// A file that cannot be read, or a placeholder left over, aborts: no test may run against a
// policy other than the one it names. Fuzzers use this too, so it does not depend on gtest.
inline std::string rules(std::initializer_list<std::string> names, const Values& values = {}) {
    std::string out;
    for (const std::string& name : names) {
        const std::string path = dir() + "/" + name + ".toml";
        std::ifstream in(path);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in || text.str().empty()) {
            std::fprintf(stderr, "policies::rules: cannot read %s\n", path.c_str());
            std::abort();
        }
        out += text.str();
    }
    for (const auto& [placeholder, value] : values) {
        for (size_t pos = 0; (pos = out.find(placeholder, pos)) != std::string::npos; pos += value.size()) {
            out.replace(pos, placeholder.size(), value);
        }
    }
    std::smatch left;
    if (std::regex_search(out, left, std::regex("@[A-Z_]+@"))) {
        std::fprintf(stderr, "policies::rules: no value for %s\n", left.str().c_str());
        std::abort();
    }
    return out;
}

}  // namespace diag::testing::policies
