// SPDX-License-Identifier: Apache-2.0
#include "frame_pacer.hpp"

#include <cmath>

namespace dhub::plugins::sim {

FramePacer::FramePacer(double rate_hz) noexcept {
    const double period_ns = 1e9 / rate_hz;
    const double whole = std::floor(period_ns);
    period_whole_ns_ = static_cast<std::uint64_t>(whole);
    period_fraction_ns_ = period_ns - whole;
}

void FramePacer::anchor(std::uint64_t start_ns) noexcept {
    deadline_ns_ = start_ns;
    carried_fraction_ns_ = 0.0;
    anchored_ = true;
}

void FramePacer::advance() noexcept {
    deadline_ns_ += period_whole_ns_;
    carried_fraction_ns_ += period_fraction_ns_;
    if (carried_fraction_ns_ >= 1.0) {
        deadline_ns_ += 1;
        carried_fraction_ns_ -= 1.0;
    }
}

}  // namespace dhub::plugins::sim
