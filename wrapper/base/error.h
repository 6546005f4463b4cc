// SPDX-License-Identifier: Apache-2.0
// Error model: every fallible function returns Result<T>; errors carry a closed ErrorCode, a stable
// reason code for denials (what agents and auditors key on) and one human line.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace diag {

enum class ErrorCode {
    kUsage,          // bad wrapper invocation (operator error)
    kPolicyInvalid,  // policy file could not be loaded
    kDenied,         // the request was refused
    kAudit,          // the audit record could not be written
    kExecFailed,     // the pinned binary could not be started
    kInternal,       // anything else
};

struct SourcePos {
    std::string file;
    unsigned line = 0;
    unsigned column = 0;
};

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string reason;  // stable kebab-case reason code (denials), e.g. "path-denied"
    std::string msg;     // one human line
    std::optional<SourcePos> pos;
    std::string detail;  // e.g. the deny entry that matched, for --explain and the audit record

    // "file:line:col: msg" when a position is known.
    [[nodiscard]] std::string describe() const;
};

[[nodiscard]] Error make_error(ErrorCode code, std::string msg);
[[nodiscard]] Error deny(std::string reason, std::string msg, std::string detail = {});
// "call(args): strerror(errno)" in the nsjail PLOG style.
[[nodiscard]] Error sys_error(ErrorCode code, const std::string& call, int err);

// A minimal expected<T, Error>: libstdc++ 12's std::expected is unavailable to clang 14 (fuzz preset).
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT: implicit by design

    [[nodiscard]] bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace diag

// Propagate an error unchanged.
#define DIAG_TRY(expr)                             \
    do {                                           \
        auto diag_try_r_ = (expr);                 \
        if (!diag_try_r_.ok()) {                   \
            return std::move(diag_try_r_).error(); \
        }                                          \
    } while (0)

#define DIAG_CONCAT_INNER_(a, b) a##b
#define DIAG_CONCAT_(a, b) DIAG_CONCAT_INNER_(a, b)
// DIAG_TRY_ASSIGN(auto x, f()): declare x from the value of f() or return its error.
#define DIAG_TRY_ASSIGN(decl, expr) DIAG_TRY_ASSIGN_IMPL_(DIAG_CONCAT_(diag_r_, __LINE__), decl, expr)
#define DIAG_TRY_ASSIGN_IMPL_(tmp, decl, expr) \
    auto tmp = (expr);                         \
    if (!tmp.ok()) {                           \
        return std::move(tmp).error();         \
    }                                          \
    decl = std::move(tmp).value()
