// SPDX-License-Identifier: Apache-2.0
// The network destinations of one request: see targets.h.
#include "wrapper/request/targets.h"

#include <algorithm>
#include <set>

#include "wrapper/base/text_safety.h"

namespace diag::targets {

namespace {

using destination::Target;

bool bare_host(const Target& t) { return t.scheme.empty() && !t.host.empty() && t.port == 0; }
bool bare_port(const Target& t) { return t.host.empty(); }

// nc HOST PORT: the one bare port goes with the one bare host.
Result<std::vector<Target>> pair_ports(std::vector<Target> found) {
    const auto ports = std::count_if(found.begin(), found.end(), bare_port);
    if (ports == 0) {
        return found;
    }
    const auto hosts = std::count_if(found.begin(), found.end(), bare_host);
    if (ports != 1 || hosts != 1) {
        return deny("positional-count", "one host and one port, got " + std::to_string(hosts) + " host(s) and " +
                                            std::to_string(ports) + " port(s)");
    }
    const auto port = std::find_if(found.begin(), found.end(), bare_port);
    const uint16_t number = port->port;
    const std::string text = port->text;
    found.erase(port);
    const auto host = std::find_if(found.begin(), found.end(), bare_host);
    host->port = number;
    host->text += " " + text;
    return found;
}

}  // namespace

Result<Target> parse(policy::ValueType t, const std::string& value) {
    switch (t) {
        case policy::ValueType::kUrl:
            return destination::parse_url(value);
        case policy::ValueType::kEndpoint:
            return destination::parse_endpoint(value);
        case policy::ValueType::kTargetHost:
            return destination::parse_host(value);
        case policy::ValueType::kTargetPort:
            return destination::parse_port(value);
        default:
            return make_error(ErrorCode::kInternal, "targets::parse: not a target type");
    }
}

void note(const policy::ValueSpec& spec, const std::string& value, std::vector<Target>& out) {
    if (!policy::is_target_type(spec.type)) {
        return;
    }
    if (auto t = parse(spec.type, value); t.ok()) {
        out.push_back(std::move(*t));
    }
}

Result<std::vector<Target>> check(const policy::Command& c, std::vector<Target> found) {
    DIAG_TRY_ASSIGN(std::vector<Target> targets, pair_ports(std::move(found)));
    for (const auto& t : targets) {
        const bool admitted = std::any_of(c.connect.begin(), c.connect.end(),
                                          [&t](const destination::Listed& l) { return destination::admits(l, t); });
        if (!admitted) {
            return deny("destination", "'" + text_safety::printable(t.text, 120) +
                                           "' is not a destination this rule allows (allowed: " +
                                           destination::describe(c.connect) + ")");
        }
    }
    return targets;
}

std::vector<uint16_t> tcp_ports(const std::vector<Target>& targets) {
    std::set<uint16_t> ports;
    for (const auto& t : targets) {
        if (t.port != 0) {
            ports.insert(t.port);
        }
    }
    return {ports.begin(), ports.end()};
}

}  // namespace diag::targets
