// SPDX-License-Identifier: Apache-2.0
// The time a graph's plugins live in: what the host API's now_ns() returns and what sleep_until() waits for.
// dhub-kernel uses CLOCK_MONOTONIC (MonotonicClock). A ManualClock lets a test or a simulation drive a whole
// graph in virtual time: a paced source publishes exactly the frames due when the clock is moved, no more.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace dhub::runtime {

class PluginClock {
public:
    virtual ~PluginClock() = default;
    virtual std::uint64_t now_ns() const noexcept = 0;
    /// Blocks until now_ns() >= deadline_ns or interrupted() is true. The caller holds lock and notifies
    /// wakeup (under lock) when interrupted() may have become true.
    virtual void wait_until(std::uint64_t deadline_ns,
                            std::unique_lock<std::mutex>& lock,
                            std::condition_variable& wakeup,
                            const std::function<bool()>& interrupted) const = 0;
};

/// CLOCK_MONOTONIC, the clock of slot timestamps: what dhub-kernel runs on.
class MonotonicClock final : public PluginClock {
public:
    std::uint64_t now_ns() const noexcept override;
    void wait_until(std::uint64_t deadline_ns,
                    std::unique_lock<std::mutex>& lock,
                    std::condition_variable& wakeup,
                    const std::function<bool()>& interrupted) const override;
};

/// Time that moves only when told to. Sleepers notice a move within POLL of real time: they poll rather
/// than register with the clock, so the clock needs to know nothing of the nodes.
class ManualClock final : public PluginClock {
public:
    static constexpr auto POLL = std::chrono::microseconds(200);

    explicit ManualClock(std::uint64_t start_ns = 1'000'000'000) noexcept : now_ns_(start_ns) {}
    std::uint64_t now_ns() const noexcept override { return now_ns_.load(std::memory_order_acquire); }
    void advance(std::uint64_t span_ns) noexcept { now_ns_.fetch_add(span_ns, std::memory_order_acq_rel); }
    void wait_until(std::uint64_t deadline_ns,
                    std::unique_lock<std::mutex>& lock,
                    std::condition_variable& wakeup,
                    const std::function<bool()>& interrupted) const override;

private:
    std::atomic<std::uint64_t> now_ns_;
};

}  // namespace dhub::runtime
