// SPDX-License-Identifier: Apache-2.0
// The one wait loop of the data path: spin for a bounded time (busily, or yielding the CPU), then sleep on a
// futex. Used by a consumer waiting for a commit and by a producer waiting for space.
//
// Lost wake-ups are impossible by a Dekker-style handshake: the sleeper increments `waiters` (seq_cst)
// and then re-checks its condition; the waker changes the condition (seq_cst) and then reads `waiters`.
// In the single total order of seq_cst operations one of the two sees the other: either the sleeper sees
// the new state and does not sleep, or the waker sees a sleeper and bumps the futex word, which makes
// FUTEX_WAIT return at once if the sleeper had not gone to sleep yet.
//
// The waker claims the registrations with exchange(0): one FUTEX_WAKE per sleep episode however many
// commits follow before the sleeper runs again (per commit, that would be a system call each). Sleepers
// never decrement: a registration left by a sleeper that timed out only causes one spare wake later.
#pragma once

#include <sched.h>

#include <algorithm>
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
/// A latest-only producer waiting for a reader to release a slot: releases wake it without a handshake (a
/// wake-up can be missed), so it looks again this often.
inline constexpr std::uint64_t HOLD_SLEEP_SLICE_NS = 1'000'000;

inline std::uint64_t saturating_deadline(std::uint64_t now, std::chrono::nanoseconds span) noexcept {
    if (span.count() <= 0) return now;
    const auto ns = static_cast<std::uint64_t>(span.count());
    return ns > ~0ULL - now ? ~0ULL : now + ns;
}

/// The spin phase of a wait: looks at ready() until it holds (true) or the clock passes spin_until (false).
/// Between looks a busy spin pauses; a yielding one (WaitOptions::yield) lets any other thread that is ready to
/// run on this CPU run first, so a waiter sharing its CPU with the thread it waits for does not hold that thread
/// back, and it is never registered as a sleeper, so the waker makes no futex call.
template <typename Ready>
bool spin_until_ready(Ready&& ready, std::uint64_t spin_until, bool yield) noexcept {
    for (std::uint32_t polls = 1;; ++polls) {
        if (yield) {
            ::sched_yield();
        } else {
            cpu_relax();
        }
        if (ready()) return true;
        // A pause costs less than reading the clock, so the clock is read every 64 of them; a yield costs more.
        if ((yield || (polls & 63) == 0) && monotonic_ns() >= spin_until) return false;
    }
}

/// Wakes the sleepers, if any, after the caller changed their condition with a seq_cst store.
inline void wake_waiters(std::atomic<std::uint32_t>& waiters, std::atomic<std::uint32_t>& futex_word) noexcept {
    if (waiters.load(std::memory_order_seq_cst) != 0 && waiters.exchange(0, std::memory_order_seq_cst) != 0) {
        futex_word.fetch_add(1, std::memory_order_release);
        futex_wake_all(futex_word);
    }
}

/// Waits until ready() holds. While spinning any ready() ends the wait; once asleep the waiter only
/// gets up for good when worth_waking() holds too (hysteresis: a producer that had to sleep waits for
/// half a ring of space, not one slot), or at the deadline if ready() by then. tick(now_ns) runs before
/// each sleep; a Status other than Ok from it ends the wait with that status.
template <typename Ready, typename WorthWaking, typename Tick>
Status wait_for(Ready&& ready,
                WorthWaking&& worth_waking,
                std::atomic<std::uint32_t>& waiters,
                std::atomic<std::uint32_t>& futex_word,
                const WaitOptions& wait,
                Tick&& tick,
                std::uint64_t sleep_slice_ns = SLEEP_SLICE_NS) noexcept {
    if (ready()) return Status::Ok;
    if (wait.timeout.count() <= 0) return Status::Timeout;  // a poll: no clock, no sleep
    const std::uint64_t start = monotonic_ns();
    const std::uint64_t deadline = saturating_deadline(start, wait.timeout);
    if (wait.spin.count() > 0 &&
        spin_until_ready(ready, std::min(deadline, saturating_deadline(start, wait.spin)), wait.yield)) {
        return Status::Ok;
    }
    // Sleep phase. The clock is read once per sleep: it serves the deadline and the tick (heartbeat).
    for (std::uint64_t now = monotonic_ns();; now = monotonic_ns()) {
        if (const Status verdict = tick(now); verdict != Status::Ok) return verdict;
        if (now >= deadline) return ready() ? Status::Ok : Status::Timeout;
        const std::uint32_t observed = futex_word.load(std::memory_order_acquire);
        waiters.fetch_add(1, std::memory_order_seq_cst);
        if (ready() && worth_waking()) return Status::Ok;
        futex_wait_until(futex_word, observed, std::min(deadline, now + sleep_slice_ns));
        if (ready() && worth_waking()) return Status::Ok;
    }
}

template <typename Ready, typename Tick>
Status wait_for(Ready&& ready,
                std::atomic<std::uint32_t>& waiters,
                std::atomic<std::uint32_t>& futex_word,
                const WaitOptions& wait,
                Tick&& tick) noexcept {
    return wait_for(
        ready, [] { return true; }, waiters, futex_word, wait, tick);
}

}  // namespace dhub::shm::detail
