// SPDX-License-Identifier: Apache-2.0
// Latest-only delivery: newest slot wins, the producer never waits, reuse of a slot being read is detected.
#include <gtest/gtest.h>

#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

class LatestOnly_test : public DataBlockFixture {};

TEST_F(LatestOnly_test, ReaderGetsTheNewestSlotAndSkipsOlderOnes) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    Consumer consumer = make_consumer();
    for (std::uint64_t value = 0; value < 10; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    EXPECT_EQ(read_value(consumer), 9u);
}

TEST_F(LatestOnly_test, TheSameSlotIsNotDeliveredTwice) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    EXPECT_EQ(read_value(consumer), 1u);
    Status status = Status::Ok;
    EXPECT_EQ(read_value(consumer, SHORT_WAIT, &status), std::nullopt);
    EXPECT_EQ(status, Status::Timeout);
}

TEST_F(LatestOnly_test, ProducerNeverWaitsEvenForAReaderHoldingASlot) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Single));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    for (std::uint64_t value = 2; value < 100; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
}

TEST_F(LatestOnly_test, ReuseWhileReadingIsReportedAsOverwrittenAndCounted) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    // Two more commits on a double buffer reuse the held slot.
    ASSERT_EQ(write_value(producer, 2), Status::Ok);
    ASSERT_EQ(write_value(producer, 3), Status::Ok);
    EXPECT_EQ(held.release(), Status::Overwritten);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).overwritten_retries.load(), 1u);
}

TEST_F(LatestOnly_test, ReadUntouchedByTheProducerIsValid) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    ASSERT_EQ(write_value(producer, 2), Status::Ok);  // the other slot of the double buffer
    EXPECT_EQ(held.release(), Status::Ok);
}

TEST_F(LatestOnly_test, ReadConsistentRetriesUntilARereadSucceeds) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Single));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    int attempts = 0;
    std::uint64_t seen = 0;
    const Status status = consumer.read_consistent(
        [&](const ReadSlot& slot) {
            ++attempts;
            std::memcpy(&seen, slot.payload().data(), sizeof seen);
            if (attempts == 1) {
                ASSERT_EQ(write_value(producer, 2), Status::Ok);  // overwrite under the first attempt
            }
        },
        waiting(LONG_WAIT));
    EXPECT_EQ(status, Status::Ok);
    EXPECT_EQ(attempts, 2);
    EXPECT_EQ(seen, 2u);
}

TEST_F(LatestOnly_test, SlotBeingWrittenIsNotHandedOut) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Single));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    WriteSlot in_progress = producer.acquire_write();  // marks the only slot busy
    ASSERT_TRUE(in_progress);
    Status status = Status::Ok;
    EXPECT_EQ(read_value(consumer, SHORT_WAIT, &status), std::nullopt);
    EXPECT_EQ(status, Status::Timeout);
    std::uint64_t value = 2;
    std::memcpy(in_progress.payload().data(), &value, sizeof value);
    ASSERT_EQ(in_progress.commit(sizeof value), Status::Ok);
    EXPECT_EQ(read_value(consumer), 2u);
}

TEST_F(LatestOnly_test, ManyReadersShareTheChannel) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    Consumer first = make_consumer("a");
    Consumer second = make_consumer("b");
    ASSERT_EQ(write_value(producer, 4), Status::Ok);
    EXPECT_EQ(read_value(first), 4u);
    EXPECT_EQ(read_value(second), 4u);
}

}  // namespace
}  // namespace dhub::shm
