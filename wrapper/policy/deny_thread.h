// SPDX-License-Identifier: Apache-2.0
// The deny list's build on a second thread. Canonicalizing the deny entries against the live
// host (deny_list::build_deny) is the longest stage before the decision and depends only on the
// entries, not on the request; a request whose policy comes from a compiled image knows them as
// soon as the image's head is read. Built beside the image's key check, the record's opening and
// the account check, its cost mostly leaves the request's wall time (adr/0025).
//
// The thread only reads the file system and returns a value: nothing it computes is used before
// take(), which joins it, and the caller takes it only for the very entries the verified policy
// has. Every signal is blocked in it (the pipeline's signal handling is the main thread's), and it
// is bounded by the same decision deadline. Where no thread can be started, take() builds on the
// caller's thread: the answer is the same.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/policy/model.h"

namespace diag::deny_thread {

class Build {
  public:
    // Starts build_deny(raw) on a thread of its own (on the caller's, at take(), if none starts).
    explicit Build(std::vector<deny_list::RawDeny> raw);
    ~Build();  // abandons the build and joins: the thread never outlives its Build
    Build(const Build&) = delete;
    Build& operator=(const Build&) = delete;

    // The entries it builds.
    [[nodiscard]] const std::vector<deny_list::RawDeny>& raw() const { return raw_; }

    // Waits for the build and returns it; once only.
    [[nodiscard]] Result<policy::Deny> take();

  private:
    void run();

    std::vector<deny_list::RawDeny> raw_;
    std::atomic<bool> abandoned_{false};  // set by the destructor: a result nobody will take
    std::optional<Result<policy::Deny>> built_;
    pid_t tid_ = 0;  // the thread's task, once it runs
    std::thread thread_;
};

// Runs `fn` on a new thread with every signal blocked in it; the caller's signal mask is left as
// it was. An unjoinable thread when none could be started (RLIMIT_NPROC, memory).
[[nodiscard]] std::thread start_with_signals_blocked(std::function<void()> fn);

// The deny list of `policy`: taken from `pending` when it builds exactly the policy's entries,
// built here otherwise. `pending` is consumed either way.
[[nodiscard]] Result<policy::Deny> take_or_build(std::unique_ptr<Build> pending,
                                                 const std::vector<deny_list::RawDeny>& raw);

}  // namespace diag::deny_thread
