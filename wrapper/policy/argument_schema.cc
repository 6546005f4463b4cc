// SPDX-License-Identifier: Apache-2.0
// Options and positionals of a command: their tables -> OptionSpec / PositionalSpec (see
// argument_schema.h).
#include "wrapper/policy/argument_schema.h"

#include <regex.h>

#include "wrapper/base/parse.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"

namespace diag::policy_loader {

namespace {

using policy::OptionSpec;
using policy::PositionalSpec;
using policy::ValueSpec;
using policy::ValueType;

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
        return at(ctx, type_node->source(),
                  what + ".type: unknown type '" + type +
                      "' (flag, int, enum, duration, time, unit, hostname, regex, "
                      "string, path, meta-path, boot, url, endpoint, target-host, target-port)");
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
    // A path's pattern is matched against the path as resolved (decide.cc): what the program gets.
    DIAG_TRY(only_for("pattern", v.type == ValueType::kRegex || policy::is_path_type(v.type)));
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
    if (v.type == ValueType::kRegex && t.get("pattern") == nullptr) {
        return at(ctx, t.source(), what + ": regex needs 'pattern'");
    }
    if (const auto* n = t.get("pattern")) {
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

}  // namespace

Result<OptionSpec> read_option(const FileCtx& ctx, const toml::node& n, policy::Style style, const std::string& what) {
    DIAG_TRY_ASSIGN(const toml::table* t, as_table(ctx, n, what));
    DIAG_TRY(check_keys(ctx, *t,
                        {"names", "type", "min", "max", "values", "pattern", "roots", "recursive", "required",
                         "sensitive", "optional_value"},
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
    if (const auto* r = t->get("optional_value")) {
        DIAG_TRY_ASSIGN(o.optional_value, read_bool(ctx, *r, what + ".optional_value"));
        // Only boot, a type whose values have a shape no option spelling has (a signed number, a
        // boot ID): the matcher takes the next word as the value only when it has that shape, so
        // an option can never be read as a value, nor a value as an option. And only for a
        // program that itself reads the next word as the optional value (journalctl -b): another
        // would read it as an operand. getopt style only: the value is passed on attached (-b-1),
        // which a words-style program would read as another word (-maxdepth2).
        if (o.optional_value && o.value.type != ValueType::kBoot) {
            return at(ctx, r->source(), what + ".optional_value: only boot values can be optional");
        }
        if (o.optional_value && style != policy::Style::kGetopt) {
            return at(ctx, r->source(), what + ".optional_value: only getopt-style rules can have optional values");
        }
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

}  // namespace diag::policy_loader
