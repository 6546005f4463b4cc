// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/model.h"

#include <algorithm>
#include <array>

namespace diag::policy {

namespace {

constexpr std::array<std::pair<ValueType, const char*>, 16> kTypeNames = {{
    {ValueType::kFlag, "flag"},
    {ValueType::kInt, "int"},
    {ValueType::kEnum, "enum"},
    {ValueType::kDuration, "duration"},
    {ValueType::kTime, "time"},
    {ValueType::kUnit, "unit"},
    {ValueType::kHostname, "hostname"},
    {ValueType::kRegex, "regex"},
    {ValueType::kString, "string"},
    {ValueType::kPath, "path"},
    {ValueType::kMetaPath, "meta-path"},
    {ValueType::kBoot, "boot"},
    {ValueType::kUrl, "url"},
    {ValueType::kEndpoint, "endpoint"},
    {ValueType::kTargetHost, "target-host"},
    {ValueType::kTargetPort, "target-port"},
}};

}  // namespace

std::string metavar(const ValueSpec& v) {
    switch (v.type) {
        case ValueType::kFlag:
            return {};
        case ValueType::kInt:
            return "N";
        case ValueType::kEnum: {
            std::string s;
            for (const auto& x : v.values) {
                s += (s.empty() ? "" : "|") + x;
            }
            return "{" + s + "}";
        }
        case ValueType::kDuration:
            return "DURATION";
        case ValueType::kTime:
            return "TIME";
        case ValueType::kUnit:
            return "UNIT";
        case ValueType::kHostname:
            return "HOST";
        case ValueType::kRegex:
        case ValueType::kString:
            return "ARG";
        case ValueType::kPath:
            return "PATH";
        case ValueType::kMetaPath:
            return "PATH";
        case ValueType::kBoot:
            return "BOOT";
        case ValueType::kUrl:
            return "URL";
        case ValueType::kEndpoint:
            return "HOST:PORT";
        case ValueType::kTargetHost:
            return "HOST";
        case ValueType::kTargetPort:
            return "PORT";
    }
    return "ARG";
}

const char* value_type_name(ValueType t) {
    for (const auto& [type, name] : kTypeNames) {
        if (type == t) {
            return name;
        }
    }
    return "?";
}

std::optional<ValueType> value_type_from_name(const std::string& s) {
    for (const auto& [type, name] : kTypeNames) {
        if (s == name) {
            return type;
        }
    }
    return std::nullopt;
}

bool has_sensitive(const Command& c) {
    return std::any_of(c.options.begin(), c.options.end(), [](const OptionSpec& o) { return o.value.sensitive; }) ||
           std::any_of(c.positionals.begin(), c.positionals.end(),
                       [](const PositionalSpec& p) { return p.value.sensitive; });
}

bool word_matches(const std::vector<std::string>& alternatives, const std::string& word) {
    return std::find(alternatives.begin(), alternatives.end(), word) != alternatives.end();
}

std::string usage(const Command& c) {
    std::string out;
    for (const auto& w : c.match) {
        out += (out.empty() ? "" : " ") + w.front();
    }
    for (const auto& o : c.options) {
        std::string names;
        for (const auto& n : o.names) {
            names += (names.empty() ? "" : "|") + n;
        }
        const std::string mv = metavar(o.value);
        std::string item = names + (mv.empty() ? "" : o.optional_value ? " [" + mv + "]" : " " + mv);
        out += o.required ? " " + item : " [" + item + "]";
    }
    for (const auto& p : c.positionals) {
        std::string mv = metavar(p.value);
        if (p.value.type == ValueType::kRegex || p.value.type == ValueType::kString) {
            mv = "ARG";
        }
        if (p.min == 0) {
            out += " [" + mv + (p.max > 1 ? "..." : "") + "]";
        } else {
            out += " " + mv + (p.max > p.min ? "..." : "");
        }
    }
    return out;
}

}  // namespace diag::policy
