// SPDX-License-Identifier: Apache-2.0
// The kernel's recent events, numbered, for the control endpoint (docs/control.md, "events" and "subscribe"):
// the event log hands each line in (any thread), the endpoint's thread takes what is new, woken by an eventfd.
// It keeps the last KEPT: a client that asks later for what it missed gets what is still there.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dhub::control {

class EventFeed {
public:
    static constexpr std::size_t KEPT = 1024;
    struct Entry {
        std::uint64_t seq = 0;  ///< 1, 2, ... in the order the events were written
        std::string line;       ///< the event, one JSON object
    };

    EventFeed();
    ~EventFeed();
    EventFeed(const EventFeed&) = delete;
    EventFeed& operator=(const EventFeed&) = delete;

    /// Any thread.
    void push(std::string_view line);
    /// The kept entries after seq, oldest first.
    std::vector<Entry> since(std::uint64_t seq) const;
    /// The last entry's seq (0: none yet).
    std::uint64_t last() const;
    /// Readable when something was pushed; drain() after waking.
    int wake_fd() const noexcept { return wake_fd_; }
    void drain() const noexcept;

private:
    mutable std::mutex mutex_;
    std::deque<Entry> kept_;
    std::uint64_t last_ = 0;
    int wake_fd_ = -1;
};

}  // namespace dhub::control
