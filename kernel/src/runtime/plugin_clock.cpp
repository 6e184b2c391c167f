// SPDX-License-Identifier: Apache-2.0
#include "dhub/runtime/plugin_clock.hpp"

#include <chrono>

#include "dhub/base/clock.hpp"

namespace dhub::runtime {

std::uint64_t MonotonicClock::now_ns() const noexcept {
    return monotonic_ns();
}

void MonotonicClock::wait_until(std::uint64_t deadline_ns,
                                std::unique_lock<std::mutex>& lock,
                                std::condition_variable& wakeup,
                                const std::function<bool()>& interrupted) const {
    // steady_clock is CLOCK_MONOTONIC on Linux, the clock of deadline_ns.
    const auto deadline = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns));
    wakeup.wait_until(lock, deadline, interrupted);
}

void ManualClock::wait_until(std::uint64_t deadline_ns,
                             std::unique_lock<std::mutex>& lock,
                             std::condition_variable& wakeup,
                             const std::function<bool()>& interrupted) const {
    while (now_ns() < deadline_ns && !interrupted())
        wakeup.wait_for(lock, POLL);
}

}  // namespace dhub::runtime
