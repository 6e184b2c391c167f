// SPDX-License-Identifier: Apache-2.0
// Percentiles of latency samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace dhub::bench {

/// Trivially copyable, so a child process can send it back through ChildProcess as is.
struct LatencySummary {
    std::size_t count = 0;
    double min_ns = std::numeric_limits<double>::quiet_NaN();
    double p50_ns = std::numeric_limits<double>::quiet_NaN();
    double p99_ns = std::numeric_limits<double>::quiet_NaN();
    double p999_ns = std::numeric_limits<double>::quiet_NaN();
    double max_ns = std::numeric_limits<double>::quiet_NaN();
    double mean_ns = std::numeric_limits<double>::quiet_NaN();
};

/// Nearest-rank percentile (`fraction` in [0, 1]) of samples sorted ascending; NaN if empty.
double percentile_of_sorted(std::span<const std::int64_t> sorted_ns, double fraction) noexcept;

/// Sorts the samples (taken by value so callers can move them in) and summarises them.
LatencySummary summarize_latencies(std::vector<std::int64_t> samples_ns);

}  // namespace dhub::bench
