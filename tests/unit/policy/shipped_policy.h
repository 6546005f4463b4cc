// SPDX-License-Identifier: Apache-2.0
// The shipped policy/default.toml, read as `--check --build` reads it (no owner or host checks, no
// drop-ins), for the unit tests of its rules. The unprivileged test run hands over a copy
// (tests/helpers/run_unprivileged.sh).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "wrapper/policy/loader.h"

namespace diag::policy_loader::test {

inline const policy::Policy& shipped() {
    static const policy::Policy p = [] {
        const char* copy = std::getenv("DIAG_DEFAULT_POLICY");
        const std::string path = copy != nullptr ? copy : std::string(DIAG_SOURCE_DIR) + "/policy/default.toml";
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        Options o;
        o.syntax_only = true;
        o.include = std::vector<std::string>{};
        auto r = load_from_string(text.str(), path, o);
        if (!in || !r.ok()) {
            ADD_FAILURE() << path << ": " << (r.ok() ? "unreadable" : r.error().describe());
            std::abort();
        }
        return std::move(r).value();
    }();
    return p;
}

}  // namespace diag::policy_loader::test
