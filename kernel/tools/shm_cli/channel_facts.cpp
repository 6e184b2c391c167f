// SPDX-License-Identifier: Apache-2.0
#include "channel_facts.hpp"

#include <cstdio>
#include <ctime>

namespace dhub::tools {

const char* slot_state(const shm::SlotInfo& slot) noexcept {
    if (slot.busy) return "busy";
    return slot.empty ? "empty" : "committed";
}

std::optional<std::uint64_t> consumer_lag(const shm::ChannelInfo& info, const shm::ConsumerInfo& consumer) noexcept {
    if (consumer.latest) return std::nullopt;  // it reads the newest slot: nothing queues up behind it
    // The header and the seat are read at slightly different times: a cursor may already be past the
    // write_seq read before it, which is no lag rather than a huge unsigned one.
    return consumer.cursor < info.write_seq ? info.write_seq - consumer.cursor : 0;
}

std::uint32_t live_consumer_count(const shm::ChannelInfo& info) noexcept {
    std::uint32_t live = 0;
    for (const auto& consumer : info.consumers) {
        if (consumer.alive) ++live;
    }
    return live;
}

std::string iso8601_utc(std::uint64_t realtime_ns) {
    if (realtime_ns == 0) return "unknown";
    const auto seconds = static_cast<std::time_t>(realtime_ns / 1'000'000'000ULL);
    const auto millis = static_cast<unsigned>(realtime_ns / 1'000'000ULL % 1000);
    std::tm utc{};
    if (::gmtime_r(&seconds, &utc) == nullptr) return "unknown";
    char text[40];
    const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + length, sizeof text - length, ".%03uZ", millis);
    return text;
}

std::string octal_mode(std::uint32_t mode) {
    char text[16];
    std::snprintf(text, sizeof text, "%04o", mode & 07777U);
    return text;
}

}  // namespace dhub::tools
