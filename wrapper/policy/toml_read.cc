// SPDX-License-Identifier: Apache-2.0
// Typed toml++ readers for the policy schema (see toml_read.h).
#include "wrapper/policy/toml_read.h"

#include <algorithm>

#include "wrapper/base/parse.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/policy/model.h"

namespace diag::policy_loader {

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

Result<const toml::table*> find_table(const FileCtx& ctx, const toml::table& parent, const std::string& key) {
    const toml::node* n = parent.get(key);
    if (n == nullptr) {
        return static_cast<const toml::table*>(nullptr);
    }
    return as_table(ctx, *n, key);
}

Result<const toml::array*> as_array_of_tables(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    if (const auto* arr = n.as_array()) {
        return arr;
    }
    return at(ctx, n.source(), what + ": expected an array of tables ([[" + what + "]])");
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
    if (!util::starts_with(s, "/")) {
        return at(ctx, n.source(), what + ": '" + s + "' is not an absolute path");
    }
    return s;
}

}  // namespace diag::policy_loader
