// SPDX-License-Identifier: Apache-2.0
// The deny list's build on a second thread (deny_thread.h).
#include "wrapper/policy/deny_thread.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <utility>

#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"

namespace diag::deny_thread {

namespace {

// True when `deny` names the task `tid` of this process: an entry through /proc/thread-self
// resolves there on the thread that built it, and the caller's build names the caller's task.
bool names_task(const policy::Deny& deny, pid_t tid) {
    const std::string task = "/proc/" + std::to_string(::getpid()) + "/task/" + std::to_string(tid);
    for (const auto& e : deny.entries) {
        if (util::path_within(e.pattern, task)) {
            return true;
        }
    }
    for (const auto& [id, path] : deny.objects) {
        if (util::path_within(path, task)) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::thread start_with_signals_blocked(std::function<void()> fn) {
    // A new thread inherits the creating thread's signal mask: all blocked for the moment it is
    // created, so a terminating signal is never delivered to it (it would end the process before
    // the request is recorded; the main thread holds them for the supervisor,
    // sys::hold_terminating_signals).
    sigset_t all;
    sigset_t before;
    sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &before) != 0) {
        return {};
    }
    std::thread t;
    try {
        t = std::thread(std::move(fn));
    } catch (const std::system_error&) {
        // No thread (RLIMIT_NPROC, memory): the caller does the work itself.
    }
    (void)pthread_sigmask(SIG_SETMASK, &before, nullptr);
    return t;
}

Build::Build(std::vector<deny_list::RawDeny> raw)
    : raw_(std::move(raw)), thread_(start_with_signals_blocked([this] { run(); })) {}

Build::~Build() {
    // Dropped without take(): the image was not used, or the request was refused before stage
    // 0b. Its next deadline check ends it; waiting for the whole build would cost the request
    // it on top of its own.
    abandoned_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Build::run() {
    tid_ = ::gettid();
    deadline::abandon_when(&abandoned_);
    try {
        built_.emplace(deny_list::build_deny(raw_));
    } catch (...) {
        // On the caller's thread main()'s handler would end the request as an internal error; an
        // exception leaving a thread would abort the process unrecorded. Refused at stage 0b.
        built_.emplace(make_error(ErrorCode::kInternal, "building the deny list failed (out of memory?)"));
    }
    deadline::abandon_when(nullptr);
}

Result<policy::Deny> Build::take() {
    if (thread_.joinable()) {
        thread_.join();  // after it, the thread's writes to built_ are visible here
    }
    // What the thread resolved through /proc/thread-self is its own task, not the caller's: built
    // again here, so the answer never depends on whether the thread ran.
    if (built_ && built_->ok() && names_task(built_->value(), tid_)) {
        built_.reset();
    }
    if (!built_) {
        built_.emplace(deny_list::build_deny(raw_));
    }
    Result<policy::Deny> out = std::move(*built_);
    built_.reset();
    return out;
}

Result<policy::Deny> take_or_build(std::unique_ptr<Build> pending, const std::vector<deny_list::RawDeny>& raw) {
    if (pending && pending->raw() == raw) {
        return pending->take();
    }
    pending.reset();  // another policy's entries: joined and dropped
    return deny_list::build_deny(raw);
}

}  // namespace diag::deny_thread
