// SPDX-License-Identifier: Apache-2.0
// The listing and the per-rule schema (see help.h). Everything here comes from the policy: the
// request's words are never echoed.
#include "wrapper/policy/help.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace diag::help {

namespace {

using nlohmann::json;
using policy::Command;
using policy::OptionSpec;
using policy::PositionalSpec;
using policy::ValueSpec;
using policy::ValueType;

// The length bound of a type the matcher checks (matcher::check_value), or 0 for none.
size_t max_length(ValueType t) {
    switch (t) {
        case ValueType::kString:
            return policy::kMaxStringBytes;
        case ValueType::kTime:
            return 64;
        case ValueType::kUnit:
            return 256;
        case ValueType::kHostname:
            return 253;
        default:
            return 0;
    }
}

// What a value of `v` must be, in words: "integer, 0..1000000", "one of: short, cat".
std::string describe_value(const ValueSpec& v) {
    std::string out;
    switch (v.type) {
        case ValueType::kFlag:
            return "flag (no value)";
        case ValueType::kInt:
            out = "integer";
            if (v.min || v.max) {
                out += ", " + (v.min ? std::to_string(*v.min) : std::string()) + ".." +
                       (v.max ? std::to_string(*v.max) : std::string());
            }
            break;
        case ValueType::kEnum:
            out = "one of:";
            for (const auto& x : v.values) {
                out += (out.back() == ':' ? " " : ", ") + x;
            }
            break;
        case ValueType::kDuration:
            out = "duration (30s, 5min)";
            break;
        case ValueType::kTime:
            out = "time ('2024-01-01 10:00', yesterday, -1h)";
            break;
        case ValueType::kUnit:
            out = "unit name (sshd.service)";
            break;
        case ValueType::kHostname:
            out = "host name or IP address";
            break;
        case ValueType::kRegex:
            out = "text matching ^(" + v.pattern + ")$";
            break;
        case ValueType::kString:
            out = "text";
            break;
        case ValueType::kPath:
            out = "path (its contents are read; denied paths are refused)";
            break;
        case ValueType::kMetaPath:
            out = "path (metadata only; denied paths are refused)";
            break;
        case ValueType::kBoot:
            out = "boot: an offset (-1, 0, +2) or a 32-hex boot ID";
            break;
        case ValueType::kUrl:
            out = "http(s) URL under one of the rule's destinations";
            break;
        case ValueType::kEndpoint:
            out = "HOST:PORT among the rule's destinations";
            break;
        case ValueType::kTargetHost:
            out = "IP address or localhost among the rule's destinations";
            break;
        case ValueType::kTargetPort:
            out = "TCP port 1..65535 the rule's destinations allow for the host";
            break;
    }
    if (const size_t n = max_length(v.type); n != 0) {
        out += ", at most " + std::to_string(n) + " bytes";
    }
    if (!v.roots.empty()) {
        std::string roots;
        for (const auto& r : v.roots) {
            roots += (roots.empty() ? "" : ", ") + r;
        }
        out += ", under " + roots;
    }
    if (v.sensitive) {
        out += "; sensitive (records keep only its hash)";
    }
    return out;
}

// A value of `v` the matcher accepts, for examples; empty where the type has none to offer.
std::string sample(const ValueSpec& v, bool tree) {
    switch (v.type) {
        case ValueType::kInt:
            return std::to_string(std::clamp<int64_t>(10, v.min.value_or(INT64_MIN), v.max.value_or(INT64_MAX)));
        case ValueType::kEnum:
            return v.values.front();
        case ValueType::kDuration:
            return "30s";
        case ValueType::kTime:
            return "yesterday";
        case ValueType::kUnit:
            return "sshd.service";
        case ValueType::kHostname:
            return "localhost";
        case ValueType::kString:
            return "error";
        case ValueType::kPath:
        case ValueType::kMetaPath:
            if (!v.roots.empty()) {
                return v.roots.front();
            }
            return tree || v.type == ValueType::kMetaPath ? "/var/log" : "/etc/os-release";
        case ValueType::kBoot:
            return "-1";
        case ValueType::kUrl:
            return "http://127.0.0.1:8080/health";
        case ValueType::kEndpoint:
            return "127.0.0.1:443";
        case ValueType::kTargetHost:
            return "127.0.0.1";
        case ValueType::kTargetPort:
            return "8080";
        case ValueType::kFlag:
        case ValueType::kRegex:
            return {};
    }
    return {};
}

// "-u UNIT" with a sample value where there is one (the placeholder otherwise).
std::string example_option(const OptionSpec& o) {
    if (o.value.type == ValueType::kFlag || o.optional_value) {
        return o.names.front();
    }
    const std::string s = sample(o.value, false);
    return o.names.front() + " " + (s.empty() ? policy::metavar(o.value) : s);
}

json value_fields(const ValueSpec& v) {
    json j = {{"type", policy::value_type_name(v.type)},
              {"metavar", policy::metavar(v)},
              {"sensitive", v.sensitive},
              // An unquoted *, ? or [...] is expanded by the wrapper in path values only (glob.h).
              {"glob", policy::is_path_type(v.type)}};
    if (v.min) {
        j["min"] = *v.min;
    }
    if (v.max) {
        j["max"] = *v.max;
    }
    if (v.type == ValueType::kEnum) {
        j["values"] = v.values;
    }
    if (v.type == ValueType::kRegex || (policy::is_path_type(v.type) && !v.pattern.empty())) {
        j["pattern"] = "^(" + v.pattern + ")$";  // a path's: of the path as resolved
    }
    if (v.type == ValueType::kBoot) {
        j["pattern"] = "^(" + std::string(policy::kBootPattern) + ")$";
    }
    if (const size_t n = max_length(v.type); n != 0) {
        j["max_length"] = n;
    }
    if (policy::is_path_type(v.type)) {
        j["roots"] = v.roots;
    }
    return j;
}

json option_json(const OptionSpec& o) {
    json j = value_fields(o.value);
    j["names"] = o.names;
    j["takes_value"] = o.value.type != ValueType::kFlag;
    j["optional_value"] = o.optional_value;
    j["required"] = o.required;
    j["recursive"] = o.recursive;
    return j;
}

json positional_json(const PositionalSpec& p) {
    json j = value_fields(p.value);
    j["min_count"] = p.min;
    j["max_count"] = p.max;
    j["tree"] = p.tree;
    return j;
}

std::vector<std::string> connect_texts(const Command& c) {
    std::vector<std::string> out;
    for (const auto& l : c.connect) {
        out.push_back(l.text);
    }
    return out;
}

json rule_json(const Command& c) {
    json options = json::array();
    for (const auto& o : c.options) {
        options.push_back(option_json(o));
    }
    json positionals = json::array();
    for (const auto& p : c.positionals) {
        positionals.push_back(positional_json(p));
    }
    return {{"id", c.id},
            {"usage", policy::usage(c)},
            {"description", c.description},
            {"available", c.unavailable.empty()},
            {"timeout_ms", c.timeout_ms},
            {"output_cap", c.output_cap},
            {"words", c.match},
            {"style", c.style == policy::Style::kWords ? "words" : "getopt"},
            {"options", options},
            {"positionals", positionals},
            // May follow `|` in a request (adr/0013).
            {"filter", c.filter},
            // The network destinations its arguments may name (adr/0018).
            {"connect", connect_texts(c)},
            // The listing's section; "other" where the rule names none.
            {"family", c.family.empty() ? std::string(kOtherFamily) : c.family},
            {"example", example(c)}};
}

std::string option_line(const OptionSpec& o) {
    std::string names;
    for (const auto& n : o.names) {
        names += (names.empty() ? "" : ", ") + n;
    }
    const std::string mv = policy::metavar(o.value);
    std::string left = "  " + names + (mv.empty() ? "" : o.optional_value ? " [" + mv + "]" : " " + mv);
    if (mv.size() > 20) {
        left = "  " + names + (o.optional_value ? " [VALUE]" : " VALUE");  // the enumeration follows
    }
    left.resize(std::max<size_t>(left.size() + 2, 30), ' ');
    std::string out = left + describe_value(o.value);
    if (o.optional_value) {
        out += "; the value is optional (" + o.names.front() + " " + sample(o.value, false) + ")";
    }
    if (o.required) {
        out += "; required";
    }
    if (o.recursive) {
        out += "; path arguments become whole trees";
    }
    return out + "\n";
}

std::string positional_line(const PositionalSpec& p) {
    std::string left =
        "  " + policy::metavar(p.value) + " (" +
        (p.min == p.max ? std::to_string(p.min) : std::to_string(p.min) + " to " + std::to_string(p.max)) + ")";
    left.resize(std::max<size_t>(left.size() + 2, 30), ' ');
    return left + describe_value(p.value) + (p.tree ? "; a whole tree may be read" : "") + "\n";
}

std::string one_command(const Command& c) {
    std::string out = c.id + ": " + c.description + "\nusage: " + policy::usage(c) + "\n";
    if (!c.options.empty()) {
        out += "options:\n";
        for (const auto& o : c.options) {
            out += option_line(o);
        }
    }
    if (!c.positionals.empty()) {
        out += "arguments:\n";
        for (const auto& p : c.positionals) {
            out += positional_line(p);
        }
    }
    out += "limits: timeout " + std::to_string(c.timeout_ms) + " ms, output cap " + std::to_string(c.output_cap) +
           " bytes\n";
    if (c.filter) {
        out += "pipe: may follow | (reads only its standard input)\n";
    }
    if (!c.connect.empty()) {
        out += "destinations: " + destination::describe(c.connect) + " (TCP to the port named, nothing else)\n";
    }
    out += std::string("available on this host: ") + (c.unavailable.empty() ? "yes" : "no") + "\n";
    return out + "example: " + example(c) + "\n";
}

// "ID<TAB>USAGE<TAB>DESCRIPTION", marked where it may follow `|` or cannot run here.
std::string listing_line(const Command& c) {
    std::string out = c.id + "\t" + policy::usage(c) + "\t" + c.description;
    if (c.filter) {
        out += " (may follow |)";
    }
    if (!c.unavailable.empty()) {
        out += " (unavailable on this host)";
    }
    return out + "\n";
}

}  // namespace

std::vector<const Command*> named(const policy::Policy& p, const std::string& word) {
    std::vector<const Command*> out;
    for (const auto& c : p.commands) {
        if (policy::word_matches(c.match[0], word)) {
            out.push_back(&c);
        }
    }
    if (out.empty()) {
        for (const auto& c : p.commands) {
            if (c.id == word) {
                out.push_back(&c);
            }
        }
    }
    return out;
}

std::string text(const policy::Policy& p) {
    // Sections in name order, the rules without a family last as "other"; policy order within
    // one. A policy that names no family keeps the plain list.
    std::set<std::string> families;
    for (const auto& c : p.commands) {
        families.insert(c.family.empty() ? kOtherFamily : c.family);
    }
    const bool sections = !(families.size() == 1 && *families.begin() == kOtherFamily);
    std::vector<std::string> order(families.begin(), families.end());
    std::stable_partition(order.begin(), order.end(), [](const std::string& f) { return f != kOtherFamily; });
    std::string out;
    for (const auto& family : order) {
        if (sections) {
            out += (out.empty() ? "# " : "\n# ") + family + "\n";
        }
        for (const auto& c : p.commands) {
            if ((c.family.empty() ? kOtherFamily : c.family) == family) {
                out += listing_line(c);
            }
        }
    }
    return out;
}

std::string command_text(const policy::Policy& p, const std::string& word) {
    std::string out;
    for (const Command* c : named(p, word)) {
        out += (out.empty() ? "" : "\n") + one_command(*c);
    }
    return out;
}

std::string json(const policy::Policy& p, const std::string& word) {
    nlohmann::json arr = nlohmann::json::array();
    if (word.empty()) {
        for (const auto& c : p.commands) {
            arr.push_back(rule_json(c));
        }
    } else {
        for (const Command* c : named(p, word)) {
            arr.push_back(rule_json(*c));
        }
    }
    return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string example(const Command& c) {
    std::vector<std::string> options;
    for (const auto& o : c.options) {
        if (o.required) {
            options.push_back(example_option(o));
        }
    }
    std::vector<std::string> positionals;
    for (const auto& p : c.positionals) {
        for (size_t k = 0; k < p.min; ++k) {
            const std::string s = sample(p.value, p.tree);
            positionals.push_back(s.empty() ? policy::metavar(p.value) : s);
        }
    }
    if (options.empty() && positionals.empty()) {
        // Show one option with a value, the first that has a sample.
        for (const auto& o : c.options) {
            if (o.value.type != ValueType::kFlag && !o.optional_value && !sample(o.value, false).empty()) {
                options.push_back(example_option(o));
                break;
            }
        }
    }
    std::string out;
    for (const auto& w : c.match) {
        out += (out.empty() ? "" : " ") + w.front();
    }
    const bool positionals_first = c.layout == policy::Layout::kPositionalsFirst;
    for (const auto* block :
         {positionals_first ? &positionals : &options, positionals_first ? &options : &positionals}) {
        for (const auto& a : *block) {
            out += " " + a;
        }
    }
    return out;
}

}  // namespace diag::help
