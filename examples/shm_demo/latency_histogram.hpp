// SPDX-License-Identifier: Apache-2.0
// Latency percentiles in constant memory: a log-linear histogram (32 buckets per power of two, so every
// reported value is within about 3% of the true one), however many frames a run produces.
#pragma once

#include <array>
#include <cstdint>

namespace dhub::demo {

class LatencyHistogram {
public:
    void record(std::uint64_t ns) noexcept;
    void merge(const LatencyHistogram& other) noexcept;
    void reset() noexcept;

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t max() const noexcept { return max_; }
    /// The value below which a fraction q (0..1) of the samples lie; 0 when empty.
    std::uint64_t percentile(double q) const noexcept;

private:
    static constexpr unsigned SUB_BITS = 5;  // 32 sub-buckets per power of two
    static constexpr std::size_t BUCKETS = (64 - SUB_BITS + 1) << SUB_BITS;
    static std::size_t index_of(std::uint64_t ns) noexcept;
    static std::uint64_t upper_bound_of(std::size_t index) noexcept;

    std::array<std::uint64_t, BUCKETS> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace dhub::demo
