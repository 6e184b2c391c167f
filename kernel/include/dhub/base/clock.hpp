// SPDX-License-Identifier: Apache-2.0
// Clocks shared by every process on the host. CLOCK_MONOTONIC is system-wide on Linux, so a timestamp
// taken by a producer can be compared with one taken by a consumer in another process.
#pragma once

#include <cstdint>
#include <ctime>

namespace dhub {

inline std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline std::uint64_t realtime_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace dhub
