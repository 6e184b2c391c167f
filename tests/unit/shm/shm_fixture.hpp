// SPDX-License-Identifier: Apache-2.0
// Shared set-up of the in-process DataBlock tests: a uniquely named channel that is removed afterwards.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"
#include "support/child_process.hpp"
#include "support/test_channel.hpp"

namespace dhub::shm::testing_support {

inline constexpr std::chrono::nanoseconds NO_WAIT{0};
inline constexpr std::chrono::milliseconds SHORT_WAIT{20};
inline constexpr std::chrono::seconds LONG_WAIT{10};

inline WaitOptions waiting(std::chrono::nanoseconds timeout, std::chrono::nanoseconds spin = NO_WAIT) {
    return WaitOptions{timeout, spin};
}

class DataBlockFixture : public ::testing::Test {
protected:
    ChannelConfig config(SyncPolicy sync,
                         RingPolicy ring = RingPolicy::Ring,
                         std::uint32_t slots = 4,
                         std::size_t slot_bytes = 64) const {
        ChannelConfig config;
        config.name = cleanup_.name();
        config.sync = sync;
        config.ring = ring;
        config.slot_count = slots;
        config.slot_bytes = slot_bytes;
        return config;
    }

    Producer make_producer(const ChannelConfig& channel) {
        auto created = Producer::create(channel);
        if (!created) ADD_FAILURE() << created.error().message;
        return std::move(created.value());
    }

    Consumer make_consumer(const char* name = "test") {
        auto attached = Consumer::attach(cleanup_.name(), {.name = name});
        if (!attached) ADD_FAILURE() << attached.error().message;
        return std::move(attached.value());
    }

    /// A consumer that holds the latest-only slots it reads (ConsumerOptions::hold), as kernel nodes do.
    Consumer make_holding_consumer(const char* name = "holder") {
        auto attached = Consumer::attach(cleanup_.name(), {.name = name, .hold = true});
        if (!attached) ADD_FAILURE() << attached.error().message;
        return std::move(attached.value());
    }

    /// Writes value (as the first 8 bytes) into one slot and commits it.
    static Status write_value(Producer& producer, std::uint64_t value, std::chrono::nanoseconds timeout = NO_WAIT) {
        WriteSlot slot = producer.acquire_write(waiting(timeout));
        if (!slot) return slot.status();
        std::memcpy(slot.payload().data(), &value, sizeof value);
        return slot.commit(sizeof value);
    }

    /// Reads one slot's first 8 bytes; nullopt (and the status) if none.
    static std::optional<std::uint64_t> read_value(Consumer& consumer,
                                                   std::chrono::nanoseconds timeout = NO_WAIT,
                                                   Status* status = nullptr) {
        ReadSlot slot = consumer.acquire_read(waiting(timeout));
        if (status != nullptr) *status = slot.status();
        if (!slot) return std::nullopt;
        std::uint64_t value = 0;
        std::memcpy(&value, slot.payload().data(), sizeof value);
        const Status released = slot.release();
        if (status != nullptr) *status = released;
        if (released != Status::Ok) return std::nullopt;
        return value;
    }

    const std::string& channel() const { return cleanup_.name(); }

private:
    dhub::testing::ChannelCleanup cleanup_{
        dhub::testing::unique_channel_name(::testing::UnitTest::GetInstance()->current_test_info()->name())};
};

}  // namespace dhub::shm::testing_support
