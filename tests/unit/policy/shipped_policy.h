// SPDX-License-Identifier: Apache-2.0
// The shipped policy/default.toml, loaded once for the unit tests that read it, and a request
// matched against it as the wrapper would tokenize it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "wrapper/policy/loader.h"
#include "wrapper/request/command.h"
#include "wrapper/request/matcher.h"

namespace diag::policy_loader::test {

using Argv = std::vector<std::string>;

// The shipped policy, read as `--check --build` reads it (no owner or host checks, no drop-ins).
// The unprivileged test run hands over a copy (tests/helpers/run_unprivileged.sh).
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

// Only the shipped filter rules: what a stage after `|` may match.
inline const policy::Policy& filters_only() {
    static const policy::Policy p = [] {
        policy::Policy f = shipped();
        std::erase_if(f.commands, [](const policy::Command& c) { return !c.filter; });
        return f;
    }();
    return p;
}

inline Result<matcher::Match> match(const policy::Policy& p, const std::string& request) {
    auto argv = command::tokenize(request);
    if (!argv.ok()) {
        return std::move(argv).error();
    }
    return matcher::match(p, *argv);
}

}  // namespace diag::policy_loader::test
