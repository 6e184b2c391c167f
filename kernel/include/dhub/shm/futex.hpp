// SPDX-License-Identifier: Apache-2.0
// Cross-process futex wait/wake on a 32-bit word in shared memory (not FUTEX_PRIVATE: the waker is
// usually another process).
#pragma once

#include <atomic>
#include <cstdint>

namespace dhub::shm {

/// Sleeps while *word == expected, until woken or until the CLOCK_MONOTONIC deadline (ns). Spurious
/// wake-ups are possible: callers re-check their condition.
void futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::uint64_t deadline_ns) noexcept;

/// Wakes every process sleeping on word.
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

/// A CPU hint for busy-wait loops (PAUSE on x86): lets the sibling hyperthread run and saves power.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

}  // namespace dhub::shm
