// SPDX-License-Identifier: Apache-2.0
// Sensitive arguments in the audit record (adr/0008): see redact.h.
#include "wrapper/record/redact.h"

#include <algorithm>

#include "wrapper/base/sha256.h"
#include "wrapper/base/text_safety.h"

namespace diag::redact {

namespace {

using nlohmann::json;

// Applies in_text() to every string of `j` (in place).
void redact_strings(json& j, const Redaction& r, const std::vector<std::string>& argv) {
    if (j.is_string()) {
        j = in_text(r, argv, j.get<std::string>());
    } else if (j.is_structured()) {
        for (auto& e : j) {
            redact_strings(e, r, argv);
        }
    }
}

}  // namespace

bool hides(const Redaction& r, const std::string& token, size_t index) {
    if (r.all_but_first && index > 0) {
        return true;
    }
    for (const auto& v : r.values) {
        // The value itself, or an option carrying it attached (--token=V, -tV).
        if (!v.empty() && (token == v || (token.size() > v.size() && token[0] == '-' &&
                                          token.compare(token.size() - v.size(), v.size(), v) == 0))) {
            return true;
        }
    }
    return false;
}

std::string shell_quote(const std::string& s) {
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+%") ==
                          std::string::npos) {
        return s;
    }
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return text_safety::printable(out + "'", 4096);
}

void apply(json& rec, const Redaction& r, const std::vector<std::string>& argv) {
    if (r.empty()) {
        return;
    }
    json sensitive = json::array();
    json shown = json::array();
    std::string line;
    for (size_t i = 0; i < argv.size(); ++i) {
        std::string t = argv[i];
        if (hides(r, t, i)) {
            sensitive.push_back({{"argv_index", i}, {"sha256", sha256_hex(t)}, {"length", t.size()}});
            t = "[redacted]";
        }
        shown.push_back(text_safety::valid_utf8(t) ? t : text_safety::printable(t, 4096));
        line += (i ? " " : "") + shell_quote(t);
    }
    rec["diag"]["argv"] = std::move(shown);
    rec["diag"]["sensitive"] = std::move(sensitive);
    rec["process"]["command_line"] = line;
    rec["process"]["command_line_redacted"] = true;
    rec["process"].erase("command_line_b64");
    if (rec["process"].contains("args")) {
        for (auto& a : rec["process"]["args"]) {
            if (a.is_string() && hides(Redaction{r.values, false}, a.get<std::string>(), 1)) {
                a = "[redacted]";
            }
        }
    }
}

std::string in_text(const Redaction& r, const std::vector<std::string>& argv, std::string text) {
    std::vector<std::string> hidden = r.values;
    for (size_t i = 0; i < argv.size(); ++i) {
        if (hides(r, argv[i], i)) {
            hidden.push_back(argv[i]);
        }
    }
    std::sort(hidden.begin(), hidden.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& v : hidden) {
        for (size_t at = v.empty() ? std::string::npos : text.find(v); at != std::string::npos; at = text.find(v, at)) {
            text.replace(at, v.size(), "[redacted]");
            at += std::string("[redacted]").size();
        }
    }
    return text;
}

void derived(json& rec, const Redaction& r, const std::vector<std::string>& argv) {
    if (r.empty()) {
        return;
    }
    if (r.all_but_first && rec["diag"].contains("message")) {
        // A message rewrites what it echoes (a hint turns -20491 into "-n 20491") and cuts long
        // words at 80 bytes, so hiding whole tokens is not enough: only the reason code is kept.
        rec["diag"]["message"] = rec["diag"].value("reason", std::string("refused")) + " [redacted]";
    }
    for (const char* key : {"message", "deny_entry", "paths", "withheld", "skipped", "pipeline"}) {
        if (rec["diag"].contains(key)) {
            redact_strings(rec["diag"][key], r, argv);
        }
    }
}

void untokenized(json& rec, const std::string& first, const std::string& raw) {
    rec["process"]["command_line"] = text_safety::printable(first, 256) + " [redacted]";
    rec["process"]["command_line_redacted"] = true;
    rec["process"].erase("command_line_b64");
    rec["diag"]["sensitive"] = json::array({{{"request", true}, {"sha256", sha256_hex(raw)}, {"length", raw.size()}}});
}

}  // namespace diag::redact
