// SPDX-License-Identifier: Apache-2.0
// Waiting in C++ without stalling Python: the GIL is released while a call waits, in slices short enough that
// Ctrl-C (a pending signal, which Python handles only with the GIL) interrupts within 100 ms.
#pragma once
#include <pybind11/pybind11.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "dhub/shm/channel_config.hpp"
#include "errors.hpp"

namespace dhub::python {

/// How long one GIL-free wait lasts before Python gets to look at its signals.
inline constexpr std::chrono::milliseconds SIGNAL_SLICE{50};

/// Counts a call that waits with the GIL released, for as long as it waits: close() in another thread (which has
/// the GIL meanwhile) sees the count and refuses to pull the channel from under the waiting call.
class WaitingCall {
public:
    explicit WaitingCall(int& count) noexcept : count_(count) { ++count_; }
    ~WaitingCall() { --count_; }
    WaitingCall(const WaitingCall&) = delete;
    WaitingCall& operator=(const WaitingCall&) = delete;

private:
    int& count_;
};

/// A timeout argument in seconds: None waits for ever, 0 polls.
inline std::chrono::nanoseconds to_timeout(const std::optional<double>& seconds) {
    if (!seconds) return shm::WAIT_FOREVER;
    if (!(*seconds >= 0.0) || std::isinf(*seconds))
        raise(Error{ErrorCode::InvalidArgument, "timeout must be None or a number of seconds >= 0"});
    // Past about 290 years the count of nanoseconds overflows: that long is for ever.
    if (*seconds >= 9.0e9) return shm::WAIT_FOREVER;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(*seconds));
}

/// Calls attempt(WaitOptions) until its handle's status is not Timeout or the timeout passes. The first try
/// polls with the GIL held (the common case in a loop that keeps up costs no GIL hand-over); later ones wait
/// with the GIL released, SIGNAL_SLICE at a time, and a pending KeyboardInterrupt (or any signal handler's
/// exception) is raised between slices.
template <typename Attempt>
auto wait_without_gil(std::chrono::nanoseconds timeout, Attempt&& attempt) -> decltype(attempt(shm::WaitOptions{})) {
    using Clock = std::chrono::steady_clock;
    auto handle = attempt(shm::WaitOptions{std::chrono::nanoseconds::zero(), std::chrono::nanoseconds::zero()});
    if (handle.status() != shm::Status::Timeout || timeout <= std::chrono::nanoseconds::zero()) return handle;
    const bool forever = timeout == shm::WAIT_FOREVER;
    const auto deadline = forever ? Clock::time_point::max() : Clock::now() + timeout;
    for (;;) {
        const auto left = forever ? std::chrono::nanoseconds(SIGNAL_SLICE) : deadline - Clock::now();
        if (left <= Clock::duration::zero()) return handle;
        const auto slice = std::min<std::chrono::nanoseconds>(left, SIGNAL_SLICE);
        {
            pybind11::gil_scoped_release released;
            handle = attempt(shm::WaitOptions{slice, std::chrono::microseconds(20)});
        }
        if (handle.status() != shm::Status::Timeout) return handle;
        if (PyErr_CheckSignals() != 0) throw pybind11::error_already_set();
    }
}

}  // namespace dhub::python
