// SPDX-License-Identifier: Apache-2.0
// Latencies of one reporting interval and their exact percentiles. Keeps at most MAX_SAMPLES per interval
// (about 8 MB): beyond that it keeps every n-th sample, so a very high rate costs bounded memory and the
// percentiles stay representative. The maximum is always exact.
#pragma once

#include <cstdint>
#include <vector>

namespace dhub::plugins::stats {

class LatencyWindow {
public:
    static constexpr std::size_t MAX_SAMPLES = 1U << 20U;

    void add(std::uint64_t latency_ns);
    bool empty() const noexcept { return seen_ == 0; }
    std::uint64_t max_ns() const noexcept { return max_ns_; }
    /// Nearest-rank percentile, percent in (0, 100]; 0 if empty. Reorders the samples.
    std::uint64_t percentile_ns(double percent);
    void clear() noexcept;

private:
    std::vector<std::uint64_t> samples_;
    std::uint64_t seen_ = 0;
    std::uint64_t stride_ = 1;  ///< keep one sample of stride_ once the window is full
    std::uint64_t max_ns_ = 0;
};

}  // namespace dhub::plugins::stats
