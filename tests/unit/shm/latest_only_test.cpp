// SPDX-License-Identifier: Apache-2.0
// Latest-only delivery: newest slot wins. A plain reader learns at release that its slot was reused (the
// producer never waits for it); a holding reader (ConsumerOptions::hold, as kernel nodes) never has its slot
// reused: the producer passes over it, and waits only when holders hold every slot.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

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

TEST_F(LatestOnly_test, APlainReaderNeverMakesTheProducerWait) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Single));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    for (std::uint64_t value = 2; value < 100; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
}

TEST_F(LatestOnly_test, APlainReadersSlotReusedWhileReadingIsReportedAsOverwrittenAndCounted) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    // Two more commits on a double buffer reuse the slot being read.
    ASSERT_EQ(write_value(producer, 2), Status::Ok);
    ASSERT_EQ(write_value(producer, 3), Status::Ok);
    EXPECT_EQ(held.release(), Status::Overwritten);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).overwritten_releases.load(), 1u);
}

TEST_F(LatestOnly_test, ReadConsistentRetriesAPlainReadUntilARereadSucceeds) {
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

TEST_F(LatestOnly_test, PlainAndHoldingReadersShareAChannel) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer plain = make_consumer("plain");
    Consumer holder = make_holding_consumer();
    EXPECT_EQ(producer.view().header().holding_readers.load(), 1u);
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot plain_read = plain.acquire_read(waiting(NO_WAIT));
    ReadSlot held_read = holder.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(plain_read);
    ASSERT_TRUE(held_read);
    for (std::uint64_t value = 2; value < 20; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    EXPECT_EQ(held_read.release(), Status::Ok);
    EXPECT_EQ(plain_read.release(), Status::Ok);  // the same slot: the producer passed over it for the holder
}

TEST_F(LatestOnly_test, HoldingReadersAreCountedWhileAttached) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    {
        Consumer holder = make_holding_consumer();
        Consumer plain = make_consumer();
        EXPECT_EQ(producer.view().header().holding_readers.load(), 1u);
    }
    EXPECT_EQ(producer.view().header().holding_readers.load(), 0u);
}

TEST_F(LatestOnly_test, AHeldSlotIsPassedOverAndStaysWholeWhileTheProducerGoesOn) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer consumer = make_holding_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    // On a double buffer every second commit would land in the held slot: the producer passes over it.
    for (std::uint64_t value = 2; value < 100; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok) << value;
    std::uint64_t seen = 0;
    std::memcpy(&seen, held.payload().data(), sizeof seen);
    EXPECT_EQ(seen, 1u);
    EXPECT_EQ(held.release(), Status::Ok);
    EXPECT_EQ(read_value(consumer), 99u);
    EXPECT_GT(producer.view().header().held_skips.load(), 0u);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).overwritten_releases.load(), 0u);
}

TEST_F(LatestOnly_test, BurstsPassOverAHeldSlotToo) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Ring, 4));
    Consumer consumer = make_holding_consumer();
    ASSERT_EQ(write_value(producer, 7), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    for (int round = 0; round < 20; ++round) {
        WriteBurst burst = producer.acquire_burst(8, waiting(NO_WAIT));
        ASSERT_TRUE(burst) << round;
        ASSERT_LE(burst.size(), 3u);  // never the held slot, never the whole ring
        for (std::size_t i = 0; i < burst.size(); ++i) {
            EXPECT_NE(burst.sequence(i) % 4, held.sequence() % 4) << "burst covers the held slot";
            std::memset(burst.payload(i).data(), 0xAB, sizeof(std::uint64_t));
        }
        ASSERT_EQ(burst.commit(burst.size()), Status::Ok);
    }
    std::uint64_t seen = 0;
    std::memcpy(&seen, held.payload().data(), sizeof seen);
    EXPECT_EQ(seen, 7u);
    EXPECT_EQ(held.release(), Status::Ok);
}

TEST_F(LatestOnly_test, ProducerWaitsOnlyWhileReadersHoldEverySlotAndARelease) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Single));
    Consumer consumer = make_holding_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    EXPECT_EQ(write_value(producer, 2), Status::Timeout);  // the only slot is held
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_EQ(held.release(), Status::Ok);
    });
    EXPECT_EQ(write_value(producer, 3, LONG_WAIT), Status::Ok);  // woken by the release
    releaser.join();
    EXPECT_EQ(read_value(consumer), 3u);
}

TEST_F(LatestOnly_test, AnAcquisitionThatTimedOutLeavesTheNewestSlotToReaders) {
    // Arrange: on a double buffer, reader a holds sequence 0 and reader b the newest, 1. Passing over a's slot,
    // the producer claims b's (the newest) too, finds it held as well, and times out.
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer a = make_holding_consumer("a");
    Consumer b = make_holding_consumer("b");
    Consumer c = make_holding_consumer("c");
    ASSERT_EQ(write_value(producer, 0), Status::Ok);
    ReadSlot held_by_a = a.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held_by_a);
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held_by_b = b.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held_by_b);
    ASSERT_EQ(write_value(producer, 2), Status::Timeout);

    // Act: b is done and the producer stays idle; a newcomer asks for the newest slot.
    ASSERT_EQ(held_by_b.release(), Status::Ok);
    ReadSlot newest = c.acquire_read(waiting(SHORT_WAIT));

    // Assert: nothing was written, so the newest slot is whole and must be handed out.
    ASSERT_TRUE(newest) << "the timed-out acquisition's claim still keeps readers off the newest slot: "
                        << to_string(newest.status());
    std::uint64_t seen = 0;
    std::memcpy(&seen, newest.payload().data(), sizeof seen);
    EXPECT_EQ(seen, 1u);
    EXPECT_EQ(producer.view().header().held_skips.load(), 0u);
}

TEST_F(LatestOnly_test, SequencesPassedOverByAnAbortedAcquisitionAreNotCountedAsSkipped) {
    // Arrange: reader holds sequence 0 of a ring of 4; 1..3 fill the others, so sequence 4 (slot 0) is held.
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Ring, 4));
    Consumer consumer = make_holding_consumer();
    ASSERT_EQ(write_value(producer, 0), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    for (std::uint64_t value = 1; value < 4; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);

    // Act: an acquisition that passes over sequence 4 and is aborted, then one that commits.
    {
        WriteSlot aborted = producer.acquire_write(waiting(NO_WAIT));
        ASSERT_TRUE(aborted);
        EXPECT_EQ(aborted.sequence(), 5u);
        aborted.abort();
    }
    const std::uint64_t skips_after_abort = producer.view().header().held_skips.load();
    ASSERT_EQ(write_value(producer, 5), Status::Ok);

    // Assert: only the committed acquisition skipped a sequence.
    EXPECT_EQ(skips_after_abort, 0u);
    EXPECT_EQ(producer.view().header().held_skips.load(), 1u);
    EXPECT_EQ(held.release(), Status::Ok);
}

TEST_F(LatestOnly_test, AReaderPerSlotButOneLeavesTheProducerRoomToWrite) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Ring, 4));
    std::vector<Consumer> readers;
    std::vector<ReadSlot> holds;
    for (std::uint64_t value = 0; value < 3; ++value) {
        ASSERT_EQ(write_value(producer, value), Status::Ok);
        std::string name(1, 'r');  // not "r" + to_string(...): GCC 12 at -O3 warns -Wrestrict on that
        name += std::to_string(value);
        readers.push_back(make_holding_consumer(name.c_str()));
        holds.push_back(readers.back().acquire_read(waiting(NO_WAIT)));
        ASSERT_TRUE(holds.back());
    }
    for (std::uint64_t value = 10; value < 50; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok) << value;
    for (std::size_t i = 0; i < holds.size(); ++i) {
        std::uint64_t seen = 0;
        std::memcpy(&seen, holds[i].payload().data(), sizeof seen);
        EXPECT_EQ(seen, i) << "reader " << i;
        EXPECT_EQ(holds[i].release(), Status::Ok);
    }
}

TEST_F(LatestOnly_test, AHoldIsDroppedWithTheConsumersSeat) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Single));
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    {
        Consumer consumer = make_holding_consumer();
        // As if the consumer were reading the slot when its seat was given up (or evicted after a crash).
        consumer.view().consumer(consumer.seat()).held.store(1);
        EXPECT_EQ(write_value(producer, 2), Status::Timeout);
    }
    EXPECT_EQ(write_value(producer, 2), Status::Ok);
}

TEST_F(LatestOnly_test, ASlotRewrittenUnderAHoldIsReportedAtReleaseAndCounted) {
    // The tripwire behind the holds: a slot whose sequence changed while it was held (here written by hand,
    // as a producer ignoring the holds would) is reported Overwritten, never Ok.
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer consumer = make_holding_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    producer.view().slot_header(held.sequence()).seq.store(held.sequence() + 2);
    EXPECT_EQ(held.release(), Status::Overwritten);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).overwritten_releases.load(), 1u);
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

TEST_F(LatestOnly_test, ReadConsistentReadsOnceWhenNothingRewritesTheSlot) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    Consumer consumer = make_holding_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    int attempts = 0;
    std::uint64_t seen = 0;
    const Status status = consumer.read_consistent(
        [&](const ReadSlot& slot) {
            ++attempts;
            std::memcpy(&seen, slot.payload().data(), sizeof seen);
            // Commits under the read go to the other slot: the one being read stays whole.
            for (std::uint64_t value = 2; value < 6; ++value)
                ASSERT_EQ(write_value(producer, value), Status::Ok);
        },
        waiting(LONG_WAIT));
    EXPECT_EQ(status, Status::Ok);
    EXPECT_EQ(attempts, 1);
    EXPECT_EQ(seen, 1u);
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

// Without a holding reader the producer looks at the holds without fences (holds_fenced 0); a reader that
// takes a hold then orders itself with an asymmetric fence, and the producer's next look sees it counted and
// fences from then on. The hold taken before that must be honoured like any other.
TEST_F(LatestOnly_test, AHoldTakenWhileTheProducerLooksUnfencedIsHonouredAndTheProducerThenFences) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double));
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    const auto& header = producer.view().header();
    if (header.holds_fenced.load() != 0) GTEST_SKIP() << "membarrier is unavailable here: looks are always fenced";
    Consumer consumer = make_holding_consumer();
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));  // the producer is idle: it cannot help
    ASSERT_TRUE(held) << to_string(held.status());
    for (std::uint64_t value = 2; value < 100; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok) << value;
    EXPECT_EQ(header.holds_fenced.load(), 1u);
    std::uint64_t seen = 0;
    std::memcpy(&seen, held.payload().data(), sizeof seen);
    EXPECT_EQ(seen, 1u) << "the producer rewrote a slot held since before it fenced its looks";
    EXPECT_EQ(held.release(), Status::Ok);
    EXPECT_EQ(read_value(consumer), 99u);
}

// The same hand-over at full speed: a producer writing a double buffer flat out (unfenced, nobody holds) while
// a holding reader joins and reads; every slot it is handed stays whole until it releases it.
TEST_F(LatestOnly_test, AHoldingReaderJoiningAProducerAtFullSpeedNeverSeesItsSlotChange) {
    constexpr std::size_t SLOT_BYTES = 4096;
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Double, 2, SLOT_BYTES));
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (std::uint64_t value = 1; !done.load(std::memory_order_relaxed); ++value) {
            WriteSlot slot = producer.acquire_write(waiting(SHORT_WAIT));
            if (!slot) continue;
            for (std::size_t at = 0; at < SLOT_BYTES; at += sizeof value)
                std::memcpy(slot.payload().data() + at, &value, sizeof value);
            (void)slot.commit(SLOT_BYTES);
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // unfenced looks by now, if available
    Consumer consumer = make_holding_consumer();
    std::uint64_t torn = 0;
    for (int read = 0; read < 2000; ++read) {
        ReadSlot slot = consumer.acquire_read(waiting(LONG_WAIT));
        ASSERT_TRUE(slot) << to_string(slot.status());
        std::uint64_t first = 0;
        std::memcpy(&first, slot.payload().data(), sizeof first);
        std::this_thread::sleep_for(std::chrono::microseconds(20));  // the producer laps the ring meanwhile
        for (std::size_t at = 0; at < SLOT_BYTES; at += sizeof first) {
            std::uint64_t word = 0;
            std::memcpy(&word, slot.payload().data() + at, sizeof word);
            torn += word != first ? 1 : 0;
        }
        ASSERT_EQ(slot.release(), Status::Ok) << "read " << read;
    }
    done.store(true);
    writer.join();
    EXPECT_EQ(torn, 0u);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).overwritten_releases.load(), 0u);
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
