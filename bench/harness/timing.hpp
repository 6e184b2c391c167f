// SPDX-License-Identifier: Apache-2.0
// Clock and spin primitives shared by every benchmark hot loop.
#pragma once

#include <cstdint>
#include <ctime>

namespace dhub::bench {

/// Monotonic time in nanoseconds. CLOCK_MONOTONIC is system-wide, so stamps taken in different
/// processes can be compared; with the TSC clocksource it is a vDSO call (~20 ns), not a syscall.
inline std::int64_t now_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Hint to the CPU that we are busy-waiting, so it does not speculate ahead into a memory-order
/// violation when the awaited line changes (and frees the sibling hyper-thread, if any).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/// Keeps `value` (and everything it points to) observable so the optimiser cannot delete the work
/// that produced it.
template <typename T>
inline void do_not_optimize(const T& value) noexcept {
    __asm__ __volatile__("" : : "r,m"(value) : "memory");
}

/// Compiler-only barrier: forces stores before it to be treated as visible.
inline void clobber_memory() noexcept {
    __asm__ __volatile__("" : : : "memory");
}

}  // namespace dhub::bench
