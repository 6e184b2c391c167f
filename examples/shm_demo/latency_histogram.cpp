// SPDX-License-Identifier: Apache-2.0
#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace dhub::demo {

// Values below 64 have their own bucket. Above, the bucket is the position of the highest set bit
// (shift) plus the next SUB_BITS bits (top, in [32, 64)): index = 32 * shift + top.
std::size_t LatencyHistogram::index_of(std::uint64_t ns) noexcept {
    constexpr std::uint64_t exact_below = std::uint64_t{2} << SUB_BITS;
    if (ns < exact_below) return static_cast<std::size_t>(ns);
    const unsigned shift = static_cast<unsigned>(std::bit_width(ns)) - 1 - SUB_BITS;
    const std::uint64_t top = ns >> shift;
    return (std::size_t{shift} << SUB_BITS) + static_cast<std::size_t>(top);
}

std::uint64_t LatencyHistogram::upper_bound_of(std::size_t index) noexcept {
    constexpr std::size_t exact_below = std::size_t{2} << SUB_BITS;
    if (index < exact_below) return index;
    const std::size_t shift = (index >> SUB_BITS) - 1;
    const std::uint64_t top = (index & ((std::size_t{1} << SUB_BITS) - 1)) + (std::size_t{1} << SUB_BITS);
    return ((top + 1) << shift) - 1;  // wraps to the largest value for the very last bucket, as it should
}

void LatencyHistogram::record(std::uint64_t ns) noexcept {
    ++buckets_[index_of(ns)];
    ++count_;
    max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < BUCKETS; ++i)
        buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() noexcept {
    *this = LatencyHistogram{};
}

std::uint64_t LatencyHistogram::percentile(double q) const noexcept {
    if (count_ == 0) return 0;
    const double wanted = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_));
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < BUCKETS; ++i) {
        seen += buckets_[i];
        if (seen >= rank) return std::min(upper_bound_of(i), max_);
    }
    return max_;
}

}  // namespace dhub::demo
