// SPDX-License-Identifier: Apache-2.0
#include "wrapper/request/command.h"

#include "wrapper/base/text_safety.h"

namespace diag::command {

namespace {

std::string at(size_t i) { return " at byte " + std::to_string(i); }

// Whole-string checks first, so no later step ever sees these bytes (docs/bypass-catalogue.md A.2,
// A.6, I.70).
Status check_bytes(std::string_view request) {
    if (request.size() > kMaxRequestBytes) {
        return deny("parse-limit", "request is longer than " + std::to_string(kMaxRequestBytes) + " bytes");
    }
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
    return ok_status();
}

// The words of the request, stage by stage, as the loop below reads them.
class Splitter {
  public:
    // A character taken literally (quoted or escaped): a glob character in it is escaped in the
    // pattern, so it matches only itself.
    void literal(char c) {
        word_.text += c;
        if (kGlobChars.find(c) != std::string_view::npos || c == '\\') {
            word_.pattern += '\\';
        }
        word_.pattern += c;
        in_word_ = true;
        open_bracket_ = false;
    }
    // An unquoted character that a shell would read as a glob.
    void glob(char c) {
        word_.text += c;
        word_.pattern += c;
        word_.glob = true;
        in_word_ = true;
        open_bracket_ = c == '[';
    }
    // An opening quote: the word exists even if the quotes are empty ('').
    void quoted() {
        in_word_ = true;
        open_bracket_ = false;
    }
    // The last character taken was an unquoted `[`.
    [[nodiscard]] bool after_open_bracket() const { return open_bracket_; }

    void end_word() {
        if (!in_word_) {
            return;
        }
        if (!word_.glob) {
            word_.pattern = word_.text;
        }
        stage_.push_back(std::move(word_));
        word_ = Word{};
        in_word_ = false;
        open_bracket_ = false;
        ++words_;
    }
    // An unquoted `|` at byte `i`: the stage so far must not be empty.
    Status end_stage(size_t i) {
        end_word();
        if (stage_.empty()) {
            return deny("pipe-syntax", std::string(stages_.empty() ? "'|' at the start" : "empty pipeline stage") +
                                           at(i) + " (A | B: a command, then filters)");
        }
        stages_.push_back(std::move(stage_));
        stage_.clear();
        return ok_status();
    }
    // The last stage: a `|` must be followed by a command.
    Result<std::vector<Stage>> finish(size_t end) {
        end_word();
        if (stage_.empty()) {
            if (!stages_.empty()) {
                return deny("pipe-syntax", "'|' at the end" + at(end) + " (A | B: a command, then filters)");
            }
        } else {
            stages_.push_back(std::move(stage_));
        }
        if (stages_.size() > kMaxStages) {
            return deny("pipe-limit", "more than " + std::to_string(kMaxStages) + " commands in one pipeline");
        }
        if (words_ > kMaxArgs) {
            return deny("parse-limit", "more than " + std::to_string(kMaxArgs) + " arguments");
        }
        for (const auto& stage : stages_) {
            for (const auto& w : stage) {
                if (w.text.size() > kMaxArgBytes) {
                    return deny("parse-limit", "an argument is longer than " + std::to_string(kMaxArgBytes) + " bytes");
                }
            }
        }
        return std::move(stages_);
    }

  private:
    Word word_;
    bool in_word_ = false;
    bool open_bracket_ = false;
    Stage stage_;
    std::vector<Stage> stages_;
    size_t words_ = 0;
};

Error metachar(char c, size_t i) {
    return deny("parse-metachar",
                std::string("shell metacharacter '") + c + "'" + at(i) + " (no shell: quote it to pass it literally)");
}

}  // namespace

Result<std::vector<Stage>> parse(std::string_view request) {
    DIAG_TRY(check_bytes(request));
    Splitter out;
    enum class Quote { kNone, kSingle, kDouble } quote = Quote::kNone;
    size_t quote_start = 0;
    for (size_t i = 0; i < request.size(); ++i) {
        const char c = request[i];
        if (quote == Quote::kSingle) {
            if (c == '\'') {
                quote = Quote::kNone;
            } else {
                out.literal(c);
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
                    out.literal(request[++i]);
                } else {
                    out.literal(c);
                }
            } else if (c == '$' || c == '`') {
                // A shell would expand these even inside double quotes; refuse rather than surprise.
                return deny("parse-metachar", std::string("'") + c + "' inside double quotes" + at(i) +
                                                  " (no expansion; use single quotes for a literal)");
            } else {
                out.literal(c);
            }
            continue;
        }
        switch (c) {
            case ' ':
                out.end_word();
                continue;
            case '\'':
                quote = Quote::kSingle;
                quote_start = i;
                out.quoted();
                continue;
            case '"':
                quote = Quote::kDouble;
                quote_start = i;
                out.quoted();
                continue;
            case '\\':
                if (i + 1 >= request.size()) {
                    return deny("parse-quote", "backslash at end of request");
                }
                out.literal(request[++i]);
                continue;
            case '|':
                // `||` is a shell's or-list and `|&` pipes stderr too: neither is a pipeline here.
                if (i + 1 < request.size() && (request[i + 1] == '|' || request[i + 1] == '&')) {
                    return deny("pipe-syntax", std::string("'|") + request[i + 1] + "'" + at(i) +
                                                   " (only a plain '|' between commands)");
                }
                DIAG_TRY(out.end_stage(i));
                continue;
            default:
                break;
        }
        // `!` right after an unquoted `[` negates a bracket expression ([!a]); anywhere else a
        // shell would read it as history expansion or negation.
        const bool bracket_not = c == '!' && out.after_open_bracket();
        if (kGlobChars.find(c) != std::string_view::npos || bracket_not) {
            out.glob(c);
            continue;
        }
        if (kMetachars.find(c) != std::string_view::npos) {
            return metachar(c, i);
        }
        out.literal(c);
    }
    if (quote != Quote::kNone) {
        return deny("parse-quote", std::string("unbalanced ") + (quote == Quote::kSingle ? "single" : "double") +
                                       " quote opened" + at(quote_start));
    }
    return out.finish(request.size());
}

std::vector<std::string> texts(const Stage& stage) {
    std::vector<std::string> out;
    out.reserve(stage.size());
    for (const auto& w : stage) {
        out.push_back(w.text);
    }
    return out;
}

Result<std::vector<std::string>> tokenize(std::string_view request) {
    DIAG_TRY_ASSIGN(std::vector<Stage> stages, parse(request));
    if (stages.empty()) {
        return std::vector<std::string>{};
    }
    if (stages.size() > 1) {
        return deny("parse-metachar", "shell metacharacter '|' (a pipeline where one command is expected)");
    }
    for (const auto& w : stages[0]) {
        if (w.glob) {
            return deny("parse-metachar", "glob characters in '" + w.text + "' where one command is expected");
        }
    }
    return texts(stages[0]);
}

}  // namespace diag::command
