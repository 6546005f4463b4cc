// SPDX-License-Identifier: Apache-2.0
// A rule's network destinations: see connect_rules.h.
#include "wrapper/policy/connect_rules.h"

#include <algorithm>

namespace diag::policy_loader {

namespace {

using policy::Command;
using policy::ValueType;

constexpr size_t kMaxConnect = 64;

// How many of the rule's options and positionals are typed `t`.
size_t count_typed(const Command& c, ValueType t) {
    const auto opts = std::count_if(c.options.begin(), c.options.end(),
                                    [t](const policy::OptionSpec& o) { return o.value.type == t; });
    const auto pos = std::count_if(c.positionals.begin(), c.positionals.end(),
                                   [t](const policy::PositionalSpec& p) { return p.value.type == t; });
    return static_cast<size_t>(opts + pos);
}

}  // namespace

Status read_connect(const FileCtx& ctx, const toml::table& t, const std::string& what, Command& c) {
    const toml::node* n = t.get("connect");
    if (n != nullptr) {
        DIAG_TRY_ASSIGN(const std::vector<std::string> written, read_strings(ctx, *n, what + ".connect"));
        if (written.empty() || written.size() > kMaxConnect) {
            return at(ctx, n->source(), what + ".connect: 1 to " + std::to_string(kMaxConnect) + " destinations");
        }
        for (const auto& w : written) {
            auto l = destination::parse_listed(w);
            if (!l.ok()) {
                return at(ctx, n->source(), what + "." + l.error().msg);
            }
            c.connect.push_back(std::move(*l));
        }
    }
    const size_t named =
        count_typed(c, ValueType::kUrl) + count_typed(c, ValueType::kEndpoint) + count_typed(c, ValueType::kTargetHost);
    const size_t ports = count_typed(c, ValueType::kTargetPort);
    if (n == nullptr) {
        if (named + ports != 0) {
            return at(ctx, t.source(),
                      what +
                          ": an argument typed url, endpoint, target-host or target-port needs "
                          "the rule's connect list");
        }
        return ok_status();
    }
    if (named == 0) {
        return at(ctx, n->source(), what + ".connect: no argument is typed url, endpoint or target-host");
    }
    if (ports > 1 || (ports == 1 && count_typed(c, ValueType::kTargetHost) != 1)) {
        return at(ctx, n->source(), what + ": a target-port goes with exactly one target-host");
    }
    // The seccomp filter of a rule without network refuses AF_INET sockets; a filter reaches
    // nothing (check_filter refuses network already).
    if (!c.network) {
        return at(ctx, n->source(), what + ".connect: needs network = true");
    }
    return ok_status();
}

}  // namespace diag::policy_loader
