// SPDX-License-Identifier: Apache-2.0
// WriteBurst and ReadBurst: several slots acquired together, published / handed back with one store.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "dhub/base/clock.hpp"
#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

class Burst_test : public DataBlockFixture {
protected:
    /// Writes value + i into the first 8 bytes of each slot of the burst and stamps 8 bytes.
    static void fill(WriteBurst& burst, std::uint64_t value) {
        for (std::size_t i = 0; i < burst.size(); ++i) {
            const std::uint64_t v = value + i;
            std::memcpy(burst.payload(i).data(), &v, sizeof v);
            ASSERT_EQ(burst.stamp(i, sizeof v), Status::Ok);
        }
    }
    static std::uint64_t value_of(const ReadBurst& burst, std::size_t i) {
        std::uint64_t v = 0;
        std::memcpy(&v, burst.payload(i).data(), sizeof v);
        return v;
    }
};

TEST_F(Burst_test, BurstTakesAsManySlotsAsAreFreeUpToMax) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    WriteBurst burst = producer.acquire_burst(5, waiting(NO_WAIT));
    ASSERT_TRUE(burst);
    EXPECT_EQ(burst.size(), 5u);
    EXPECT_EQ(burst.sequence(0), 0u);
    EXPECT_EQ(burst.sequence(4), 4u);
    fill(burst, 100);
    ASSERT_EQ(burst.commit(5), Status::Ok);

    WriteBurst rest = producer.acquire_burst(100, waiting(NO_WAIT));
    ASSERT_TRUE(rest);
    EXPECT_EQ(rest.size(), 3u) << "only 3 of 8 slots are free while 5 are unread";
    EXPECT_EQ(rest.sequence(0), 5u);
    rest.abort();
}

TEST_F(Burst_test, NothingIsVisibleBeforeCommitAndAllIsVisibleAfter) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    WriteBurst burst = producer.acquire_burst(4, waiting(NO_WAIT));
    ASSERT_TRUE(burst);
    fill(burst, 10);
    EXPECT_EQ(consumer.acquire_burst(8, waiting(NO_WAIT)).status(), Status::Timeout);
    EXPECT_EQ(consumer.backlog(), 0u);
    ASSERT_EQ(burst.commit(4), Status::Ok);
    EXPECT_EQ(producer.view().header().write_seq.load(), 4u);

    ReadBurst read = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_TRUE(read);
    ASSERT_EQ(read.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(read.sequence(i), i);
        EXPECT_EQ(value_of(read, i), 10 + i);
        EXPECT_EQ(read.payload(i).size(), 8u);
    }
    EXPECT_EQ(read.release(), Status::Ok);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).cursor.load(), 4u);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).reads.load(), 4u);
}

TEST_F(Burst_test, PartialCommitPublishesThePrefixAndGivesTheRestBack) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    WriteBurst burst = producer.acquire_burst(6, waiting(NO_WAIT));
    ASSERT_EQ(burst.size(), 6u);
    fill(burst, 0);
    ASSERT_EQ(burst.commit(2), Status::Ok);
    EXPECT_EQ(producer.next_sequence(), 2u);
    // The slots given back were never published and are marked empty, not left busy.
    EXPECT_EQ(producer.view().slot_header(3).seq.load(), layout::SLOT_EMPTY);

    ASSERT_EQ(write_value(producer, 42), Status::Ok);  // sequence 2 reuses the first slot given back
    ReadBurst read = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_EQ(read.size(), 3u);
    EXPECT_EQ(value_of(read, 0), 0u);
    EXPECT_EQ(value_of(read, 1), 1u);
    EXPECT_EQ(value_of(read, 2), 42u);
}

TEST_F(Burst_test, CommitOfMoreThanWasAcquiredIsRefusedAndTheBurstStaysHeld) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    WriteBurst burst = producer.acquire_burst(2, waiting(NO_WAIT));
    ASSERT_EQ(burst.size(), 2u);
    EXPECT_EQ(burst.commit(3), Status::Invalid);
    EXPECT_EQ(burst.stamp(2, 8), Status::Invalid);
    EXPECT_EQ(burst.stamp(0, 65), Status::TooLarge);
    EXPECT_EQ(burst.commit(2), Status::Ok);
    EXPECT_EQ(producer.next_sequence(), 2u);
}

TEST_F(Burst_test, UnstampedSlotCarriesItsWholeLengthAndTheCommitTime) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 4));
    Consumer consumer = make_consumer();
    WriteBurst burst = producer.acquire_burst(2, waiting(NO_WAIT));
    ASSERT_EQ(burst.size(), 2u);
    ASSERT_EQ(burst.stamp(1, 8, 12345), Status::Ok);
    const std::uint64_t before = monotonic_ns();
    ASSERT_EQ(burst.commit(2), Status::Ok);
    ReadBurst read = consumer.acquire_burst(2, waiting(NO_WAIT));
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read.payload(0).size(), 64u);
    EXPECT_GE(read.timestamp_ns(0), before);
    EXPECT_EQ(read.payload(1).size(), 8u);
    EXPECT_EQ(read.timestamp_ns(1), 12345u);
}

TEST_F(Burst_test, DroppedBurstIsAbortedAndNeverDelivered) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 4));
    Consumer consumer = make_consumer();
    {
        WriteBurst burst = producer.acquire_burst(3, waiting(NO_WAIT));
        ASSERT_EQ(burst.size(), 3u);
        fill(burst, 7);
    }
    EXPECT_EQ(producer.view().header().counters.aborts.load(), 1u);
    EXPECT_EQ(consumer.acquire_burst(4, waiting(NO_WAIT)).status(), Status::Timeout);
    ASSERT_EQ(write_value(producer, 9), Status::Ok);
    EXPECT_EQ(read_value(consumer), 9u);
}

TEST_F(Burst_test, ABurstIsTheOneOutstandingAcquisition) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    WriteBurst burst = producer.acquire_burst(2, waiting(NO_WAIT));
    ASSERT_TRUE(burst);
    EXPECT_EQ(producer.acquire_write(waiting(NO_WAIT)).status(), Status::Invalid);
    EXPECT_EQ(producer.acquire_burst(2, waiting(NO_WAIT)).status(), Status::Invalid);
    EXPECT_EQ(producer.acquire_burst(0, waiting(NO_WAIT)).status(), Status::Invalid);
    ASSERT_EQ(burst.commit(2), Status::Ok);

    ReadBurst read = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_TRUE(read);
    EXPECT_EQ(consumer.acquire_read(waiting(NO_WAIT)).status(), Status::Invalid);
    EXPECT_EQ(consumer.acquire_burst(8, waiting(NO_WAIT)).status(), Status::Invalid);
}

TEST_F(Burst_test, FullRingMakesABurstWaitAndTimeOut) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 4));
    Consumer consumer = make_consumer();
    WriteBurst burst = producer.acquire_burst(4, waiting(NO_WAIT));
    ASSERT_EQ(burst.size(), 4u);
    ASSERT_EQ(burst.commit(4), Status::Ok);
    EXPECT_EQ(producer.acquire_burst(4, waiting(SHORT_WAIT)).status(), Status::Timeout);

    ReadBurst read = consumer.acquire_burst(1, waiting(NO_WAIT));
    ASSERT_EQ(read.size(), 1u);
    ASSERT_EQ(read.release(), Status::Ok);
    WriteBurst one = producer.acquire_burst(4, waiting(NO_WAIT));
    EXPECT_EQ(one.size(), 1u) << "exactly the slot the consumer handed back";
}

TEST_F(Burst_test, LatestOnlyBurstNeverCoversTheNewestCommittedSlot) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Ring, 4));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 5), Status::Ok);
    WriteBurst burst = producer.acquire_burst(10, waiting(NO_WAIT));
    EXPECT_EQ(burst.size(), 3u);
    // The reader still gets the newest committed slot while the burst is being written.
    EXPECT_EQ(read_value(consumer), 5u);
    fill(burst, 20);
    ASSERT_EQ(burst.commit(3), Status::Ok);

    ReadBurst read = consumer.acquire_burst(10, waiting(NO_WAIT));
    ASSERT_EQ(read.size(), 1u) << "latest-only: the newest slot alone";
    EXPECT_EQ(value_of(read, 0), 22u);
    EXPECT_EQ(read.release(), Status::Ok);
}

TEST_F(Burst_test, AJoiningConsumersStaleCursorNeverWidensABurstOverUnreadSlots) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    auto write_burst = [&](std::size_t max, std::size_t commit) {
        WriteBurst burst = producer.acquire_burst(max, waiting(NO_WAIT));
        ASSERT_GE(burst.size(), commit);
        ASSERT_EQ(burst.commit(commit), Status::Ok);
    };
    auto read_all = [&] {
        while (ReadBurst read = consumer.acquire_burst(8, waiting(NO_WAIT))) {
            (void)read.release();
        }
    };
    write_burst(4, 4);
    read_all();
    write_burst(4, 4);  // the ring looked full: the producer's bound on unread slots is now 4
    write_burst(3, 3);  // next sequence 11
    read_all();
    // A seat that is joining shows a stale cursor for a moment (its final cursor is at least write_seq).
    layout::ConsumerEntry& joining = producer.view().consumer(1);
    joining.cursor.store(1);
    joining.state.store(layout::CONSUMER_ACTIVE);

    WriteBurst burst = producer.acquire_burst(4, waiting(NO_WAIT));
    EXPECT_EQ(burst.size(), 1u) << "only what the bound established before allows, never a wrapped count";
}

TEST_F(Burst_test, SingleSlotRingBurstIsOneSlot) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Single, 1));
    WriteBurst burst = producer.acquire_burst(8, waiting(NO_WAIT));
    EXPECT_EQ(burst.size(), 1u);
}

TEST_F(Burst_test, ReadBurstTakesOnlyWhatIsCommitted) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    for (std::uint64_t v = 0; v < 3; ++v)
        ASSERT_EQ(write_value(producer, v), Status::Ok);
    ReadBurst first = consumer.acquire_burst(2, waiting(NO_WAIT));
    ASSERT_EQ(first.size(), 2u);
    ASSERT_EQ(first.release(), Status::Ok);
    ReadBurst second = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(value_of(second, 0), 2u);
    ASSERT_EQ(second.release(), Status::Ok);
    EXPECT_EQ(consumer.acquire_burst(8, waiting(NO_WAIT)).status(), Status::Timeout);
}

TEST_F(Burst_test, ReadBurstEndsBeforeACorruptSlotWhichIsReportedNext) {
    ChannelConfig channel = config(SyncPolicy::SingleReader, RingPolicy::Ring, 8);
    channel.checksum = ChecksumPolicy::Verify;
    Producer producer = make_producer(channel);
    Consumer consumer = make_consumer();
    for (std::uint64_t v = 0; v < 4; ++v)
        ASSERT_EQ(write_value(producer, v), Status::Ok);
    producer.view().slot_payload(2)[1] ^= std::byte{0x10};

    ReadBurst good = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_EQ(good.size(), 2u);
    ASSERT_EQ(good.release(), Status::Ok);
    ReadBurst bad = consumer.acquire_burst(8, waiting(NO_WAIT));
    EXPECT_EQ(bad.status(), Status::ChecksumMismatch);
    EXPECT_EQ(bad.sequence(0), 2u);
    EXPECT_EQ(bad.size(), 0u);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).checksum_failures.load(), 1u);
    ReadBurst after = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(value_of(after, 0), 3u);
}

TEST_F(Burst_test, BurstChecksumsCoverEachSlotsCommittedBytes) {
    ChannelConfig channel = config(SyncPolicy::SingleReader, RingPolicy::Ring, 8);
    channel.checksum = ChecksumPolicy::Verify;
    Producer producer = make_producer(channel);
    Consumer consumer = make_consumer();
    WriteBurst burst = producer.acquire_burst(3, waiting(NO_WAIT));
    ASSERT_EQ(burst.size(), 3u);
    fill(burst, 1);
    ASSERT_EQ(burst.commit(3), Status::Ok);
    ReadBurst read = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_EQ(read.size(), 3u);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).checksum_failures.load(), 0u);
}

TEST_F(Burst_test, SleepingBurstReaderIsWokenByABurstCommit) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    std::atomic<std::size_t> got{0};
    std::thread reader([&] {
        ReadBurst read = consumer.acquire_burst(8, waiting(LONG_WAIT));  // no spin: sleeps on the futex
        got = read.size();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    WriteBurst burst = producer.acquire_burst(3, waiting(NO_WAIT));
    fill(burst, 0);
    ASSERT_EQ(burst.commit(3), Status::Ok);
    reader.join();
    EXPECT_EQ(got.load(), 3u);
}

TEST_F(Burst_test, SleepingBurstWriterIsWokenByABurstRelease) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 4));
    Consumer consumer = make_consumer();
    WriteBurst full = producer.acquire_burst(4, waiting(NO_WAIT));
    ASSERT_EQ(full.commit(4), Status::Ok);
    std::atomic<std::size_t> got{0};
    std::thread writer([&] {
        WriteBurst burst = producer.acquire_burst(4, waiting(LONG_WAIT));
        got = burst.size();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ReadBurst read = consumer.acquire_burst(4, waiting(NO_WAIT));
    ASSERT_EQ(read.size(), 4u);
    ASSERT_EQ(read.release(), Status::Ok);
    writer.join();
    EXPECT_GE(got.load(), 2u) << "a sleeping producer waits for half a ring";
}

/// Bursts of every length against bursts of every length, in two threads that map the segment each:
/// every sequence arrives once, in order, intact (run under -DDHUB_SANITIZE=thread too).
TEST_F(Burst_test, BurstWriterAndBurstReaderAgreeOnEverySlot) {
    constexpr std::uint64_t TOTAL = 50'000;
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 16, 128));
    Consumer consumer = make_consumer();
    std::atomic<std::uint64_t> failures{0};
    std::thread reader([&] {
        std::uint64_t expected = 0;
        std::size_t max = 1;
        while (expected < TOTAL) {
            ReadBurst read = consumer.acquire_burst(max, waiting(LONG_WAIT, std::chrono::microseconds(20)));
            if (!read) {
                ++failures;
                return;
            }
            for (std::size_t i = 0; i < read.size(); ++i) {
                const auto payload = read.payload(i);
                std::uint64_t head = 0;
                std::uint64_t tail = 0;
                std::memcpy(&head, payload.data(), sizeof head);
                std::memcpy(&tail, payload.data() + payload.size() - sizeof tail, sizeof tail);
                if (read.sequence(i) != expected || head != expected || tail != expected ||
                    payload.size() != 16 + expected % 100) {
                    ++failures;
                }
                ++expected;
            }
            if (read.release() != Status::Ok) ++failures;
            max = max % 23 + 1;
        }
    });
    std::uint64_t next = 0;
    std::size_t max = 1;
    while (next < TOTAL) {
        WriteBurst burst = producer.acquire_burst(max, waiting(LONG_WAIT, std::chrono::microseconds(20)));
        ASSERT_TRUE(burst) << to_string(burst.status());
        const std::size_t count = std::min<std::uint64_t>(burst.size(), TOTAL - next);
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint64_t seq = next + i;
            const std::size_t bytes = 16 + seq % 100;
            std::memcpy(burst.payload(i).data(), &seq, sizeof seq);
            std::memcpy(burst.payload(i).data() + bytes - sizeof seq, &seq, sizeof seq);
            ASSERT_EQ(burst.stamp(i, bytes), Status::Ok);
        }
        ASSERT_EQ(burst.commit(count), Status::Ok);
        next += count;
        max = max % 17 + 1;
    }
    reader.join();
    EXPECT_EQ(failures.load(), 0u);
}

}  // namespace
}  // namespace dhub::shm

namespace dhub::shm {
namespace {

using namespace testing_support;

class PartialRelease_test : public DataBlockFixture {
protected:
    static void publish(Producer& producer, std::size_t count, std::uint64_t first_value) {
        WriteBurst burst = producer.acquire_burst(count, waiting(NO_WAIT));
        ASSERT_EQ(burst.size(), count);
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint64_t v = first_value + i;
            std::memcpy(burst.payload(i).data(), &v, sizeof v);
            ASSERT_EQ(burst.stamp(i, sizeof v), Status::Ok);
        }
        ASSERT_EQ(burst.commit(count), Status::Ok);
    }
};

// A stage that consumes part of a burst (SDK 1.2): the rest is read again, first, and frees no space.
TEST_F(PartialRelease_test, TheUnreleasedSlotsAreReadAgainFirst) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    publish(producer, 5, 100);
    ReadBurst first = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_EQ(first.size(), 5u);
    ASSERT_EQ(first.release(3), Status::Ok);
    EXPECT_EQ(consumer.backlog(), 2u);
    ReadBurst again = consumer.acquire_burst(8, waiting(NO_WAIT));
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again.sequence(0), 3u);
    std::uint64_t value = 0;
    std::memcpy(&value, again.payload(0).data(), sizeof value);
    EXPECT_EQ(value, 103u);
    ASSERT_EQ(again.release(0), Status::Ok);  // nothing consumed: still two unread, six slots free
    WriteBurst space = producer.acquire_burst(8, waiting(NO_WAIT));
    EXPECT_EQ(space.size(), 6u);
    space.abort();
}

TEST_F(PartialRelease_test, WaitForBacklogAboveWaitsForMoreThanIsUnreadOrTheClose) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    publish(producer, 2, 0);
    EXPECT_EQ(consumer.wait_for_backlog_above(1, waiting(NO_WAIT)), Status::Ok);
    EXPECT_EQ(consumer.wait_for_backlog_above(2, waiting(SHORT_WAIT)), Status::Timeout);
    publish(producer, 1, 2);
    EXPECT_EQ(consumer.wait_for_backlog_above(2, waiting(SHORT_WAIT)), Status::Ok);
    producer.close();
    EXPECT_EQ(consumer.wait_for_backlog_above(3, waiting(LONG_WAIT)), Status::Closed);
}

// A burst kept past one call (a transport sending from shared memory): release_front hands back the oldest and keeps
// the rest unchanged, holding the producer back; extend_burst adds only what lies past it.
TEST_F(PartialRelease_test, AKeptBurstStaysUnchangedAndGrowsOnlyByNewSlots) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    publish(producer, 8, 0);
    ReadBurst kept = consumer.acquire_burst(5, waiting(NO_WAIT));
    ASSERT_EQ(kept.size(), 5u);
    ASSERT_EQ(kept.release_front(2), Status::Ok);  // 0 and 1 handed back; 2..4 still held
    ASSERT_TRUE(kept);
    ASSERT_EQ(kept.size(), 3u);
    EXPECT_EQ(kept.sequence(0), 2u);
    EXPECT_EQ(consumer.acquire_burst(1, waiting(NO_WAIT)).status(), Status::Invalid) << "one burst at a time";
    publish(producer, 2, 8);  // the two freed slots
    EXPECT_EQ(producer.acquire_burst(1, waiting(NO_WAIT)).status(), Status::Timeout) << "the kept slots are not free";

    ASSERT_EQ(consumer.extend_burst(kept, 100, waiting(NO_WAIT)), Status::Ok);
    ASSERT_EQ(kept.size(), 8u) << "3 kept and the 5 committed after them";
    for (std::size_t i = 0; i < kept.size(); ++i) {
        EXPECT_EQ(kept.sequence(i), 2 + i);
        std::uint64_t value = 0;
        std::memcpy(&value, kept.payload(i).data(), sizeof value);
        EXPECT_EQ(value, 2 + i) << "slot " << i << " changed while kept";
    }
    EXPECT_EQ(consumer.extend_burst(kept, 4, waiting(NO_WAIT)), Status::Timeout) << "nothing new";
    EXPECT_EQ(kept.size(), 8u) << "a failed extend leaves the burst as it was";
    producer.close();
    EXPECT_EQ(consumer.extend_burst(kept, 4, waiting(LONG_WAIT)), Status::Closed);
    ASSERT_EQ(kept.release_front(8), Status::Ok);
    EXPECT_FALSE(kept);
    EXPECT_EQ(consumer.acquire_burst(1, waiting(LONG_WAIT)).status(), Status::Closed);
}

TEST_F(PartialRelease_test, ExtendRefusesABurstOfAnotherConsumerAndALatestOnlyChannel) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Ring, 8));
    Consumer one = make_consumer("one");
    Consumer other = make_consumer("other");
    publish(producer, 4, 0);
    ReadBurst burst = one.acquire_burst(2, waiting(NO_WAIT));
    ASSERT_TRUE(burst);
    EXPECT_EQ(other.extend_burst(burst, 2, waiting(NO_WAIT)), Status::Invalid);
    ASSERT_EQ(burst.release(), Status::Ok);
    EXPECT_EQ(one.extend_burst(burst, 2, waiting(NO_WAIT)), Status::Invalid) << "a released burst";
}

TEST_F(PartialRelease_test, ExtendIsRefusedOnALatestOnlyChannel) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly, RingPolicy::Ring, 4));
    Consumer latest = make_consumer();
    publish(producer, 2, 0);
    ReadBurst burst = latest.acquire_burst(4, waiting(NO_WAIT));
    ASSERT_TRUE(burst);
    EXPECT_EQ(latest.extend_burst(burst, 4, waiting(NO_WAIT)), Status::Invalid);
    EXPECT_EQ(burst.release_front(0), Status::Ok);
    EXPECT_TRUE(burst) << "a latest-only burst kept with count 0";
}

// A producer and a reader keeping bursts on two threads: every value arrives once, in order, and a kept slot still
// holds its value when it is handed back, whatever the burst's size and the moment of each release.
TEST_F(PartialRelease_test, KeptSlotsNeverChangeUnderAFastProducer) {
    constexpr std::uint64_t VALUES = 20'000;
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, 8));
    Consumer consumer = make_consumer();
    std::thread writer([&] {
        for (std::uint64_t v = 0; v < VALUES; ++v)
            ASSERT_EQ(write_value(producer, v, LONG_WAIT), Status::Ok);
        producer.close();
    });
    std::uint64_t next_expected = 0;  // the value of the oldest kept slot
    std::optional<ReadBurst> kept;
    for (std::uint64_t round = 0;; ++round) {
        const std::size_t max = 1 + round % 5;
        if (!kept) {
            ReadBurst burst = consumer.acquire_burst(max, waiting(LONG_WAIT));
            if (burst.status() == Status::Closed) break;
            ASSERT_TRUE(burst) << static_cast<int>(burst.status());
            kept.emplace(std::move(burst));
        } else {
            const Status grown = consumer.extend_burst(*kept, max, waiting(LONG_WAIT));
            ASSERT_TRUE(grown == Status::Ok || grown == Status::Closed) << static_cast<int>(grown);
        }
        for (std::size_t i = 0; i < kept->size(); ++i) {
            std::uint64_t value = 0;
            std::memcpy(&value, kept->payload(i).data(), sizeof value);
            ASSERT_EQ(value, next_expected + i);
        }
        const std::size_t size = kept->size();
        const std::size_t handed_back = round % 3 == 0 ? size : size / 2;
        ASSERT_EQ(kept->release_front(handed_back), Status::Ok);
        next_expected += handed_back;
        if (!*kept) kept.reset();
    }
    writer.join();
    EXPECT_EQ(next_expected, VALUES);
}

}  // namespace
}  // namespace dhub::shm
