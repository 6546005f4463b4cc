// SPDX-License-Identifier: Apache-2.0
// Typed readers over toml++ nodes, shared by every section of the policy schema: each one checks
// the TOML type exactly (never value_or(), which turns a wrong type into the default) and reports
// a failure as kPolicyInvalid at the node's file:line:col.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

// toml++ 3.3 asserts on some malformed input ("[\n") where its NDEBUG build reports a parse error.
// Assertions off in every build type, so debug builds and the fuzzers see what production sees.
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_cast<void>(0)
#endif
#include <toml++/toml.h>

#include "wrapper/base/error.h"

namespace diag::policy_loader {

// The file being read: its name for positions, and whether it is the main policy file (which
// alone may hold [settings] and [audit]) or a drop-in.
struct FileCtx {
    std::string file;
    bool main = true;
};

// A kPolicyInvalid error positioned at the start of `src` in ctx.file.
[[nodiscard]] Error at(const FileCtx& ctx, const toml::source_region& src, std::string msg);

// Refuses the first key of `t` not in `allowed`: "unknown key 'K' in WHERE", at the key.
[[nodiscard]] Status check_keys(const FileCtx& ctx, const toml::table& t,
                                std::initializer_list<std::string_view> allowed, const std::string& where);

// Each reader returns the value of `n` or an error "WHAT: expected ..." at `n`.
[[nodiscard]] Result<const toml::table*> as_table(const FileCtx& ctx, const toml::node& n, const std::string& what);
// The table `key` of `parent`: nullptr when the key is absent, "KEY: expected a table" when it is
// not a table.
[[nodiscard]] Result<const toml::table*> find_table(const FileCtx& ctx, const toml::table& parent,
                                                    const std::string& key);
// An array, as [[WHAT]] tables write one (its elements are checked by whoever reads them).
[[nodiscard]] Result<const toml::array*> as_array_of_tables(const FileCtx& ctx, const toml::node& n,
                                                            const std::string& what);
// A string of at most policy::kMaxStringBytes, valid UTF-8 and free of control characters.
[[nodiscard]] Result<std::string> read_string(const FileCtx& ctx, const toml::node& n, const std::string& what);
[[nodiscard]] Result<int64_t> read_int(const FileCtx& ctx, const toml::node& n, const std::string& what);
[[nodiscard]] Result<bool> read_bool(const FileCtx& ctx, const toml::node& n, const std::string& what);
// An array whose every element passes read_string.
[[nodiscard]] Result<std::vector<std::string>> read_strings(const FileCtx& ctx, const toml::node& n,
                                                            const std::string& what);
// A positive duration string ("500ms", "30s", "5min"), in milliseconds.
[[nodiscard]] Result<uint64_t> read_duration(const FileCtx& ctx, const toml::node& n, const std::string& what);
// A positive size: an integer, or a string like "64KiB", in bytes.
[[nodiscard]] Result<uint64_t> read_size(const FileCtx& ctx, const toml::node& n, const std::string& what);
// A string starting with '/'.
[[nodiscard]] Result<std::string> read_abs_path(const FileCtx& ctx, const toml::node& n, const std::string& what);

}  // namespace diag::policy_loader
