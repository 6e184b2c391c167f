// SPDX-License-Identifier: Apache-2.0
// Delivery chosen per consumer, between separate processes: on a lossless channel a recorder process gets every
// slot, exactly once and in order, while a viewer process reading latest-only (ConsumerOptions::delivery)
// sleeps 100 ms on each slot it holds: the viewer never holds the producer back and every slot it accepts is
// whole. The control case shows what the same slow reader does to the producer when it reads losslessly.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "multiprocess_support.hpp"
#include "support/test_channel.hpp"

namespace dhub::testing {
namespace {

using shm::SyncPolicy;

constexpr std::uint64_t SLOTS_PER_RUN = 4000;
constexpr std::uint64_t MIN_SLOTS_PER_RUN = 400;
constexpr std::size_t SLOT_BYTES = 4096;
constexpr std::uint32_t RING_SLOTS = 8;
constexpr int VIEWER_SLEEP_MS = 100;
/// Far more than a lossless reader that keeps up ever makes the producer wait, far less than a stalled one.
constexpr int PRODUCER_WRITE_TIMEOUT_MS = 3000;

shm::ChannelConfig lossless_channel(const std::string& name, SyncPolicy sync) {
    return {.name = name, .slot_bytes = SLOT_BYTES, .slot_count = RING_SLOTS, .sync = sync, .max_consumers = 4};
}

ChildProcess spawn_producer(const shm::ChannelConfig& config, std::uint64_t count, std::uint32_t consumers) {
    return spawn_peer(
        "produce",
        concat(channel_arguments(config),
               {"--count", std::to_string(count), "--sizes", sizes_argument(PayloadSizes::Full), "--wait-consumers",
                std::to_string(consumers), "--write-timeout-ms", std::to_string(PRODUCER_WRITE_TIMEOUT_MS)}));
}

ChildProcess spawn_recorder(const std::string& channel, std::uint64_t count) {
    return spawn_peer("consume", {"--channel", channel, "--count", std::to_string(count), "--sizes",
                                  sizes_argument(PayloadSizes::Full)});
}

class LatestReaderBesideALosslessOne : public ::testing::TestWithParam<SyncPolicy> {};

TEST_P(LatestReaderBesideALosslessOne, TheRecorderGetsEverySlotWhileTheViewerSleepsOnEachItReads) {
    // Arrange
    const ChannelCleanup channel(unique_channel_name("latestviewer"));
    const std::uint64_t count = scaled(SLOTS_PER_RUN, MIN_SLOTS_PER_RUN);
    ChildProcess producer = spawn_producer(lossless_channel(channel.name(), GetParam()), count, 2);

    // Act
    ChildProcess recorder = spawn_recorder(channel.name(), count);
    ChildProcess viewer = spawn_peer(
        "consume", {"--channel", channel.name(), "--count", "0", "--sizes", sizes_argument(PayloadSizes::Full),
                    "--latest", "--sleep-ms", std::to_string(VIEWER_SLEEP_MS)});

    // Assert: the recorder saw count slots, each once, in order, every byte checked; the viewer's accepted slots
    // were whole (checked after its sleep), in increasing order, and ended with the last one written; the
    // producer never waited the write timeout out.
    EXPECT_TRUE(exited_with(recorder.wait(PEER_DEADLINE), PeerExit::Ok)) << "recorder";
    EXPECT_TRUE(exited_with(viewer.wait(PEER_DEADLINE), PeerExit::Ok)) << "viewer";
    EXPECT_TRUE(exited_with(producer.wait(PEER_DEADLINE), PeerExit::Ok)) << "producer";
}

TEST_P(LatestReaderBesideALosslessOne, AViewerHoldingItsSlotForeverDoesNotStopTheProducer) {
    // Arrange: the viewer takes the first slot and never gives it back.
    const ChannelCleanup channel(unique_channel_name("latesthold"));
    const std::uint64_t count = scaled(SLOTS_PER_RUN, MIN_SLOTS_PER_RUN);
    ChildProcess producer = spawn_producer(lossless_channel(channel.name(), GetParam()), count, 2);
    ReadySignal holding;
    ChildProcess viewer = spawn_peer("hold-read", {"--channel", channel.name(), "--latest"}, holding);

    // Act
    ChildProcess recorder = spawn_recorder(channel.name(), count);
    ASSERT_TRUE(holding.wait(READY_TIMEOUT)) << "the viewer never got a slot";

    // Assert: hundreds of rings past the held slot.
    EXPECT_TRUE(exited_with(recorder.wait(PEER_DEADLINE), PeerExit::Ok)) << "recorder";
    EXPECT_TRUE(exited_with(producer.wait(PEER_DEADLINE), PeerExit::Ok)) << "producer";
    viewer.kill();
}

INSTANTIATE_TEST_SUITE_P(EveryReaderAndSingleReader,
                         LatestReaderBesideALosslessOne,
                         ::testing::Values(SyncPolicy::EveryReader, SyncPolicy::SingleReader),
                         [](const auto& param_info) { return std::string(shm::to_string(param_info.param)); });

// The control: the same held slot on a lossless seat of an every_reader channel stops the producer, which
// gives up after its write timeout. Without this the case above could pass for a reason that is not delivery.
TEST(LatestReaderControl, ALosslessReaderHoldingItsSlotStopsTheProducer) {
    const ChannelCleanup channel(unique_channel_name("losslesshold"));
    const std::uint64_t count = scaled(SLOTS_PER_RUN, MIN_SLOTS_PER_RUN);
    ChildProcess producer = spawn_producer(lossless_channel(channel.name(), SyncPolicy::EveryReader), count, 1);
    ReadySignal holding;
    ChildProcess reader = spawn_peer("hold-read", {"--channel", channel.name()}, holding);
    ASSERT_TRUE(holding.wait(READY_TIMEOUT)) << "the reader never got a slot";

    EXPECT_TRUE(exited_with(producer.wait(PEER_DEADLINE), PeerExit::AcquireWriteFailed)) << "producer";
    reader.kill();
}

}  // namespace
}  // namespace dhub::testing
