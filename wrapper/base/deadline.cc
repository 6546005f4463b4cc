// SPDX-License-Identifier: Apache-2.0
#include "wrapper/base/deadline.h"

#include <string>

namespace diag::deadline {

namespace {

using Clock = std::chrono::steady_clock;

struct State {
    bool set = false;
    Clock::time_point started;
    Clock::time_point at;
    uint64_t budget = 0;
};

State& state() {
    static State s;
    return s;
}

}  // namespace

void start(uint64_t millis) {
    State& s = state();
    s.set = true;
    s.started = Clock::now();
    s.budget = millis;
    s.at = s.started + std::chrono::milliseconds(millis);
}

void tighten(uint64_t millis) {
    State& s = state();
    if (!s.set || millis >= s.budget) {
        return;
    }
    s.budget = millis;
    s.at = s.started + std::chrono::milliseconds(millis);
}

void clear() { state() = State{}; }

bool passed() {
    const State& s = state();
    return s.set && Clock::now() >= s.at;
}

std::optional<uint64_t> remaining_ms() {
    const State& s = state();
    if (!s.set) {
        return std::nullopt;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(s.at - Clock::now()).count();
    return left > 0 ? static_cast<uint64_t>(left) : 0;
}

uint64_t budget_ms() { return state().set ? state().budget : 0; }

Status check(std::string_view what) {
    if (!passed()) {
        return ok_status();
    }
    return diag::deny(std::string(kReason), "the decision took longer than " + std::to_string(state().budget) +
                                                " ms (while " + std::string(what) + ")");
}

}  // namespace diag::deadline
