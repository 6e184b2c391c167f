// SPDX-License-Identifier: Apache-2.0
// Erlang/OTP's restart intensity for one supervised node: at most max_restarts restarts in any window of
// period. It decides; IsolatedNode restarts or gives up.
#pragma once

#include <cstdint>
#include <deque>

namespace dhub::runtime {

class RestartIntensity {
public:
    RestartIntensity(std::uint32_t max_restarts, std::uint64_t period_ns) noexcept
        : max_restarts_(max_restarts), period_ns_(period_ns) {}

    /// A restart at now_ns (CLOCK_MONOTONIC): true, and counted, if it stays within the intensity.
    bool allow(std::uint64_t now_ns) {
        while (!recent_.empty() && now_ns - recent_.front() >= period_ns_)
            recent_.pop_front();
        if (recent_.size() >= max_restarts_) return false;
        recent_.push_back(now_ns);
        return true;
    }

private:
    std::uint32_t max_restarts_;
    std::uint64_t period_ns_;
    std::deque<std::uint64_t> recent_;  ///< times of the restarts within the last period
};

}  // namespace dhub::runtime
