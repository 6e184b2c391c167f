// SPDX-License-Identifier: Apache-2.0
// Deterministic time for plugin tests: now_ns() reads the clock and sleep_until() moves it forward to
// the deadline at once, so a test of a 1 kHz source runs 1000 frames in microseconds and the schedule
// it checks is exact.
//
// The host API's now_ns(void) takes no node argument, so the fake host cannot tell which harness asks:
// it reads the "active" clock, the one of the most recently created harness still alive. Harnesses that
// run together in one test should share one clock (pass it to each Harness).
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

namespace dhub::sdk::testing {

class ManualClock {
public:
    /// Not zero, so that "timestamp 0" bugs and subtractions below the start show up in tests.
    static constexpr std::uint64_t DEFAULT_START_NS = 1'000'000'000'000ULL;

    explicit ManualClock(std::uint64_t start_ns = DEFAULT_START_NS) noexcept : now_ns_(start_ns) {}
    ManualClock(const ManualClock&) = delete;
    ManualClock& operator=(const ManualClock&) = delete;

    std::uint64_t now_ns() const noexcept { return now_ns_.load(std::memory_order_acquire); }
    void set_ns(std::uint64_t now_ns) noexcept { now_ns_.store(now_ns, std::memory_order_release); }
    void advance_ns(std::uint64_t duration_ns) noexcept { now_ns_.fetch_add(duration_ns, std::memory_order_acq_rel); }
    /// Moves the clock to time_ns if that is later; time never goes backwards.
    void advance_to_ns(std::uint64_t time_ns) noexcept {
        std::uint64_t current = now_ns_.load(std::memory_order_acquire);
        while (current < time_ns && !now_ns_.compare_exchange_weak(current, time_ns, std::memory_order_acq_rel)) {
        }
    }

private:
    std::atomic<std::uint64_t> now_ns_;
};

namespace detail {

inline std::atomic<ManualClock*> active_clock{nullptr};

/// Makes a clock the active one for its lifetime and restores the previous one afterwards.
class ActiveClockScope {
public:
    explicit ActiveClockScope(ManualClock& clock) noexcept
        : clock_(&clock), previous_(active_clock.exchange(&clock, std::memory_order_acq_rel)) {}
    ~ActiveClockScope() {
        ManualClock* expected = clock_;
        active_clock.compare_exchange_strong(expected, previous_, std::memory_order_acq_rel);
    }
    ActiveClockScope(const ActiveClockScope&) = delete;
    ActiveClockScope& operator=(const ActiveClockScope&) = delete;

private:
    ManualClock* clock_;
    ManualClock* previous_;
};

/// The active manual clock, or CLOCK_MONOTONIC when no harness is alive.
inline std::uint64_t active_now_ns() noexcept {
    if (const ManualClock* clock = active_clock.load(std::memory_order_acquire)) return clock->now_ns();
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(now.tv_nsec);
}

}  // namespace detail
}  // namespace dhub::sdk::testing
