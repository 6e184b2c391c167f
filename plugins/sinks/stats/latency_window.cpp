// SPDX-License-Identifier: Apache-2.0
#include "latency_window.hpp"

#include <algorithm>
#include <cmath>

namespace dhub::plugins::stats {

void LatencyWindow::add(std::uint64_t latency_ns) {
    max_ns_ = std::max(max_ns_, latency_ns);
    if (seen_++ % stride_ != 0) return;
    if (samples_.size() == MAX_SAMPLES) {
        // Full: keep every other sample and halve the rate of keeping new ones from now on.
        std::size_t kept = 0;
        for (std::size_t index = 0; index < samples_.size(); index += 2)
            samples_[kept++] = samples_[index];
        samples_.resize(kept);
        stride_ *= 2;
    }
    samples_.push_back(latency_ns);
}

std::uint64_t LatencyWindow::percentile_ns(double percent) {
    if (samples_.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(samples_.size())));
    const std::size_t index = std::min(samples_.size() - 1, rank > 0 ? rank - 1 : 0);
    std::nth_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(index), samples_.end());
    return samples_[index];
}

void LatencyWindow::clear() noexcept {
    samples_.clear();
    seen_ = 0;
    stride_ = 1;
    max_ns_ = 0;
}

}  // namespace dhub::plugins::stats
