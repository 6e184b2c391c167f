// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <array>

#include <thread>

#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

struct Calibration {
    double gain;
    double offset;
    std::uint32_t run_id;
};

class FlexZone_test : public DataBlockFixture {
protected:
    ChannelConfig with_flex(std::size_t bytes) {
        ChannelConfig channel = config(SyncPolicy::EveryReader);
        channel.flex_zone_bytes = bytes;
        return channel;
    }
};

TEST_F(FlexZone_test, SizeIsRoundedUpToACacheLine) {
    Producer producer = make_producer(with_flex(100));
    EXPECT_EQ(producer.flex_zone().capacity(), 128u);
}

TEST_F(FlexZone_test, ConsumerReadsWhatTheProducerWrote) {
    Producer producer = make_producer(with_flex(sizeof(Calibration)));
    Consumer consumer = make_consumer();
    ASSERT_EQ(producer.flex_zone().write_value(Calibration{2.5, -1.0, 42}), Status::Ok);
    Calibration read{};
    ASSERT_EQ(consumer.flex_zone().read_value(read), Status::Ok);
    EXPECT_EQ(read.gain, 2.5);
    EXPECT_EQ(read.offset, -1.0);
    EXPECT_EQ(read.run_id, 42u);
}

TEST_F(FlexZone_test, VersionCountsWrites) {
    Producer producer = make_producer(with_flex(64));
    EXPECT_EQ(producer.flex_zone().version(), 0u);
    ASSERT_EQ(producer.flex_zone().write_value(1), Status::Ok);
    ASSERT_EQ(producer.flex_zone().write_value(2), Status::Ok);
    EXPECT_EQ(producer.flex_zone().version(), 2u);
}

TEST_F(FlexZone_test, ReadReportsHowManyBytesTheWriterWrote) {
    Producer producer = make_producer(with_flex(64));
    Consumer consumer = make_consumer();
    const std::array<std::byte, 3> small{std::byte{1}, std::byte{2}, std::byte{3}};
    ASSERT_EQ(producer.flex_zone().write(small), Status::Ok);
    std::array<std::byte, 64> out{};
    std::size_t used = 0;
    ASSERT_EQ(consumer.flex_zone().read(out, used), Status::Ok);
    EXPECT_EQ(used, 3u);
    EXPECT_EQ(out[2], std::byte{3});
}

TEST_F(FlexZone_test, OversizedWriteIsRefused) {
    Producer producer = make_producer(with_flex(64));
    const std::array<std::byte, 65> big{};
    EXPECT_EQ(producer.flex_zone().write(big), Status::TooLarge);
}

TEST_F(FlexZone_test, ConsumersMayWriteToo) {
    Producer producer = make_producer(with_flex(64));
    Consumer consumer = make_consumer();
    ASSERT_EQ(consumer.flex_zone().write_value(std::uint64_t{9}), Status::Ok);
    std::uint64_t read = 0;
    ASSERT_EQ(producer.flex_zone().read_value(read), Status::Ok);
    EXPECT_EQ(read, 9u);
}

TEST_F(FlexZone_test, ZoneHeldByAWriterTimesOutReadersAndWriters) {
    Producer producer = make_producer(with_flex(64));
    Consumer consumer = make_consumer();
    producer.view().header().flex_seq.store(1);  // a writer holds the zone (e.g. died holding it)
    std::uint64_t value = 0;
    EXPECT_EQ(consumer.flex_zone().read_value(value, waiting(SHORT_WAIT)), Status::Timeout);
    EXPECT_EQ(consumer.flex_zone().write_value(value, waiting(SHORT_WAIT)), Status::Timeout);
}

TEST_F(FlexZone_test, ZoneAbandonedByADeadWriterIsReleasedEmptyAndALiveWritersIsNot) {
    Producer producer = make_producer(with_flex(64));
    Consumer consumer = make_consumer();
    ASSERT_EQ(producer.flex_zone().write_value(std::uint64_t{5}), Status::Ok);  // flex_seq 2
    EXPECT_FALSE(producer.flex_zone().release_abandoned(SHORT_WAIT));           // not held: nothing to do

    auto& flex_seq = producer.view().header().flex_seq;
    flex_seq.store(3);  // held, and nobody will ever finish: its writer died
    EXPECT_TRUE(producer.flex_zone().release_abandoned(SHORT_WAIT));
    EXPECT_EQ(flex_seq.load(), 4u);
    std::uint64_t value = 0;
    std::size_t used = 99;
    ASSERT_EQ(consumer.flex_zone().read(std::as_writable_bytes(std::span(&value, 1)), used), Status::Ok);
    EXPECT_EQ(used, 0u);  // released empty: what it held may be half-written
    EXPECT_EQ(consumer.flex_zone().write_value(std::uint64_t{6}), Status::Ok);

    // A writer that moves on while it is watched is alive: left alone.
    flex_seq.store(7);
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        flex_seq.store(8);
    });
    EXPECT_FALSE(producer.flex_zone().release_abandoned(std::chrono::seconds(2)));
    writer.join();
    EXPECT_EQ(flex_seq.load(), 8u);
}

}  // namespace
}  // namespace dhub::shm
