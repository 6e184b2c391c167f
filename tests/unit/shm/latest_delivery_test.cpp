// SPDX-License-Identifier: Apache-2.0
// Delivery chosen per consumer: a latest-only reader (ConsumerOptions::delivery = Latest) of a lossless channel
// never makes the producer wait, reads a private copy of the newest slot that a reused ring slot cannot tear,
// and counts the slots it skipped; the lossless readers beside it keep getting every slot.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "dhub/shm/inspect.hpp"
#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

class LatestDelivery_test : public DataBlockFixture {
protected:
    Consumer make_latest_reader(const char* name = "viewer", bool hold = true) {
        auto attached = Consumer::attach(channel(), {.name = name, .hold = hold, .delivery = Delivery::Latest});
        if (!attached) ADD_FAILURE() << attached.error().message;
        return std::move(attached.value());
    }

    std::optional<ConsumerInfo> seat_info(std::uint32_t seat) const {
        auto info = inspect_channel(channel());
        if (!info) {
            ADD_FAILURE() << info.error().message;
            return std::nullopt;
        }
        for (const ConsumerInfo& consumer : info->consumers) {
            if (consumer.seat == seat) return consumer;
        }
        return std::nullopt;
    }
};

TEST_F(LatestDelivery_test, ALatestReaderNeverMakesTheProducerOfAnEveryReaderChannelWait) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    Consumer viewer = make_latest_reader();
    ASSERT_EQ(write_value(producer, 0), Status::Ok);
    ReadSlot held = viewer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    // Twenty-five rings past the slot it holds, with no wait allowed: a seat the producer waited for would stop
    // it after 4 slots.
    for (std::uint64_t value = 1; value < 100; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok) << "slot " << value;
    EXPECT_TRUE(viewer.latest_only());
}

TEST_F(LatestDelivery_test, TheProducerStillWaitsForTheLosslessReaderBesideIt) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    Consumer recorder = make_consumer("recorder");
    Consumer viewer = make_latest_reader();
    for (std::uint64_t value = 0; value < 4; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    EXPECT_EQ(write_value(producer, 4), Status::Timeout);
    EXPECT_EQ(read_value(recorder), 0u);
    EXPECT_EQ(write_value(producer, 4), Status::Ok);
    EXPECT_FALSE(recorder.latest_only());
}

TEST_F(LatestDelivery_test, ALatestReaderGetsTheNewestSlotOnceAndCountsWhatItSkipped) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    Consumer viewer = make_latest_reader();
    for (std::uint64_t value = 0; value < 10; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    EXPECT_EQ(read_value(viewer), 9u);
    Status status = Status::Ok;
    EXPECT_EQ(read_value(viewer, SHORT_WAIT, &status), std::nullopt);
    EXPECT_EQ(status, Status::Timeout);
    for (std::uint64_t value = 10; value < 15; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    EXPECT_EQ(read_value(viewer), 14u);
    // 0..8 before the first read, 10..13 before the second.
    EXPECT_EQ(viewer.skipped(), 13u);
    const auto info = seat_info(viewer.seat());
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->latest);
    EXPECT_EQ(info->skipped, 13u);
    EXPECT_EQ(info->reads, 2u);
}

TEST_F(LatestDelivery_test, ASlotCommittedBeforeTheReaderJoinedIsNotCountedAsSkipped) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    for (std::uint64_t value = 0; value < 3; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    Consumer viewer = make_latest_reader();
    EXPECT_EQ(read_value(viewer), 2u);
    EXPECT_EQ(viewer.skipped(), 0u);
    ASSERT_EQ(write_value(producer, 3), Status::Ok);
    EXPECT_EQ(read_value(viewer), 3u);
    EXPECT_EQ(viewer.skipped(), 0u);
}

TEST_F(LatestDelivery_test, WhatALatestReaderHoldsStaysWholeWhileTheRingReusesItsSlot) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    Consumer viewer = make_latest_reader();
    ASSERT_EQ(write_value(producer, 7), Status::Ok);
    ReadSlot held = viewer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    EXPECT_NE(held.payload().data(), viewer.view().slot_payload(0))
        << "a latest reader of a lossless channel reads a private copy";
    for (std::uint64_t value = 100; value < 112; ++value)  // three rings over slot 0
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    std::uint64_t seen = 0;
    std::memcpy(&seen, held.payload().data(), sizeof seen);
    EXPECT_EQ(seen, 7u);
    EXPECT_EQ(held.sequence(), 0u);
    EXPECT_EQ(held.release(), Status::Ok);
}

TEST_F(LatestDelivery_test, ALatestBurstIsTheNewestSlotFromTheCopy) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    Consumer viewer = make_latest_reader();
    for (std::uint64_t value = 0; value < 3; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    ReadBurst burst = viewer.acquire_burst(32, waiting(NO_WAIT));
    ASSERT_TRUE(burst);
    ASSERT_EQ(burst.size(), 1u);
    EXPECT_EQ(burst.sequence(0), 2u);
    for (std::uint64_t value = 3; value < 12; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    std::uint64_t seen = 0;
    ASSERT_EQ(burst.payload(0).size(), sizeof seen);
    std::memcpy(&seen, burst.payload(0).data(), sizeof seen);
    EXPECT_EQ(seen, 2u);
    EXPECT_NE(burst.timestamp_ns(0), 0u);
    EXPECT_EQ(burst.release(), Status::Ok);
}

TEST_F(LatestDelivery_test, ASingleReaderChannelKeepsSeatZeroForItsReaderAndGivesLatestReadersTheOthers) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer viewer = make_latest_reader();  // attached first: still not seat 0
    EXPECT_NE(viewer.seat(), 0u);
    Consumer recorder = make_consumer("recorder");
    EXPECT_EQ(recorder.seat(), 0u);
    for (std::uint64_t value = 0; value < 4; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    EXPECT_EQ(write_value(producer, 4), Status::Timeout) << "the single reader still holds the producer back";
    EXPECT_EQ(read_value(viewer), 3u);
    EXPECT_EQ(write_value(producer, 4), Status::Timeout) << "the latest reader's read frees nothing";
    EXPECT_EQ(read_value(recorder), 0u);
    EXPECT_EQ(write_value(producer, 4), Status::Ok);
    auto second = Consumer::attach(channel(), {.name = "second"});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::AlreadyExists);
}

TEST_F(LatestDelivery_test, ASingleReaderChannelWithOneSeatRefusesALatestReaderAndSaysWhatToRaise) {
    ChannelConfig one_seat = config(SyncPolicy::SingleReader);
    one_seat.max_consumers = 1;
    Producer producer = make_producer(one_seat);
    auto viewer = Consumer::attach(channel(), {.name = "viewer", .delivery = Delivery::Latest});
    ASSERT_FALSE(viewer);
    EXPECT_EQ(viewer.error().code, ErrorCode::AlreadyExists);
    EXPECT_NE(viewer.error().message.find("max_consumers"), std::string::npos) << viewer.error().message;
    Consumer recorder = make_consumer("recorder");
    EXPECT_EQ(recorder.seat(), 0u);
}

TEST_F(LatestDelivery_test, OnALatestOnlyChannelLatestDeliveryIsTheChannelsOwn) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    Consumer viewer = make_latest_reader();
    ASSERT_EQ(write_value(producer, 5), Status::Ok);
    ReadSlot slot = viewer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot.payload().data(), viewer.view().slot_payload(0)) << "zero copy, protected by the hold";
}

TEST_F(LatestDelivery_test, AVerifyingLatestReaderChecksTheCopyItHandsOut) {
    ChannelConfig verified = config(SyncPolicy::EveryReader);
    verified.checksum = ChecksumPolicy::Verify;
    Producer producer = make_producer(verified);
    Consumer viewer = make_latest_reader();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    EXPECT_EQ(read_value(viewer), 1u);
    ASSERT_EQ(write_value(producer, 2), Status::Ok);
    // Corrupt the committed payload in place, as a stray write would: the copy's checksum no longer matches.
    std::byte* payload = const_cast<std::byte*>(producer.view().slot_payload(1));
    payload[0] = static_cast<std::byte>(static_cast<unsigned char>(payload[0]) ^ 0xFF);
    ReadSlot slot = viewer.acquire_read(waiting(NO_WAIT));
    EXPECT_EQ(slot.status(), Status::ChecksumMismatch);
    EXPECT_EQ(slot.sequence(), 1u);
}

// A producer rewriting a 2-slot ring as fast as it can, every 8-byte word of slot n holding n; a latest reader
// copying each newest slot. Any copy that mixed two writes shows two different words.
TEST_F(LatestDelivery_test, UnderAFastProducerEveryCopyIsWhole) {
    constexpr std::size_t SLOT_BYTES = 16 * 1024;
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Double, 2, SLOT_BYTES));
    Consumer viewer = make_latest_reader();
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (std::uint64_t frame = 0; !done.load(std::memory_order_relaxed); ++frame) {
            WriteSlot slot = producer.acquire_write(waiting(NO_WAIT));
            ASSERT_TRUE(slot) << to_string(slot.status());
            auto* words = reinterpret_cast<std::uint64_t*>(slot.payload().data());
            for (std::size_t i = 0; i < SLOT_BYTES / sizeof(std::uint64_t); ++i)
                words[i] = frame;
            ASSERT_EQ(slot.commit(SLOT_BYTES), Status::Ok);
        }
    });
    std::uint64_t reads = 0;
    std::uint64_t torn = 0;
    std::uint64_t previous = 0;
    bool ordered = true;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < until) {
        ReadSlot slot = viewer.acquire_read(waiting(LONG_WAIT));
        ASSERT_TRUE(slot) << to_string(slot.status());
        std::vector<std::uint64_t> words(SLOT_BYTES / sizeof(std::uint64_t));
        std::memcpy(words.data(), slot.payload().data(), SLOT_BYTES);
        for (const std::uint64_t word : words) {
            if (word != slot.sequence()) {
                ++torn;
                break;
            }
        }
        if (reads != 0 && slot.sequence() <= previous) ordered = false;
        previous = slot.sequence();
        ASSERT_EQ(slot.release(), Status::Ok);
        ++reads;
    }
    done = true;
    writer.join();
    EXPECT_GT(reads, 0u);
    EXPECT_EQ(torn, 0u) << "of " << reads << " reads";
    EXPECT_TRUE(ordered);
    EXPECT_GT(viewer.skipped(), 0u) << "the producer outpaced the reader, so it skipped slots";
}

}  // namespace
}  // namespace dhub::shm
