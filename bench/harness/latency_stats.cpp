// SPDX-License-Identifier: Apache-2.0
#include "harness/latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dhub::bench {

double percentile_of_sorted(std::span<const std::int64_t> sorted_ns, double fraction) noexcept {
    if (sorted_ns.empty()) return std::numeric_limits<double>::quiet_NaN();
    // Nearest rank: the smallest sample with at least `fraction` of all samples at or below it.
    // Unlike interpolation it always reports a latency that was really observed.
    const auto count = static_cast<double>(sorted_ns.size());
    auto rank = static_cast<std::size_t>(std::ceil(std::clamp(fraction, 0.0, 1.0) * count));
    rank = std::clamp<std::size_t>(rank, 1, sorted_ns.size());
    return static_cast<double>(sorted_ns[rank - 1]);
}

LatencySummary summarize_latencies(std::vector<std::int64_t> samples_ns) {
    LatencySummary summary;
    summary.count = samples_ns.size();
    if (samples_ns.empty()) return summary;
    std::sort(samples_ns.begin(), samples_ns.end());
    const std::span<const std::int64_t> sorted{samples_ns};
    summary.min_ns = static_cast<double>(sorted.front());
    summary.max_ns = static_cast<double>(sorted.back());
    summary.p50_ns = percentile_of_sorted(sorted, 0.50);
    summary.p99_ns = percentile_of_sorted(sorted, 0.99);
    summary.p999_ns = percentile_of_sorted(sorted, 0.999);
    const double total = std::accumulate(sorted.begin(), sorted.end(), 0.0,
                                         [](double acc, std::int64_t v) { return acc + static_cast<double>(v); });
    summary.mean_ns = total / static_cast<double>(sorted.size());
    return summary;
}

}  // namespace dhub::bench
