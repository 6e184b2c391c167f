// SPDX-License-Identifier: Apache-2.0
// The frame schedule of a fixed-rate source. Deadlines advance by exactly one period from the previous
// deadline, never from "now", so time spent producing a frame does not accumulate into drift. Periods
// that are not a whole number of nanoseconds (3 Hz) carry the fraction forward, so rounding does not
// accumulate either.
#pragma once

#include <cstdint>

namespace dhub::plugins::sim {

class FramePacer {
public:
    /// rate_hz > 0: frames per second.
    explicit FramePacer(double rate_hz) noexcept;

    bool anchored() const noexcept { return anchored_; }
    /// Starts (or restarts) the schedule: the next deadline is start_ns.
    void anchor(std::uint64_t start_ns) noexcept;
    /// The deadline of the next frame (valid once anchored).
    std::uint64_t deadline_ns() const noexcept { return deadline_ns_; }
    /// Moves to the following deadline: one period after the current one.
    void advance() noexcept;
    /// How far now_ns is past the current deadline; 0 if it is not late.
    std::uint64_t lag_ns(std::uint64_t now_ns) const noexcept {
        return now_ns > deadline_ns_ ? now_ns - deadline_ns_ : 0;
    }

private:
    std::uint64_t period_whole_ns_;
    double period_fraction_ns_;  ///< in [0, 1)
    double carried_fraction_ns_ = 0.0;
    std::uint64_t deadline_ns_ = 0;
    bool anchored_ = false;
};

}  // namespace dhub::plugins::sim
