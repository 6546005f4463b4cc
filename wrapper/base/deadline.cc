// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/deadline.h"

#include <atomic>
#include <string>

namespace diag::deadline {

namespace {

using Clock = std::chrono::steady_clock;

// Written by the thread that runs the pipeline; read also by the deny list's build, which may run
// on a second thread (deny_thread.h) while the first tightens the deadline: every field is atomic.
// `at` is the deadline in steady-clock nanoseconds; 0 while none is set.
struct State {
    std::atomic<int64_t> started{0};
    std::atomic<int64_t> at{0};
    std::atomic<uint64_t> budget{0};
};

State& state() {
    static State s;
    return s;
}

// The calling thread's abandon flag (abandon_when).
thread_local const std::atomic<bool>* t_abandon = nullptr;

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

int64_t plus_ms(int64_t ns, uint64_t millis) { return ns + static_cast<int64_t>(millis) * 1000000; }

}  // namespace

void start(uint64_t millis) {
    State& s = state();
    const int64_t now = now_ns();
    s.started = now;
    s.budget = millis;
    s.at = plus_ms(now, millis);
}

void tighten(uint64_t millis) {
    State& s = state();
    if (s.at == 0 || millis >= s.budget) {
        return;
    }
    s.budget = millis;
    s.at = plus_ms(s.started, millis);
}

void clear() {
    State& s = state();
    s.at = 0;
    s.budget = 0;
    s.started = 0;
}

bool passed() {
    const int64_t at = state().at;
    return at != 0 && now_ns() >= at;
}

std::optional<uint64_t> remaining_ms() {
    const int64_t at = state().at;
    if (at == 0) {
        return std::nullopt;
    }
    const int64_t left = (at - now_ns()) / 1000000;
    return left > 0 ? static_cast<uint64_t>(left) : 0;
}

uint64_t budget_ms() { return state().at != 0 ? state().budget.load() : 0; }

void abandon_when(const std::atomic<bool>* flag) { t_abandon = flag; }

Status check(std::string_view what) {
    if (t_abandon != nullptr && t_abandon->load()) {
        return diag::deny(std::string(kReason), "abandoned: nobody will use it (while " + std::string(what) + ")");
    }
    if (!passed()) {
        return ok_status();
    }
    return diag::deny(std::string(kReason), "the decision took longer than " + std::to_string(state().budget) +
                                                " ms (while " + std::string(what) + ")");
}

}  // namespace diag::deadline
