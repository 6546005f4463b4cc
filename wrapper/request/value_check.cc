// SPDX-License-Identifier: Apache-2.0
// check_value() (matcher.h): whether one non-path value has the form its type gives it.
#include <arpa/inet.h>
#include <regex.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "wrapper/base/parse.h"
#include "wrapper/request/matcher.h"
#include "wrapper/request/targets.h"

namespace diag::matcher {

namespace {

using policy::ValueSpec;
using policy::ValueType;

bool all_of_chars(const std::string& s, const char* extra) {
    return std::all_of(s.begin(), s.end(), [extra](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view(extra).find(c) != std::string_view::npos;
    });
}

bool valid_hostname(const std::string& s) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1) {
        return true;
    }
    if (s.empty() || s.size() > 253) {
        return false;
    }
    std::string_view rest = s;
    if (rest.back() == '.') {
        rest.remove_suffix(1);
    }
    size_t start = 0;
    while (start <= rest.size()) {
        size_t dot = rest.find('.', start);
        if (dot == std::string_view::npos) {
            dot = rest.size();
        }
        const std::string label(rest.substr(start, dot - start));
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
            !all_of_chars(label, "-")) {
            return false;
        }
        start = dot + 1;
        if (dot == rest.size()) {
            break;
        }
    }
    return true;
}

bool regex_full_match(const std::string& pattern, const std::string& value) {
    regex_t re;
    const std::string anchored = "^(" + pattern + ")$";
    if (::regcomp(&re, anchored.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
        return false;  // validated at load; fail closed anyway
    }
    const bool ok = ::regexec(&re, value.c_str(), 0, nullptr, 0) == 0;
    ::regfree(&re);
    return ok;
}

}  // namespace

Status check_value(const ValueSpec& spec, const std::string& v, const std::string& what) {
    auto bad = [&](const std::string& expected) { return deny("bad-value", what + ": expected " + expected); };
    switch (spec.type) {
        case ValueType::kFlag:
            return bad("no value");
        case ValueType::kInt: {
            auto n = util::parse_int(v);
            if (!n) {
                return bad("an integer");
            }
            if ((spec.min && *n < *spec.min) || (spec.max && *n > *spec.max)) {
                return bad("an integer in " + (spec.min ? std::to_string(*spec.min) : std::string("..")) + ".." +
                           (spec.max ? std::to_string(*spec.max) : std::string("")));
            }
            return ok_status();
        }
        case ValueType::kEnum:
            if (std::find(spec.values.begin(), spec.values.end(), v) == spec.values.end()) {
                std::string all;
                for (const auto& x : spec.values) {
                    all += (all.empty() ? "" : ", ") + x;
                }
                return bad("one of " + all);
            }
            return ok_status();
        case ValueType::kDuration:
            return util::parse_duration_ms(v) ? ok_status() : bad("a duration like 30s or 5min");
        case ValueType::kTime:
            return (!v.empty() && v.size() <= 64 && all_of_chars(v, " :.@+-"))
                       ? ok_status()
                       : bad("a time like '2024-01-01 10:00', 'yesterday' or -1h");
        case ValueType::kUnit:
            // systemctl and journalctl -u take a unit name or a glob pattern of unit names
            // (`podman-*`); they match it against loaded units themselves, never as a path.
            return (!v.empty() && v.size() <= 256 && v[0] != '-' && all_of_chars(v, ":_.@\\-*?[]!"))
                       ? ok_status()
                       : bad("a unit name or pattern");
        case ValueType::kHostname:
            return valid_hostname(v) ? ok_status() : bad("a host name or IP address");
        case ValueType::kRegex:
            return regex_full_match(spec.pattern, v) ? ok_status() : bad("a value matching " + spec.pattern);
        case ValueType::kString:
            return v.size() <= policy::kMaxStringBytes ? ok_status() : bad("a shorter string");
        case ValueType::kBoot:
            return regex_full_match(policy::kBootPattern, v)
                       ? ok_status()
                       : bad("a boot: an offset like -1 or 0, or a 32-hex boot ID");
        case ValueType::kUrl:
        case ValueType::kEndpoint:
        case ValueType::kTargetHost:
        case ValueType::kTargetPort: {
            // The form only; whether the rule's connect list admits it is targets::check's.
            auto t = targets::parse(spec.type, v);
            if (!t.ok()) {
                return std::move(t).error();  // bad-value, naming the value and what is wrong
            }
            return ok_status();
        }
        case ValueType::kPath:
        case ValueType::kMetaPath:
            return ok_status();  // resolved later
    }
    return bad("a valid value");
}

}  // namespace diag::matcher
