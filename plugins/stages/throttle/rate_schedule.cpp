// SPDX-License-Identifier: Apache-2.0
#include "rate_schedule.hpp"

#include <cmath>

namespace dhub::plugins::throttle {

RateSchedule::RateSchedule(double rate_hz) noexcept {
    const double period_ns = 1e9 / rate_hz;
    const double whole = std::floor(period_ns);
    period_whole_ns_ = static_cast<std::uint64_t>(whole);
    period_fraction_ns_ = period_ns - whole;
    half_period_ns_ = static_cast<std::uint64_t>(period_ns / 2);
}

RateSchedule::Verdict RateSchedule::offer(std::uint64_t timestamp_ns) noexcept {
    if (!started_ || timestamp_ns < last_passed_ns_) {
        const Verdict verdict = started_ ? Verdict::Restart : Verdict::Pass;
        start_at(timestamp_ns);
        return verdict;
    }
    if (timestamp_ns < due_ns_) return Verdict::Drop;
    advance_after(timestamp_ns);
    return Verdict::Pass;
}

void RateSchedule::start_at(std::uint64_t timestamp_ns) noexcept {
    started_ = true;
    last_passed_ns_ = timestamp_ns;
    due_ns_ = timestamp_ns + period_whole_ns_;
    due_fraction_ns_ = period_fraction_ns_;
}

void RateSchedule::advance_after(std::uint64_t timestamp_ns) noexcept {
    last_passed_ns_ = timestamp_ns;
    std::uint64_t next_ns = due_ns_ + period_whole_ns_;
    double next_fraction_ns = due_fraction_ns_ + period_fraction_ns_;
    if (next_fraction_ns >= 1.0) {
        next_ns += 1;
        next_fraction_ns -= 1.0;
    }
    const std::uint64_t earliest_ns = timestamp_ns + half_period_ns_;
    if (next_ns < earliest_ns) {
        next_ns = earliest_ns;
        next_fraction_ns = 0.0;
    }
    due_ns_ = next_ns;
    due_fraction_ns_ = next_fraction_ns;
}

}  // namespace dhub::plugins::throttle
