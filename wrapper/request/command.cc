// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/command.h"

#include "wrapper/base/text_safety.h"

namespace diag::command {

namespace {

std::string at(size_t i) { return " at byte " + std::to_string(i); }

}  // namespace

Result<std::vector<std::string>> tokenize(std::string_view request) {
    if (request.size() > kMaxRequestBytes) {
        return deny("parse-limit", "request is longer than " + std::to_string(kMaxRequestBytes) + " bytes");
    }
    // Whole-string checks first, so no later stage ever sees these bytes (docs/bypass-catalogue.md A.2, A.6, I.70).
    if (request.find('\0') != std::string_view::npos) {
        return deny("parse-control", "request contains a NUL byte");
    }
    if (!text_safety::valid_utf8(request)) {
        return deny("parse-utf8", "request is not valid UTF-8");
    }
    if (auto pos = text_safety::find_control(request)) {
        const bool newline = request[*pos] == '\n' || request[*pos] == '\r';
        return deny("parse-control", std::string(newline ? "newline" : "control character") + " in request" + at(*pos) +
                                         " (one command per request)");
    }

    std::vector<std::string> argv;
    std::string cur;
    bool in_word = false;
    enum class Quote { kNone, kSingle, kDouble } quote = Quote::kNone;
    size_t quote_start = 0;

    for (size_t i = 0; i < request.size(); ++i) {
        const char c = request[i];
        if (quote == Quote::kSingle) {
            if (c == '\'') {
                quote = Quote::kNone;
            } else {
                cur += c;
            }
            continue;
        }
        if (quote == Quote::kDouble) {
            if (c == '"') {
                quote = Quote::kNone;
            } else if (c == '\\') {
                // POSIX: inside double quotes a backslash escapes only $ ` " \ (and newline, refused above).
                if (i + 1 < request.size() &&
                    std::string_view("$`\"\\").find(request[i + 1]) != std::string_view::npos) {
                    cur += request[++i];
                } else {
                    cur += c;
                }
            } else if (c == '$' || c == '`') {
                // A shell would expand these even inside double quotes; refuse rather than surprise.
                return deny("parse-metachar", std::string("'") + c + "' inside double quotes" + at(i) +
                                                  " (no expansion; use single quotes for a literal)");
            } else {
                cur += c;
            }
            continue;
        }
        switch (c) {
            case ' ':
                if (in_word) {
                    argv.push_back(std::move(cur));
                    cur.clear();
                    in_word = false;
                }
                continue;
            case '\'':
                quote = Quote::kSingle;
                quote_start = i;
                in_word = true;
                continue;
            case '"':
                quote = Quote::kDouble;
                quote_start = i;
                in_word = true;
                continue;
            case '\\':
                if (i + 1 >= request.size()) {
                    return deny("parse-quote", "backslash at end of request");
                }
                cur += request[++i];
                in_word = true;
                continue;
            default:
                break;
        }
        if (kMetachars.find(c) != std::string_view::npos) {
            return deny("parse-metachar", std::string("shell metacharacter '") + c + "'" + at(i) +
                                              " (no shell: quote it to pass it literally)");
        }
        cur += c;
        in_word = true;
    }
    if (quote != Quote::kNone) {
        return deny("parse-quote", std::string("unbalanced ") + (quote == Quote::kSingle ? "single" : "double") +
                                       " quote opened" + at(quote_start));
    }
    if (in_word) {
        argv.push_back(std::move(cur));
    }
    if (argv.size() > kMaxArgs) {
        return deny("parse-limit", "more than " + std::to_string(kMaxArgs) + " arguments");
    }
    for (const auto& a : argv) {
        if (a.size() > kMaxArgBytes) {
            return deny("parse-limit", "an argument is longer than " + std::to_string(kMaxArgBytes) + " bytes");
        }
    }
    return argv;
}

}  // namespace diag::command
