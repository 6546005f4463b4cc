// SPDX-License-Identifier: Apache-2.0
// The chain state file, open and locked while a wrapper writes its records (chain.h).
#include "wrapper/record/chain.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "wrapper/record/sinks.h"

namespace diag::audit_chain {

Result<Locked> Locked::open(const std::string& path, const std::string& new_id, uid_t owner) {
    // No O_CREAT: the installer creates the file with its owner and mode; a wrapper that created
    // it would make it the audited account's.
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, audit_sinks::open_trusted_log(path, O_RDWR, 0, owner, "chain state"));
    DIAG_TRY(audit_sinks::lock_bounded(fd.get(), path));
    // Read under the lock: the head another wrapper stored last. The fd is fresh: offset 0.
    auto read = sys::read_all(fd.get(), "chain state " + path, kMaxStateBytes);
    if (!read.ok()) {
        return make_error(ErrorCode::kAudit, read.error().msg + " (corrupt: the chain cannot continue, see adr/0011)");
    }
    const std::string text = std::move(read).value();
    if (text.empty()) {
        // First use: the documented way to start a chain is an empty state file.
        return Locked(std::move(fd), path, genesis(new_id, static_cast<int64_t>(::time(nullptr))));
    }
    DIAG_TRY_ASSIGN(State s, parse_state(text, path));
    return Locked(std::move(fd), path, std::move(s));
}

Status Locked::store(const State& s) {
    const std::string text = format_state(s);
    // Written in place, then cut to its length: a shorter state never leaves the tail of the
    // longer one behind. A crash between the two leaves a file parse_state refuses (fail closed).
    const ssize_t n = ::pwrite(fd_.get(), text.data(), text.size(), 0);
    if (n < 0 || static_cast<size_t>(n) != text.size()) {
        return sys_error(ErrorCode::kAudit, "chain state write(" + path_ + ")", n < 0 ? errno : EIO);
    }
    if (::ftruncate(fd_.get(), static_cast<off_t>(text.size())) != 0) {
        return sys_error(ErrorCode::kAudit, "chain state ftruncate(" + path_ + ")", errno);
    }
    state_ = s;
    return ok_status();
}

}  // namespace diag::audit_chain
