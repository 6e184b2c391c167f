// SPDX-License-Identifier: Apache-2.0
// The one wait loop of the data path: spin for a bounded time, then sleep on a futex. Used by a consumer
// waiting for a commit and by a producer waiting for space.
//
// Lost wake-ups are impossible by a Dekker-style handshake: the sleeper increments `waiters` (seq_cst)
// and then re-checks its condition; the waker changes the condition (seq_cst) and then reads `waiters`.
// In the single total order of seq_cst operations one of the two sees the other: either the sleeper sees
// the new state and does not sleep, or the waker sees a sleeper and bumps the futex word, which makes
// FUTEX_WAIT return at once if the sleeper had not gone to sleep yet.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "dhub/base/clock.hpp"
#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/futex.hpp"
#include "dhub/shm/status.hpp"

namespace dhub::shm::detail {

/// How often a sleeper wakes on its own to run its tick (liveness checks, closed flag).
inline constexpr std::uint64_t SLEEP_SLICE_NS = 50'000'000;

inline std::uint64_t saturating_deadline(std::uint64_t now, std::chrono::nanoseconds span) noexcept {
    if (span.count() <= 0) return now;
    const auto ns = static_cast<std::uint64_t>(span.count());
    return ns > ~0ULL - now ? ~0ULL : now + ns;
}

/// Wakes sleepers after the caller changed their condition with a seq_cst store.
inline void wake_waiters(std::atomic<std::uint32_t>& waiters, std::atomic<std::uint32_t>& futex_word) noexcept {
    if (waiters.load(std::memory_order_seq_cst) != 0) {
        futex_word.fetch_add(1, std::memory_order_release);
        futex_wake_all(futex_word);
    }
}

/// Waits until ready() is true. tick() runs before each sleep; a Status other than Ok from it ends the wait
/// with that status. Returns Ok or Timeout (or tick's status).
template <typename Ready, typename Tick>
Status wait_for(Ready&& ready, std::atomic<std::uint32_t>& waiters, std::atomic<std::uint32_t>& futex_word,
                const WaitOptions& wait, Tick&& tick) noexcept {
    const std::uint64_t start = monotonic_ns();
    const std::uint64_t deadline = saturating_deadline(start, wait.timeout);
    const std::uint64_t spin_until = std::min(deadline, saturating_deadline(start, wait.spin));
    // Spin phase: poll the condition, reading the clock only every 64 polls.
    for (std::uint32_t polls = 1;; ++polls) {
        if (ready()) return Status::Ok;
        if ((polls & 63) == 0 && monotonic_ns() >= spin_until) break;
        cpu_relax();
    }
    for (;;) {
        if (const Status verdict = tick(); verdict != Status::Ok) return verdict;
        const std::uint64_t now = monotonic_ns();
        if (now >= deadline) return ready() ? Status::Ok : Status::Timeout;
        const std::uint32_t observed = futex_word.load(std::memory_order_acquire);
        waiters.fetch_add(1, std::memory_order_seq_cst);
        if (ready()) {
            waiters.fetch_sub(1, std::memory_order_relaxed);
            return Status::Ok;
        }
        futex_wait_until(futex_word, observed, std::min(deadline, now + SLEEP_SLICE_NS));
        waiters.fetch_sub(1, std::memory_order_relaxed);
        if (ready()) return Status::Ok;
    }
}

}  // namespace dhub::shm::detail
