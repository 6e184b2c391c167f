// SPDX-License-Identifier: Apache-2.0
// The peer messages waiting for a node (send_message from other nodes on its channels): filled from any
// thread, drained by the node's own thread between two handler calls. Bounded: the oldest are dropped.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

namespace dhub::runtime {

class MessageInbox {
public:
    static constexpr std::size_t LIMIT = 1024;

    /// Checked once per loop turn by the node's thread: one load while nothing is waiting.
    bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
    void deliver(const std::string& channel, const std::string& message) {
        const std::lock_guard lock(mutex_);
        if (messages_.size() >= LIMIT) messages_.pop_front();
        messages_.emplace_back(channel, message);
        pending_.store(true, std::memory_order_release);
    }
    /// Calls use(channel, message) for each waiting message, oldest first, outside the lock.
    template <typename Use>
    void drain(Use&& use) {
        std::deque<std::pair<std::string, std::string>> batch;
        {
            const std::lock_guard lock(mutex_);
            batch.swap(messages_);
            pending_.store(false, std::memory_order_release);
        }
        for (const auto& [channel, message] : batch)
            use(channel, message);
    }

private:
    std::mutex mutex_;
    std::deque<std::pair<std::string, std::string>> messages_;
    std::atomic<bool> pending_{false};
};

}  // namespace dhub::runtime
