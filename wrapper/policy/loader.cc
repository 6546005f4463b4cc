// SPDX-License-Identifier: Apache-2.0
#include "wrapper/policy/loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <map>
// toml++ 3.3 asserts on some malformed input ("[\n") where its NDEBUG build reports a parse error.
// Assertions off in every build type, so debug builds and the fuzzers see what production sees.
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_cast<void>(0)
#endif
#include <toml++/toml.h>

#include "wrapper/policy/deny_list.h"
#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/parse.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/text_safety.h"

namespace diag::policy_loader {

namespace {

using policy::Command;
using policy::OptionSpec;
using policy::Policy;
using policy::PositionalSpec;
using policy::ValueSpec;
using policy::ValueType;

constexpr int kMaxExecSymlinks = 40;

// Everything read from one file, before the whole policy is assembled.
struct FileCtx {
    std::string file;
    bool main = true;
};

Error at(const FileCtx& ctx, const toml::source_region& src, std::string msg) {
    Error e = make_error(ErrorCode::kPolicyInvalid, std::move(msg));
    e.pos = SourcePos{ctx.file, static_cast<unsigned>(src.begin.line), static_cast<unsigned>(src.begin.column)};
    return e;
}

Status check_keys(const FileCtx& ctx, const toml::table& t, std::initializer_list<std::string_view> allowed,
                  const std::string& where) {
    for (const auto& [key, node] : t) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
            return at(ctx, key.source(), "unknown key '" + std::string(key.str()) + "' in " + where);
        }
    }
    return ok_status();
}

Result<const toml::table*> as_table(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    if (const auto* t = n.as_table()) {
        return t;
    }
    return at(ctx, n.source(), what + ": expected a table");
}

Result<std::string> read_string(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    if (auto v = n.value_exact<std::string>()) {
        if (v->size() > policy::kMaxStringBytes) {
            return at(ctx, n.source(), what + ": longer than " + std::to_string(policy::kMaxStringBytes) + " bytes");
        }
        if (!text_safety::valid_utf8(*v) || text_safety::find_control(*v)) {
            return at(ctx, n.source(), what + ": control characters are not allowed");
        }
        return *v;
    }
    return at(ctx, n.source(), what + ": expected a string");
}

Result<int64_t> read_int(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    if (auto v = n.value_exact<int64_t>()) {
        return *v;
    }
    return at(ctx, n.source(), what + ": expected an integer");
}

Result<bool> read_bool(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    if (auto v = n.value_exact<bool>()) {
        return *v;
    }
    return at(ctx, n.source(), what + ": expected true or false");
}

Result<std::vector<std::string>> read_strings(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    const auto* arr = n.as_array();
    if (arr == nullptr) {
        return at(ctx, n.source(), what + ": expected an array of strings");
    }
    std::vector<std::string> out;
    for (const auto& el : *arr) {
        DIAG_TRY_ASSIGN(std::string s, read_string(ctx, el, what));
        out.push_back(std::move(s));
    }
    return out;
}

Result<uint64_t> read_duration(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    DIAG_TRY_ASSIGN(std::string s, read_string(ctx, n, what));
    auto ms = util::parse_duration_ms(s);
    if (!ms || *ms == 0) {
        return at(ctx, n.source(), what + ": '" + s + "' is not a positive duration like 500ms, 30s, 5min");
    }
    return *ms;
}

Result<uint64_t> read_size(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    if (auto i = n.value_exact<int64_t>()) {
        if (*i <= 0) {
            return at(ctx, n.source(), what + ": must be positive");
        }
        return static_cast<uint64_t>(*i);
    }
    DIAG_TRY_ASSIGN(std::string s, read_string(ctx, n, what));
    auto bytes = util::parse_size(s);
    if (!bytes || *bytes == 0) {
        return at(ctx, n.source(), what + ": '" + s + "' is not a size like 65536, 64KiB, 16MiB");
    }
    return *bytes;
}

Result<std::string> read_abs_path(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    DIAG_TRY_ASSIGN(std::string s, read_string(ctx, n, what));
    if (s.empty() || s[0] != '/') {
        return at(ctx, n.source(), what + ": '" + s + "' is not an absolute path");
    }
    return s;
}

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 64 || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9'))) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
}

Status check_regex(const FileCtx& ctx, const toml::node& n, const std::string& pattern, const std::string& what) {
    regex_t re;
    const std::string anchored = "^(" + pattern + ")$";
    const int rc = ::regcomp(&re, anchored.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char buf[256];
        ::regerror(rc, &re, buf, sizeof buf);
        return at(ctx, n.source(), what + ": bad regex '" + pattern + "': " + buf);
    }
    ::regfree(&re);
    return ok_status();
}

// Reads the value-describing keys shared by options and positionals into `v`.
Status read_value_keys(const FileCtx& ctx, const toml::table& t, ValueSpec& v, const std::string& what) {
    const auto* type_node = t.get("type");
    if (type_node == nullptr) {
        return at(ctx, t.source(), what + ": missing 'type'");
    }
    DIAG_TRY_ASSIGN(std::string type, read_string(ctx, *type_node, what + ".type"));
    auto vt = policy::value_type_from_name(type);
    if (!vt) {
        return at(ctx, type_node->source(), what + ".type: unknown type '" + type +
                                                "' (flag, int, enum, duration, time, unit, hostname, regex, "
                                                "string, path, meta-path)");
    }
    v.type = *vt;
    auto only_for = [&](const char* key, bool allowed) -> Status {
        if (const auto* n = t.get(key); n != nullptr && !allowed) {
            return at(ctx, n->source(), what + "." + key + ": not valid for type " + type);
        }
        return ok_status();
    };
    DIAG_TRY(only_for("min", v.type == ValueType::kInt));
    DIAG_TRY(only_for("max", v.type == ValueType::kInt));
    DIAG_TRY(only_for("values", v.type == ValueType::kEnum));
    DIAG_TRY(only_for("pattern", v.type == ValueType::kRegex));
    DIAG_TRY(only_for("roots", policy::is_path_type(v.type)));
    DIAG_TRY(only_for("sensitive", v.type != ValueType::kFlag));
    if (const auto* n = t.get("sensitive")) {
        DIAG_TRY_ASSIGN(v.sensitive, read_bool(ctx, *n, what + ".sensitive"));
    }
    if (const auto* n = t.get("min")) {
        DIAG_TRY_ASSIGN(v.min, read_int(ctx, *n, what + ".min"));
    }
    if (const auto* n = t.get("max")) {
        DIAG_TRY_ASSIGN(v.max, read_int(ctx, *n, what + ".max"));
    }
    if (v.min && v.max && *v.min > *v.max) {
        return at(ctx, t.source(), what + ": min is greater than max");
    }
    if (v.type == ValueType::kEnum) {
        const auto* n = t.get("values");
        if (n == nullptr) {
            return at(ctx, t.source(), what + ": enum needs 'values'");
        }
        DIAG_TRY_ASSIGN(v.values, read_strings(ctx, *n, what + ".values"));
        if (v.values.empty()) {
            return at(ctx, n->source(), what + ".values: must not be empty");
        }
    }
    if (v.type == ValueType::kRegex) {
        const auto* n = t.get("pattern");
        if (n == nullptr) {
            return at(ctx, t.source(), what + ": regex needs 'pattern'");
        }
        DIAG_TRY_ASSIGN(v.pattern, read_string(ctx, *n, what + ".pattern"));
        DIAG_TRY(check_regex(ctx, *n, v.pattern, what + ".pattern"));
    }
    if (const auto* n = t.get("roots")) {
        DIAG_TRY_ASSIGN(auto roots, read_strings(ctx, *n, what + ".roots"));
        for (const auto& r : roots) {
            if (r.empty() || r[0] != '/') {
                return at(ctx, n->source(), what + ".roots: '" + r + "' is not absolute");
            }
            auto real = sys::real_path(r, ErrorCode::kPolicyInvalid);
            v.roots.push_back(real.ok() ? *real : util::join_path(util::split_path(r)));
        }
    }
    return ok_status();
}

Result<OptionSpec> read_option(const FileCtx& ctx, const toml::node& n, policy::Style style, const std::string& what) {
    DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, n, what));
    DIAG_TRY(check_keys(ctx, *t, {"names", "type", "min", "max", "values", "pattern", "roots", "recursive", "required",
                         "sensitive"},
                        what));
    OptionSpec o;
    const auto* names = t->get("names");
    if (names == nullptr) {
        return at(ctx, t->source(), what + ": missing 'names'");
    }
    DIAG_TRY_ASSIGN(o.names, read_strings(ctx, *names, what + ".names"));
    if (o.names.empty()) {
        return at(ctx, names->source(), what + ".names: must not be empty");
    }
    for (const auto& name : o.names) {
        const bool is_long = util::starts_with(name, "--") && name.size() > 2 && name.find('=') == std::string::npos;
        const bool is_short = name.size() == 2 && name[0] == '-' && name[1] != '-';
        const bool is_word = name.size() >= 2 && name[0] == '-' && name != "--" && name.find('=') == std::string::npos;
        const bool ok = style == policy::Style::kGetopt ? (is_long || is_short) : is_word;
        if (!ok || name.find(' ') != std::string::npos) {
            return at(ctx, names->source(),
                      what + ".names: '" + name + "' is not a valid option spelling for style " +
                          (style == policy::Style::kGetopt ? "getopt (-x or --long)" : "words (-word)"));
        }
    }
    DIAG_TRY(read_value_keys(ctx, *t, o.value, what));
    if (const auto* r = t->get("recursive")) {
        DIAG_TRY_ASSIGN(o.recursive, read_bool(ctx, *r, what + ".recursive"));
        if (o.recursive && o.value.type != ValueType::kFlag) {
            return at(ctx, r->source(), what + ".recursive: only flags can be recursive");
        }
    }
    if (const auto* r = t->get("required")) {
        DIAG_TRY_ASSIGN(o.required, read_bool(ctx, *r, what + ".required"));
    }
    return o;
}

Result<PositionalSpec> read_positional(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, n, what));
    DIAG_TRY(check_keys(ctx, *t, {"type", "min", "max", "values", "pattern", "roots", "tree", "sensitive"}, what));
    PositionalSpec p;
    // min/max here are counts, not value bounds: read them before the value keys.
    toml::table value_keys = *t;
    value_keys.erase("min");
    value_keys.erase("max");
    value_keys.erase("tree");
    DIAG_TRY(read_value_keys(ctx, value_keys, p.value, what));
    if (p.value.type == ValueType::kFlag) {
        return at(ctx, t->source(), what + ": a positional cannot be a flag");
    }
    if (const auto* m = t->get("min")) {
        DIAG_TRY_ASSIGN(int64_t v, read_int(ctx, *m, what + ".min"));
        if (v < 0 || v > 64) {
            return at(ctx, m->source(), what + ".min: must be 0..64");
        }
        p.min = static_cast<size_t>(v);
    }
    if (const auto* m = t->get("max")) {
        DIAG_TRY_ASSIGN(int64_t v, read_int(ctx, *m, what + ".max"));
        if (v < 1 || v > 64) {
            return at(ctx, m->source(), what + ".max: must be 1..64");
        }
        p.max = static_cast<size_t>(v);
    }
    if (p.min > p.max) {
        return at(ctx, t->source(), what + ": min is greater than max");
    }
    if (const auto* tr = t->get("tree")) {
        DIAG_TRY_ASSIGN(p.tree, read_bool(ctx, *tr, what + ".tree"));
        if (p.tree && !policy::is_path_type(p.value.type)) {
            return at(ctx, tr->source(), what + ".tree: only path types can be trees");
        }
    }
    return p;
}

Result<Command> read_command(const FileCtx& ctx, const std::string& id, const toml::node& n) {
    const std::string what = "command." + id;
    if (!valid_id(id)) {
        return at(ctx, n.source(), what + ": ids are [a-z0-9][a-z0-9_.-]* (at most 64 bytes)");
    }
    DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, n, what));
    DIAG_TRY(check_keys(ctx, *t,
                        {"match", "program", "description", "fixed", "style", "layout", "end_of_options", "timeout",
                         "output_cap", "network", "option", "positional"},
                        what));
    Command c;
    c.id = id;
    c.source = ctx.file + ":" + std::to_string(t->source().begin.line);
    const auto* match = t->get("match");
    if (match == nullptr) {
        return at(ctx, t->source(), what + ": missing 'match'");
    }
    DIAG_TRY_ASSIGN(auto words, read_strings(ctx, *match, what + ".match"));
    if (words.empty() || words.size() > 8) {
        return at(ctx, match->source(), what + ".match: needs 1 to 8 words");
    }
    for (const auto& w : words) {
        std::vector<std::string> alts;
        size_t start = 0;
        for (;;) {
            const size_t bar = w.find('|', start);
            alts.push_back(w.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
            if (bar == std::string::npos) {
                break;
            }
            start = bar + 1;
        }
        for (const auto& a : alts) {
            if (a.empty() || a[0] == '-' || a.find_first_of(" /") != std::string::npos) {
                return at(ctx, match->source(), what + ".match: bad word '" + a + "' (no '-' prefix, '/' or spaces)");
            }
        }
        c.match.push_back(std::move(alts));
    }
    if (policy::word_matches(c.match[0], "help")) {
        return at(ctx, match->source(), what + ".match: 'help' is reserved for the command listing");
    }
    c.program = c.match[0].front();
    if (const auto* p = t->get("program")) {
        DIAG_TRY_ASSIGN(c.program, read_string(ctx, *p, what + ".program"));
        if (c.program.empty() || (c.program.find('/') != std::string::npos && c.program[0] != '/')) {
            return at(ctx, p->source(), what + ".program: a bare name or an absolute path");
        }
    }
    const auto* desc = t->get("description");
    if (desc == nullptr) {
        return at(ctx, t->source(), what + ": missing 'description'");
    }
    DIAG_TRY_ASSIGN(c.description, read_string(ctx, *desc, what + ".description"));
    if (const auto* f = t->get("fixed")) {
        DIAG_TRY_ASSIGN(c.fixed, read_strings(ctx, *f, what + ".fixed"));
    }
    if (const auto* s = t->get("style")) {
        DIAG_TRY_ASSIGN(std::string style, read_string(ctx, *s, what + ".style"));
        if (style == "getopt") {
            c.style = policy::Style::kGetopt;
        } else if (style == "words") {
            c.style = policy::Style::kWords;
        } else {
            return at(ctx, s->source(), what + ".style: 'getopt' or 'words'");
        }
    }
    c.end_of_options = c.style == policy::Style::kGetopt;
    if (const auto* l = t->get("layout")) {
        DIAG_TRY_ASSIGN(std::string layout, read_string(ctx, *l, what + ".layout"));
        if (layout == "subcommand-first") {
            c.layout = policy::Layout::kSubcommandFirst;
        } else if (layout == "options-first") {
            c.layout = policy::Layout::kOptionsFirst;
        } else if (layout == "positionals-first") {
            c.layout = policy::Layout::kPositionalsFirst;
        } else {
            return at(ctx, l->source(), what + ".layout: 'subcommand-first', 'options-first' or 'positionals-first'");
        }
    }
    if (const auto* e = t->get("end_of_options")) {
        DIAG_TRY_ASSIGN(c.end_of_options, read_bool(ctx, *e, what + ".end_of_options"));
    }
    if (const auto* x = t->get("timeout")) {
        DIAG_TRY_ASSIGN(c.timeout_ms, read_duration(ctx, *x, what + ".timeout"));
    }
    if (const auto* x = t->get("output_cap")) {
        DIAG_TRY_ASSIGN(c.output_cap, read_size(ctx, *x, what + ".output_cap"));
    }
    if (const auto* x = t->get("network")) {
        DIAG_TRY_ASSIGN(c.network, read_bool(ctx, *x, what + ".network"));
    }
    if (const auto* o = t->get("option")) {
        const auto* arr = o->as_array();
        if (arr == nullptr) {
            return at(ctx, o->source(), what + ".option: expected an array of tables ([[" + what + ".option]])");
        }
        if (arr->size() > policy::kMaxOptionsPerCommand) {
            return at(ctx, o->source(), what + ".option: too many options");
        }
        size_t i = 0;
        for (const auto& el : *arr) {
            DIAG_TRY_ASSIGN(OptionSpec spec, read_option(ctx, el, c.style, what + ".option[" + std::to_string(i++) + "]"));
            for (const auto& name : spec.names) {
                for (const auto& other : c.options) {
                    if (std::find(other.names.begin(), other.names.end(), name) != other.names.end()) {
                        return at(ctx, el.source(), what + ": option '" + name + "' declared twice");
                    }
                }
            }
            c.options.push_back(std::move(spec));
        }
    }
    if (const auto* p = t->get("positional")) {
        const auto* arr = p->as_array();
        if (arr == nullptr) {
            return at(ctx, p->source(), what + ".positional: expected an array of tables ([[" + what + ".positional]])");
        }
        size_t i = 0;
        for (const auto& el : *arr) {
            DIAG_TRY_ASSIGN(PositionalSpec spec, read_positional(ctx, el, what + ".positional[" + std::to_string(i++) + "]"));
            c.positionals.push_back(std::move(spec));
        }
    }
    // A recursive flag or a tree positional with no operand would make the tool read from its
    // cwd, "/", where no tree check ran: the operand must be required.
    const bool recursive = std::any_of(c.options.begin(), c.options.end(), [](const OptionSpec& o) { return o.recursive; });
    for (const auto& p : c.positionals) {
        if (policy::is_path_type(p.value.type) && (p.tree || recursive) && p.min == 0) {
            return at(ctx, t->source(), what + ": a tree or recursively read path positional needs min >= 1");
        }
    }
    return c;
}

// Finds the executable for `c` through the search path and pins it (path, dev, ino). A program
// that is missing or untrusted makes the command unavailable, not the policy invalid: one policy
// serves NixOS and Debian.
}  // namespace

void pin(Command& c, const std::vector<std::string>& search_path) {
    std::vector<std::string> candidates;
    if (c.program[0] == '/') {
        candidates.push_back(c.program);
    } else {
        for (const auto& dir : search_path) {
            candidates.push_back(dir + "/" + c.program);
        }
    }
    for (const auto& cand : candidates) {
        struct stat lst {};
        if (::lstat(cand.c_str(), &lst) != 0) {
            continue;
        }
        // Follow symlinks hop by hop: every directory that holds a hop must be trusted, or a
        // writable directory could point `cat` at /bin/sh.
        std::string p = cand;
        std::string failure;
        for (int hop = 0; hop <= kMaxExecSymlinks; ++hop) {
            const size_t slash = p.rfind('/');
            const std::string parent = slash == 0 ? "/" : p.substr(0, slash);
            const std::string base = p.substr(slash + 1);
            auto real_parent = sys::real_path(parent, ErrorCode::kPolicyInvalid);
            if (!real_parent.ok()) {
                failure = real_parent.error().msg;
                break;
            }
            auto dirfd = sys::open_trusted(*real_parent, O_PATH | O_DIRECTORY, 0, ErrorCode::kPolicyInvalid);
            if (!dirfd.ok()) {
                failure = dirfd.error().msg;
                break;
            }
            const std::string joined = (*real_parent == "/" ? "" : *real_parent) + "/" + base;
            struct stat st {};
            if (::fstatat(dirfd->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                failure = joined + ": " + std::strerror(errno);
                break;
            }
            if (S_ISLNK(st.st_mode)) {
                char buf[PATH_MAX];
                const ssize_t n = ::readlinkat(dirfd->get(), base.c_str(), buf, sizeof buf - 1);
                if (n < 0) {
                    failure = joined + ": readlink: " + std::strerror(errno);
                    break;
                }
                const std::string target(buf, static_cast<size_t>(n));
                p = target[0] == '/' ? target : (*real_parent == "/" ? "" : *real_parent) + "/" + target;
                if (hop == kMaxExecSymlinks) {
                    failure = cand + ": too many symlinks";
                }
                continue;
            }
            auto fd = sys::open_trusted(joined, O_PATH, 0, ErrorCode::kPolicyInvalid);
            if (!fd.ok()) {
                failure = fd.error().msg;
                break;
            }
            if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
                failure = joined + ": not an executable regular file";
                break;
            }
            c.exe_path = joined;
            c.exe_dev = st.st_dev;
            c.exe_ino = st.st_ino;
            return;
        }
        c.unavailable = failure.empty() ? cand + ": cannot be resolved" : failure;
        return;  // the first candidate that exists decides; never fall through to a later directory
    }
    c.unavailable = "'" + c.program + "' not found in the search path";
}

namespace {

struct Accum {
    Policy policy;
    std::map<std::string, std::string> command_origin;
    std::string hash_input;
};

// toml++ 3.3 reaches __builtin_unreachable (undefined behaviour) classifying some non-ASCII code
// points (found by policy_loader_fuzz: U+FEF7 at the start of a key). Policy files are therefore
// ASCII; other characters can still be written as \uXXXX escapes inside strings.
Status check_ascii(const FileCtx& ctx, const std::string& text) {
    unsigned line = 1;
    unsigned col = 1;
    for (const char ch : text) {
        if (static_cast<unsigned char>(ch) >= 0x80) {
            Error e = make_error(ErrorCode::kPolicyInvalid,
                                 "non-ASCII byte: policy files are ASCII (write other characters as \\uXXXX in strings)");
            e.pos = SourcePos{ctx.file, line, col};
            return e;
        }
        if (ch == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return ok_status();
}

Status read_file_text(const FileCtx& ctx, const std::string& text, Accum& acc) {
    DIAG_TRY(check_ascii(ctx, text));
    toml::parse_result parsed = toml::parse(text, ctx.file);
    if (!parsed) {
        const auto& err = parsed.error();
        return at(ctx, err.source(), std::string(err.description()));
    }
    const toml::table& root = parsed.table();
    if (ctx.main) {
        DIAG_TRY(check_keys(ctx, root, {"version", "settings", "audit", "deny", "command"}, "policy"));
    } else {
        DIAG_TRY(check_keys(ctx, root, {"version", "deny", "command"}, "drop-in (only version, deny, command)"));
    }
    const auto* version = root.get("version");
    if (version == nullptr) {
        Error e = make_error(ErrorCode::kPolicyInvalid, "missing 'version = 1'");
        e.pos = SourcePos{ctx.file, 1, 1};
        return e;
    }
    DIAG_TRY_ASSIGN(int64_t v, read_int(ctx, *version, "version"));
    if (v != policy::kSchemaVersion) {
        return at(ctx, version->source(), "unsupported policy version " + std::to_string(v) + " (this build reads 1)");
    }
    Policy& p = acc.policy;
    if (const auto* s = root.get("settings")) {
        DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, *s, "settings"));
        DIAG_TRY(check_keys(ctx, *t, {"search_path", "include", "timeout", "output_cap", "landlock", "decision_timeout", "account"},
                            "settings"));
        if (const auto* n = t->get("landlock")) {
            DIAG_TRY_ASSIGN(std::string mode, read_string(ctx, *n, "settings.landlock"));
            if (mode == "required") {
                p.landlock = policy::LandlockMode::kRequired;
            } else if (mode == "best-effort") {
                p.landlock = policy::LandlockMode::kBestEffort;
            } else {
                return at(ctx, n->source(), "settings.landlock: 'required' or 'best-effort'");
            }
        }
        if (const auto* n = t->get("search_path")) {
            DIAG_TRY_ASSIGN(auto dirs, read_strings(ctx, *n, "settings.search_path"));
            for (const auto& d : dirs) {
                if (d.empty() || d[0] != '/') {
                    return at(ctx, n->source(), "settings.search_path: '" + d + "' is not absolute");
                }
            }
            p.search_path = std::move(dirs);
        }
        if (const auto* n = t->get("include")) {
            DIAG_TRY_ASSIGN(auto dirs, read_strings(ctx, *n, "settings.include"));
            for (const auto& d : dirs) {
                if (d.empty() || d[0] != '/') {
                    return at(ctx, n->source(), "settings.include: '" + d + "' is not absolute");
                }
            }
            p.include = std::move(dirs);
        }
        if (const auto* n = t->get("timeout")) {
            DIAG_TRY_ASSIGN(p.timeout_ms, read_duration(ctx, *n, "settings.timeout"));
        }
        if (const auto* n = t->get("output_cap")) {
            DIAG_TRY_ASSIGN(p.output_cap, read_size(ctx, *n, "settings.output_cap"));
        }
        if (const auto* n = t->get("account")) {
            DIAG_TRY_ASSIGN(p.account, read_string(ctx, *n, "settings.account"));
            // A passwd(5) name as useradd accepts it; ':' or a newline could never match an entry.
            if (p.account.empty() || p.account.size() > 32 || p.account[0] == '-' ||
                p.account.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                    std::string::npos) {
                return at(ctx, n->source(), "settings.account: '" + p.account + "' is not an account name");
            }
        }
        if (const auto* n = t->get("decision_timeout")) {
            DIAG_TRY_ASSIGN(p.decision_timeout_ms, read_duration(ctx, *n, "settings.decision_timeout"));
            if (p.decision_timeout_ms < policy::kMinDecisionTimeoutMs ||
                p.decision_timeout_ms > policy::kMaxDecisionTimeoutMs) {
                return at(ctx, n->source(), "settings.decision_timeout: between " +
                                                std::to_string(policy::kMinDecisionTimeoutMs) + "ms and " +
                                                std::to_string(policy::kMaxDecisionTimeoutMs / 1000) + "s");
            }
        }
    }
    if (ctx.main && p.search_path.empty()) {
        return at(ctx, root.source(), "settings.search_path is required");
    }
    if (const auto* a = root.get("audit")) {
        DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, *a, "audit"));
        DIAG_TRY(check_keys(ctx, *t, {"sinks", "file", "principals", "chain", "journald_socket", "syslog_socket"},
                            "audit"));
        if (const auto* n = t->get("principals")) {
            DIAG_TRY_ASSIGN(const toml::table* pt, as_table(ctx, *n, "audit.principals"));
            for (const auto& [key, value] : *pt) {
                const std::string fp(key.str());
                if (!util::starts_with(fp, "SHA256:") || fp.size() != 50) {
                    return at(ctx, key.source(), "audit.principals: '" + fp +
                                                     "' is not a key fingerprint (SHA256:..., as ssh-keygen -lf prints)");
                }
                DIAG_TRY_ASSIGN(std::string name, read_string(ctx, value, "audit.principals." + fp));
                p.audit.principals[fp] = name;
            }
        }
        if (const auto* n = t->get("sinks")) {
            DIAG_TRY_ASSIGN(auto sinks, read_strings(ctx, *n, "audit.sinks"));
            for (const auto& s : sinks) {
                if (s == "file") {
                    p.audit.sinks.push_back(policy::AuditSink::kFile);
                } else if (s == "syslog") {
                    p.audit.sinks.push_back(policy::AuditSink::kSyslog);
                } else if (s == "journald") {
                    p.audit.sinks.push_back(policy::AuditSink::kJournald);
                } else {
                    return at(ctx, n->source(), "audit.sinks: unknown sink '" + s + "' (file, syslog, journald)");
                }
            }
        }
        if (const auto* n = t->get("file")) {
            DIAG_TRY_ASSIGN(p.audit.file, read_abs_path(ctx, *n, "audit.file"));
        }
        if (const auto* n = t->get("chain")) {
            DIAG_TRY_ASSIGN(p.audit.chain, read_abs_path(ctx, *n, "audit.chain"));
        }
        if (const auto* n = t->get("journald_socket")) {
            DIAG_TRY_ASSIGN(p.audit.journald_socket, read_abs_path(ctx, *n, "audit.journald_socket"));
        }
        if (const auto* n = t->get("syslog_socket")) {
            DIAG_TRY_ASSIGN(p.audit.syslog_socket, read_abs_path(ctx, *n, "audit.syslog_socket"));
        }
    }
    if (const auto* d = root.get("deny")) {
        DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, *d, "deny"));
        DIAG_TRY(check_keys(ctx, *t, {"paths"}, "deny"));
        if (const auto* n = t->get("paths")) {
            const auto* arr = n->as_array();
            if (arr == nullptr) {
                return at(ctx, n->source(), "deny.paths: expected an array of strings");
            }
            for (const auto& el : *arr) {
                DIAG_TRY_ASSIGN(std::string path, read_abs_path(ctx, el, "deny.paths"));
                acc.policy.deny_written.push_back({path, ctx.file + ":" + std::to_string(el.source().begin.line)});
            }
        }
    }
    if (const auto* c = root.get("command")) {
        DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, *c, "command"));
        for (const auto& [key, node] : *t) {
            const std::string id(key.str());
            if (auto it = acc.command_origin.find(id); it != acc.command_origin.end()) {
                return at(ctx, key.source(), "command '" + id + "' is already defined at " + it->second);
            }
            DIAG_TRY_ASSIGN(Command cmd, read_command(ctx, id, node));
            acc.command_origin[id] = cmd.source;
            p.commands.push_back(std::move(cmd));
            if (p.commands.size() > policy::kMaxCommands) {
                return at(ctx, key.source(), "more than " + std::to_string(policy::kMaxCommands) + " commands");
            }
        }
    }
    return ok_status();
}

// Opens a policy file or drop-in directory: root-owned and not writable by others all the way
// down, except for the build-time check, whose result is printed and never enforced.
Result<sys::UniqueFd> open_policy_path(const std::string& real, int flags, const Options& opts) {
    if (!opts.syntax_only) {
        return sys::open_trusted(real, flags, opts.trusted_owner, ErrorCode::kPolicyInvalid);
    }
    sys::UniqueFd fd(::open(real.c_str(), flags | O_CLOEXEC));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kPolicyInvalid, "open(" + real + ")", errno);
    }
    return fd;
}

Result<std::string> read_policy_file(const std::string& path, const Options& opts) {
    DIAG_TRY_ASSIGN(std::string real, sys::real_path(path, ErrorCode::kPolicyInvalid));
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, open_policy_path(real, O_RDONLY | O_NONBLOCK, opts));
    DIAG_TRY_ASSIGN(struct stat st, sys::fstat_fd(fd.get(), real, ErrorCode::kPolicyInvalid));
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kPolicyInvalid, real + ": not a regular file");
    }
    auto text = sys::read_all(fd.get(), real, kMaxPolicyBytes);
    if (!text.ok()) {
        return make_error(ErrorCode::kPolicyInvalid, text.error().msg);
    }
    return std::move(text).value();
}


Result<Policy> finish(Accum& acc, const Options& opts) {
    Policy& p = acc.policy;
    // Drop-ins: every *.toml in each include directory, lexical order.
    for (const auto& dir : opts.syntax_only && opts.include ? *opts.include : p.include) {
        auto real = sys::real_path(dir, ErrorCode::kPolicyInvalid);
        if (!real.ok()) {
            if (errno == ENOENT) {
                continue;  // no drop-ins on this host
            }
            return std::move(real).error();
        }
        DIAG_TRY_ASSIGN(sys::UniqueFd dfd, open_policy_path(*real, O_RDONLY | O_DIRECTORY, opts));
        DIR* d = ::fdopendir(dfd.release());
        if (d == nullptr) {
            return sys_error(ErrorCode::kPolicyInvalid, "opendir(" + *real + ")", errno);
        }
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0 && name[0] != '.') {
                names.push_back(name);
            }
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        if (names.size() > kMaxDropIns) {
            return make_error(ErrorCode::kPolicyInvalid, *real + ": more than " + std::to_string(kMaxDropIns) + " drop-ins");
        }
        for (const auto& name : names) {
            const std::string file = *real + "/" + name;
            DIAG_TRY_ASSIGN(std::string text, read_policy_file(file, opts));
            acc.hash_input += file + '\0' + text + '\0';
            DIAG_TRY(read_file_text(FileCtx{file, false}, text, acc));
            p.loaded_files.push_back(file);
        }
    }
    if (p.audit.sinks.empty()) {
        return make_error(ErrorCode::kPolicyInvalid, p.path + ": [audit] sinks must name at least one sink");
    }
    if (std::find(p.audit.sinks.begin(), p.audit.sinks.end(), policy::AuditSink::kFile) != p.audit.sinks.end() &&
        p.audit.file.empty()) {
        return make_error(ErrorCode::kPolicyInvalid, p.path + ": [audit] sink 'file' needs audit.file");
    }
    for (auto& c : p.commands) {
        if (c.timeout_ms == 0) {
            c.timeout_ms = p.timeout_ms;
        }
        if (c.output_cap == 0) {
            c.output_cap = p.output_cap;
        }
    }
    if (opts.syntax_only) {
        DIAG_TRY(deny_list::check_deny_syntax(p.deny_written));
    } else if (opts.build_deny) {
        DIAG_TRY_ASSIGN(p.deny, deny_list::build_deny(p.deny_written));
    }
    p.sha256 = sha256_hex(acc.hash_input);
    return std::move(acc.policy);
}

}  // namespace

Result<Policy> load_from_string(const std::string& text, const std::string& name, const Options& opts) {
    Accum acc;
    acc.policy.path = name;
    acc.hash_input = name + '\0' + text + '\0';
    DIAG_TRY(read_file_text(FileCtx{name, true}, text, acc));
    acc.policy.loaded_files.push_back(name);
    return finish(acc, opts);
}

Result<Policy> load(const std::string& path, const Options& opts) {
    DIAG_TRY_ASSIGN(std::string text, read_policy_file(path, opts));
    return load_from_string(text, path, opts);
}

}  // namespace diag::policy_loader
