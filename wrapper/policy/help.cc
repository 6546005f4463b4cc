// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/help.h"

#include <nlohmann/json.hpp>

namespace diag::help {

std::string text(const policy::Policy& p) {
    std::string out;
    for (const auto& c : p.commands) {
        out += c.id + "\t" + policy::usage(c) + "\t" + c.description;
        if (!c.unavailable.empty()) {
            out += " (unavailable on this host)";
        }
        out += "\n";
    }
    return out;
}

std::string json(const policy::Policy& p) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : p.commands) {
        arr.push_back({{"id", c.id},
                       {"usage", policy::usage(c)},
                       {"description", c.description},
                       {"available", c.unavailable.empty()},
                       {"timeout_ms", c.timeout_ms},
                       {"output_cap", c.output_cap}});
    }
    return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace diag::help
