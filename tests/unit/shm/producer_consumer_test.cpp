// SPDX-License-Identifier: Apache-2.0
// Lossless policies (single reader, every reader), the write/read handles and the lifecycle, in-process.
#include <gtest/gtest.h>

#include <thread>

#include "dhub/shm/inspect.hpp"
#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

class ProducerConsumer_test : public DataBlockFixture {};

TEST_F(ProducerConsumer_test, SingleReaderReceivesEverySlotInOrder) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    for (std::uint64_t value = 0; value < 10; ++value) {
        ASSERT_EQ(write_value(producer, value * 3), Status::Ok);
        const auto read = read_value(consumer);
        ASSERT_TRUE(read.has_value());
        EXPECT_EQ(*read, value * 3);
    }
}

TEST_F(ProducerConsumer_test, ReadSlotCarriesSequenceTimestampAndCommittedLength) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    constexpr std::uint64_t STAMP = 123456789;
    constexpr std::size_t BYTES = 5;
    WriteSlot written = producer.acquire_write();
    ASSERT_TRUE(written);
    ASSERT_EQ(written.payload().size(), 64u);
    ASSERT_EQ(written.commit(BYTES, STAMP), Status::Ok);

    ReadSlot read = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(read);
    EXPECT_EQ(read.sequence(), 0u);
    EXPECT_EQ(read.timestamp_ns(), STAMP);
    EXPECT_EQ(read.payload().size(), BYTES);
}

TEST_F(ProducerConsumer_test, FullRingMakesTheProducerWaitAndTimeOut) {
    constexpr std::uint32_t SLOTS = 4;
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Ring, SLOTS));
    Consumer consumer = make_consumer();
    for (std::uint64_t value = 0; value < SLOTS; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);

    EXPECT_EQ(write_value(producer, 99, SHORT_WAIT), Status::Timeout);
    EXPECT_EQ(producer.view().header().counters.write_timeouts.load(), 1u);

    ASSERT_EQ(read_value(consumer), 0u);
    EXPECT_EQ(write_value(producer, SLOTS), Status::Ok);
}

TEST_F(ProducerConsumer_test, SingleSlotRingAlternatesWriterAndReader) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Single));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    EXPECT_EQ(write_value(producer, 2), Status::Timeout);
    EXPECT_EQ(read_value(consumer), 1u);
    EXPECT_EQ(write_value(producer, 2), Status::Ok);
    EXPECT_EQ(read_value(consumer), 2u);
}

TEST_F(ProducerConsumer_test, SingleReaderQueueKeepsDataUntilAReaderComes) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Double));
    ASSERT_EQ(write_value(producer, 7), Status::Ok);
    ASSERT_EQ(write_value(producer, 8), Status::Ok);
    EXPECT_EQ(write_value(producer, 9), Status::Timeout);
    Consumer consumer = make_consumer();
    EXPECT_EQ(read_value(consumer), 7u);
    EXPECT_EQ(read_value(consumer), 8u);
}

TEST_F(ProducerConsumer_test, SecondSingleReaderIsRefusedWhileTheFirstIsAttached) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer first = make_consumer();
    const auto second = Consumer::attach(channel(), {.name = "second"});
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, ErrorCode::AlreadyExists);
    EXPECT_NE(second.error().message.find("single-reader"), std::string::npos) << second.error().message;
}

TEST_F(ProducerConsumer_test, NextSingleReaderResumesWhereThePreviousStopped) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    for (std::uint64_t value = 0; value < 3; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    {
        Consumer first = make_consumer();
        EXPECT_EQ(read_value(first), 0u);
    }
    Consumer second = make_consumer();
    EXPECT_EQ(read_value(second), 1u);
}

TEST_F(ProducerConsumer_test, EveryReaderDeliversEachSlotToEachConsumer) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    Consumer first = make_consumer("first");
    Consumer second = make_consumer("second");
    for (std::uint64_t value = 0; value < 3; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    for (std::uint64_t value = 0; value < 3; ++value) {
        EXPECT_EQ(read_value(first), value);
        EXPECT_EQ(read_value(second), value);
    }
}

TEST_F(ProducerConsumer_test, EveryReaderProducerIsPacedByTheSlowestConsumer) {
    constexpr std::uint32_t SLOTS = 2;
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Double, SLOTS));
    Consumer fast = make_consumer("fast");
    Consumer slow = make_consumer("slow");
    ASSERT_EQ(write_value(producer, 0), Status::Ok);
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    EXPECT_EQ(read_value(fast), 0u);
    EXPECT_EQ(read_value(fast), 1u);
    EXPECT_EQ(write_value(producer, 2), Status::Timeout);  // slow still holds slot 0 unread
    EXPECT_EQ(read_value(slow), 0u);
    EXPECT_EQ(write_value(producer, 2), Status::Ok);
}

TEST_F(ProducerConsumer_test, EveryReaderWithoutConsumersNeverBlocks) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Double));
    for (std::uint64_t value = 0; value < 10; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
}

TEST_F(ProducerConsumer_test, EveryReaderConsumerJoinsAtTheNewestSlot) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    for (std::uint64_t value = 0; value < 100; ++value)
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    Consumer late = make_consumer("late");
    EXPECT_EQ(read_value(late), std::nullopt);
    ASSERT_EQ(write_value(producer, 100), Status::Ok);
    EXPECT_EQ(read_value(late), 100u);
}

TEST_F(ProducerConsumer_test, ConsumerLeavingReleasesTheProducer) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader, RingPolicy::Single));
    {
        Consumer consumer = make_consumer();
        ASSERT_EQ(write_value(producer, 0), Status::Ok);
        EXPECT_EQ(write_value(producer, 1), Status::Timeout);
    }
    EXPECT_EQ(write_value(producer, 1), Status::Ok);
}

TEST_F(ProducerConsumer_test, AbortedSlotIsNeverDelivered) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    for (int attempt = 0; attempt < 10; ++attempt) {
        WriteSlot slot = producer.acquire_write();
        ASSERT_TRUE(slot);
        slot.abort();
    }
    {
        WriteSlot dropped = producer.acquire_write();  // goes out of scope uncommitted: aborted
        ASSERT_TRUE(dropped);
    }
    EXPECT_EQ(read_value(consumer), std::nullopt);
    EXPECT_EQ(producer.view().header().counters.aborts.load(), 11u);
    ASSERT_EQ(write_value(producer, 42), Status::Ok);
    EXPECT_EQ(read_value(consumer), 42u);
}

TEST_F(ProducerConsumer_test, CommitLargerThanTheSlotIsRefusedAndTheSlotStaysHeld) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    WriteSlot slot = producer.acquire_write();
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot.commit(65), Status::TooLarge);
    EXPECT_EQ(slot.commit(64), Status::Ok);
}

TEST_F(ProducerConsumer_test, OnlyOneSlotMayBeOutstanding) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    WriteSlot first = producer.acquire_write();
    ASSERT_TRUE(first);
    EXPECT_EQ(producer.acquire_write().status(), Status::Invalid);
    ASSERT_EQ(first.commit(8), Status::Ok);
    ReadSlot held = consumer.acquire_read(waiting(NO_WAIT));
    ASSERT_TRUE(held);
    EXPECT_EQ(consumer.acquire_read(waiting(NO_WAIT)).status(), Status::Invalid);
}

TEST_F(ProducerConsumer_test, ReadOnAnEmptyChannelTimesOutAndIsCounted) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    Status status = Status::Ok;
    EXPECT_EQ(read_value(consumer, SHORT_WAIT, &status), std::nullopt);
    EXPECT_EQ(status, Status::Timeout);
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).read_timeouts.load(), 1u);
}

TEST_F(ProducerConsumer_test, SleepingReaderIsWokenByACommit) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    std::thread writer([&] {
        // Let the reader go to sleep on the futex first; the test passes either way, but this is the
        // path it exists to cover.
        testing::wait_until([&] { return producer.view().header().readers_waiting.load() > 0; },
                            std::chrono::seconds(5));
        EXPECT_EQ(write_value(producer, 5), Status::Ok);
    });
    Status status = Status::Timeout;
    EXPECT_EQ(read_value(consumer, LONG_WAIT, &status), 5u);
    EXPECT_EQ(status, Status::Ok);
    writer.join();
}

TEST_F(ProducerConsumer_test, SleepingWriterIsWokenByARelease) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader, RingPolicy::Single));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    std::thread reader([&] {
        testing::wait_until([&] { return producer.view().header().writer_waiting.load() > 0; },
                            std::chrono::seconds(5));
        EXPECT_EQ(read_value(consumer), 1u);
    });
    EXPECT_EQ(write_value(producer, 2, LONG_WAIT), Status::Ok);
    reader.join();
}

TEST_F(ProducerConsumer_test, ClosedChannelIsDrainedThenReportsClosed) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    producer.close();
    EXPECT_EQ(read_value(consumer), 1u);
    Status status = Status::Ok;
    EXPECT_EQ(read_value(consumer, LONG_WAIT, &status), std::nullopt);
    EXPECT_EQ(status, Status::Closed);
}

TEST_F(ProducerConsumer_test, CloseRemovesTheNameButNotTheConsumersMapping) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    producer.close();
    EXPECT_EQ(Consumer::attach(channel()).error().code, ErrorCode::NotFound);
    EXPECT_EQ(read_value(consumer), 1u);
}

TEST_F(ProducerConsumer_test, SecondLiveProducerIsRefusedNamingThePid) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    const auto second = Producer::create(config(SyncPolicy::SingleReader));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, ErrorCode::AlreadyExists);
    EXPECT_NE(second.error().message.find(std::to_string(::getpid())), std::string::npos) << second.error().message;
}

TEST_F(ProducerConsumer_test, ProducerThatLostItsLeaseGetsNotOwner) {
    Producer producer = make_producer(config(SyncPolicy::SingleReader));
    producer.view().header().writer_lease.store(12345);  // what a takeover by another process looks like
    EXPECT_EQ(producer.acquire_write().status(), Status::NotOwner);
    producer.view().header().writer_lease.store(0);
}

TEST_F(ProducerConsumer_test, AttachToAMissingChannelSaysHowToFindOne) {
    const auto attached = Consumer::attach(channel());
    ASSERT_FALSE(attached.ok());
    EXPECT_EQ(attached.error().code, ErrorCode::NotFound);
    EXPECT_NE(attached.error().message.find(channel()), std::string::npos);
    EXPECT_NE(attached.error().message.find("dhub-shm list"), std::string::npos);
}

TEST_F(ProducerConsumer_test, AttachWithWrongExpectationsNamesTheField) {
    ChannelConfig channel_config = config(SyncPolicy::EveryReader, RingPolicy::Ring, 4, 256);
    channel_config.schema_hash[0] = 0xAB;
    Producer producer = make_producer(channel_config);
    struct Case {
        ChannelExpectation expect;
        const char* field;
        const char* expected_value;
        const char* found_value;
    };
    SchemaHash other_schema{};
    other_schema[0] = 0xCD;
    const Case cases[] = {
        {{.slot_bytes = 128}, "slot_payload_bytes", "expected 128", "found 256"},
        {{.slot_count = 8}, "slot_count", "expected 8", "found 4"},
        {{.sync = SyncPolicy::LatestOnly}, "sync_policy", "expected latest_only", "found every_reader"},
        {{.schema_hash = other_schema}, "schema_hash", "expected cd00", "found ab00"},
    };
    for (const Case& each : cases) {
        const auto attached = Consumer::attach(channel(), {.name = "picky", .expect = each.expect});
        ASSERT_FALSE(attached.ok()) << each.field;
        EXPECT_EQ(attached.error().code, ErrorCode::Incompatible);
        const std::string& message = attached.error().message;
        EXPECT_NE(message.find(each.field), std::string::npos) << message;
        EXPECT_NE(message.find(each.expected_value), std::string::npos) << message;
        EXPECT_NE(message.find(each.found_value), std::string::npos) << message;
    }
}

TEST_F(ProducerConsumer_test, AChannelWithAnAttachSecretAdmitsOnlyConsumersThatPresentIt) {
    ChannelConfig channel_config = config(SyncPolicy::EveryReader);
    channel_config.attach_secret = std::string(64, 'a');
    Producer producer = make_producer(channel_config);
    // The segment holds a hash of the secret, never the secret.
    const auto& header = producer.view().header();
    const std::string stored(reinterpret_cast<const char*>(header.attach_tag), sizeof header.attach_tag);
    EXPECT_EQ(stored.find("aaaa"), std::string::npos);

    const auto without = Consumer::attach(channel(), {.name = "no-secret"});
    ASSERT_FALSE(without.ok());
    EXPECT_EQ(without.error().code, ErrorCode::PermissionDenied);
    EXPECT_NE(without.error().message.find("requires an attach secret"), std::string::npos) << without.error().message;

    ConsumerOptions wrong{.name = "wrong-secret"};
    wrong.attach_secret = std::string(63, 'a') + "b";
    const auto refused = Consumer::attach(channel(), wrong);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::PermissionDenied);
    EXPECT_NE(refused.error().message.find("wrong attach secret"), std::string::npos) << refused.error().message;

    ConsumerOptions right{.name = "right-secret"};
    right.attach_secret = channel_config.attach_secret;
    auto admitted = Consumer::attach(channel(), right);
    ASSERT_TRUE(admitted.ok()) << admitted.error().message;
    ASSERT_EQ(write_value(producer, 7), Status::Ok);
    EXPECT_EQ(read_value(admitted.value()), 7u);
}

TEST_F(ProducerConsumer_test, AChannelWithoutASecretIgnoresOnePresented) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    ConsumerOptions options{.name = "spare-secret"};
    options.attach_secret = std::string(64, 'f');
    EXPECT_TRUE(Consumer::attach(channel(), options).ok());
}

TEST_F(ProducerConsumer_test, InspectShowsTheProducerTheSeatsAndTheCounters) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    Consumer consumer = make_consumer("inspector-test");
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    ASSERT_EQ(read_value(consumer), 1u);

    const auto info = inspect_channel(channel());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->producer_pid, static_cast<std::uint32_t>(::getpid()));
    EXPECT_TRUE(info->producer_alive);
    EXPECT_EQ(info->write_seq, 1u);
    EXPECT_EQ(info->mode, 0600u);
    ASSERT_EQ(info->consumers.size(), 1u);
    EXPECT_EQ(info->consumers[0].name, "inspector-test");
    EXPECT_EQ(info->consumers[0].cursor, 1u);
    EXPECT_EQ(info->consumers[0].reads, 1u);
    EXPECT_EQ(info->counters.at("bytes_committed"), 8u);
    EXPECT_EQ(info->counters.at("upstream_lost"), 0u);
}

TEST_F(ProducerConsumer_test, SlotsLostUpstreamAreCountedInTheHeaderForInspect) {
    // A transport's receiver is the producer here: it counts the far sequence numbers that never arrived.
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    producer.count_upstream_loss(3);
    producer.count_upstream_loss(0);
    producer.count_upstream_loss(4);
    const auto info = inspect_channel(channel());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->counters.at("upstream_lost"), 7u);
    EXPECT_EQ(info->write_seq, 0u);  // counted, never published
}

}  // namespace
}  // namespace dhub::shm
