// SPDX-License-Identifier: Apache-2.0
// Which slots a rate limit lets through, judged by slot timestamps alone (no clock, no I/O), so the same
// timestamps always give the same answer.
//
// The rule: a slot passes when its timestamp has reached the next due time. The first slot passes and the
// next is due one period later. After a pass the due time moves one period on from the previous due time,
// not from the passed slot: a regular input is thinned to the rate exactly (100 Hz to 40 Hz keeps 4 of
// every 10), and a source running at the limit with jitter loses one early slot, after which the
// schedule sits behind it and keeps every slot ("one period since the last pass" would drop about every
// other one). The due time never moves to less than half a period after the passed slot: after a gap or
// a late slot the schedule catches up by at most that, so two passed slots are never closer than half a
// period (no bursts), at the price of tolerating jitter only within a quarter period either way. Over
// any span of T seconds fewer than T * rate_hz + 1.5 slots pass.
//
// A timestamp earlier than the last passed one (a restarted producer, another time base) starts a new
// schedule at that slot; otherwise output would stop until the new timeline caught up with the old one.
#pragma once

#include <cstdint>

namespace dhub::plugins::throttle {

class RateSchedule {
public:
    /// rate_hz > 0: most slots per second.
    explicit RateSchedule(double rate_hz) noexcept;

    enum class Verdict : std::uint8_t {
        Invalid = 0,
        Pass,
        Drop,
        Restart,  ///< passes, and the schedule starts again at it (timestamps went backwards)
    };

    /// Decides one slot and, if it passes, moves the schedule on.
    Verdict offer(std::uint64_t timestamp_ns) noexcept;

private:
    void start_at(std::uint64_t timestamp_ns) noexcept;
    void advance_after(std::uint64_t timestamp_ns) noexcept;

    std::uint64_t period_whole_ns_;
    double period_fraction_ns_;  ///< in [0, 1)
    std::uint64_t half_period_ns_;
    std::uint64_t due_ns_ = 0;
    double due_fraction_ns_ = 0.0;  ///< carried, so a 3 Hz period's fraction does not drift the schedule
    std::uint64_t last_passed_ns_ = 0;
    bool started_ = false;
};

}  // namespace dhub::plugins::throttle
