// SPDX-License-Identifier: Apache-2.0
// Threads hammering one channel: run under -DDHUB_SANITIZE=thread to check the synchronisation. Each
// thread maps the segment itself, like a separate process would.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

constexpr std::uint64_t SLOTS_TO_WRITE = 20'000;
constexpr std::size_t SLOT_BYTES = 256;

/// Fills bytes of a slot with a pattern only sequence seq produces.
void fill(std::span<std::byte> payload, std::uint64_t seq) {
    for (std::size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<std::byte>((seq * 31 + i) & 0xFF);
}

bool matches(std::span<const std::byte> payload, std::uint64_t seq) {
    for (std::size_t i = 0; i < payload.size(); ++i) {
        if (payload[i] != static_cast<std::byte>((seq * 31 + i) & 0xFF)) return false;
    }
    return true;
}

class Concurrency_test : public DataBlockFixture, public ::testing::WithParamInterface<SyncPolicy> {};

TEST_P(Concurrency_test, EveryDeliveredSlotIsIntact) {
    ChannelConfig channel = config(GetParam(), RingPolicy::Ring, 8, SLOT_BYTES);
    channel.checksum = ChecksumPolicy::Verify;
    Producer producer = make_producer(channel);
    const int reader_count = GetParam() == SyncPolicy::SingleReader ? 1 : 3;
    std::vector<Consumer> consumers;
    for (int i = 0; i < reader_count; ++i)
        consumers.push_back(make_consumer());

    std::atomic<int> failures{0};
    std::vector<std::uint64_t> received(static_cast<std::size_t>(reader_count), 0);
    std::vector<std::thread> readers;
    for (int i = 0; i < reader_count; ++i) {
        readers.emplace_back([&, i] {
            Consumer& consumer = consumers[static_cast<std::size_t>(i)];
            std::uint64_t expected = 0;
            for (;;) {
                ReadSlot slot = consumer.acquire_read(waiting(LONG_WAIT, std::chrono::microseconds(20)));
                if (slot.status() == Status::Closed) return;
                if (!slot) {
                    ++failures;
                    return;
                }
                const std::uint64_t seq = slot.sequence();
                const bool intact = matches(slot.payload(), seq);
                if (slot.release() != Status::Ok) continue;  // latest-only reuse: discarded, fine
                if (!intact || (GetParam() != SyncPolicy::LatestOnly && seq != expected)) ++failures;
                expected = seq + 1;
                ++received[static_cast<std::size_t>(i)];
            }
        });
    }
    for (std::uint64_t seq = 0; seq < SLOTS_TO_WRITE; ++seq) {
        WriteSlot slot = producer.acquire_write(waiting(LONG_WAIT, std::chrono::microseconds(20)));
        ASSERT_TRUE(slot) << to_string(slot.status());
        const std::size_t bytes = 1 + seq % SLOT_BYTES;
        fill(slot.payload().first(bytes), seq);
        ASSERT_EQ(slot.commit(bytes), Status::Ok);
    }
    producer.close();
    for (auto& reader : readers)
        reader.join();

    EXPECT_EQ(failures.load(), 0);
    for (const std::uint64_t count : received) {
        if (GetParam() == SyncPolicy::LatestOnly) {
            EXPECT_GT(count, 0u);
        } else {
            EXPECT_EQ(count, SLOTS_TO_WRITE);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Policies,
                         Concurrency_test,
                         ::testing::Values(SyncPolicy::SingleReader, SyncPolicy::EveryReader, SyncPolicy::LatestOnly),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST_F(DataBlockFixture, ConsumersJoiningAndLeavingNeverStallTheProducer) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Ring, 4));
    std::atomic<bool> done{false};
    std::thread churn([&] {
        while (!done.load()) {
            auto consumer = Consumer::attach(channel(), {.name = "churn"});
            if (!consumer) continue;
            for (int i = 0; i < 3; ++i)
                (void)read_value(*consumer, std::chrono::milliseconds(1));
        }
    });
    for (std::uint64_t seq = 0; seq < 5'000; ++seq) {
        ASSERT_EQ(write_value(producer, seq, LONG_WAIT), Status::Ok) << seq;
    }
    done = true;
    churn.join();
}

}  // namespace
}  // namespace dhub::shm
