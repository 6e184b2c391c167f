// SPDX-License-Identifier: Apache-2.0
#include "event_feed.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

namespace dhub::control {

EventFeed::EventFeed() : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

EventFeed::~EventFeed() {
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void EventFeed::push(std::string_view line) {
    {
        const std::lock_guard lock(mutex_);
        kept_.push_back({++last_, std::string(line)});
        if (kept_.size() > KEPT) kept_.pop_front();
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);  // a full counter still wakes
}

std::vector<EventFeed::Entry> EventFeed::since(std::uint64_t seq) const {
    const std::lock_guard lock(mutex_);
    std::vector<Entry> entries;
    for (const Entry& entry : kept_) {
        if (entry.seq > seq) entries.push_back(entry);
    }
    return entries;
}

std::uint64_t EventFeed::last() const {
    const std::lock_guard lock(mutex_);
    return last_;
}

void EventFeed::drain() const noexcept {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto got = ::read(wake_fd_, &count, sizeof count);
}

}  // namespace dhub::control
