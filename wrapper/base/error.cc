// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/error.h"

#include <cstring>

namespace diag {

std::string Error::describe() const {
    if (!pos) {
        return msg;
    }
    return pos->file + ":" + std::to_string(pos->line) + ":" + std::to_string(pos->column) + ": " + msg;
}

Error make_error(ErrorCode code, std::string msg) {
    Error e;
    e.code = code;
    e.msg = std::move(msg);
    return e;
}

Error deny(std::string reason, std::string msg, std::string detail) {
    Error e;
    e.code = ErrorCode::kDenied;
    e.reason = std::move(reason);
    e.msg = std::move(msg);
    e.detail = std::move(detail);
    return e;
}

Error sys_error(ErrorCode code, const std::string& call, int err) {
    return make_error(code, call + ": " + std::strerror(err));
}

}  // namespace diag
