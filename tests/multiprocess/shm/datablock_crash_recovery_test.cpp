// SPDX-License-Identifier: Apache-2.0
// Processes that die holding a slot. A producer SIGKILLed mid-write leaves a busy slot that no consumer
// may ever see, and a new producer process takes the channel over where the dead one stopped. A consumer
// SIGKILLed mid-read must not stall an every-reader producer for long, and on a single-reader channel the
// slot it held goes to the next reader.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "dhub/shm/inspect.hpp"
#include "dhub/shm/producer.hpp"
#include "multiprocess_support.hpp"
#include "support/test_channel.hpp"

namespace dhub::testing {
namespace {

using namespace std::chrono_literals;
using shm::SyncPolicy;

constexpr std::size_t SLOT_BYTES = 1024;
constexpr std::uint32_t RING_SLOTS = 8;
constexpr std::uint64_t COMMITTED_BEFORE_CRASH = 3;
constexpr std::uint64_t WRITTEN_AFTER_TAKEOVER = 5;
constexpr shm::WaitOptions BRIEF_WAIT{.timeout = 50ms, .spin = 0ns};
constexpr shm::WaitOptions CLOSE_WAIT{.timeout = 10s, .spin = 0ns};
constexpr auto UNBLOCK_BOUND = 2s;
/// How long a successor waits for ring space before it concludes the ring is full.
constexpr auto SUCCESSOR_WRITE_TIMEOUT = 200ms;

std::string sync_name(const ::testing::TestParamInfo<SyncPolicy>& info) {
    switch (info.param) {
        case SyncPolicy::LatestOnly:
            return "LatestOnly";
        case SyncPolicy::SingleReader:
            return "SingleReader";
        case SyncPolicy::EveryReader:
            return "EveryReader";
    }
    return "UnknownSync";
}

shm::ChannelConfig ring_config(const std::string& name, SyncPolicy sync, std::uint32_t slots = RING_SLOTS) {
    return {.name = name, .slot_bytes = SLOT_BYTES, .ring = shm::RingPolicy::Ring, .slot_count = slots, .sync = sync};
}

/// What a consumer must have received of sequences [first, first + count): all of them on a lossless
/// channel; on a latest-only one at least the last.
void expect_delivered(const Received& received, SyncPolicy sync, std::uint64_t first, std::uint64_t count) {
    EXPECT_TRUE(received.corrupt.empty()) << "first corrupt sequence " << received.corrupt.front();
    if (sync == SyncPolicy::LatestOnly) {
        ASSERT_FALSE(received.sequences.empty());
        EXPECT_EQ(received.sequences.back(), first + count - 1);
        EXPECT_TRUE(std::is_sorted(received.sequences.begin(), received.sequences.end()));
    } else {
        EXPECT_EQ(received.sequences, consecutive(first, count));
    }
}

/// A producer process killed while it holds a half-written slot.
class ProducerKilledMidWrite : public ::testing::TestWithParam<SyncPolicy> {
protected:
    /// Starts a hold-write peer that commits `committed` slots, then dies (SIGKILL) mid-write of the next;
    /// a consumer in this process is attached throughout.
    /// With burst > 1 it dies holding a burst of that many slots, each half written.
    void crash_producer_with_attached_consumer(std::uint64_t committed, std::uint64_t burst = 1) {
        ReadySignal holding;
        ChildProcess writer = spawn_peer(
            "hold-write",
            concat(channel_arguments(config),
                   {"--commits", std::to_string(committed), "--wait-consumers", "1", "--burst", std::to_string(burst)}),
            holding);
        auto attached = attach_when_created(channel.name());
        ASSERT_TRUE(attached.ok()) << attached.error().message;
        consumer.emplace(std::move(attached.value()));
        ASSERT_TRUE(holding.wait(READY_TIMEOUT)) << "hold-write peer never held its slot";
        writer.kill(SIGKILL);
        const ExitStatus ended = writer.wait(PEER_DEADLINE);
        ASSERT_TRUE(ended.signalled && ended.signal == SIGKILL) << describe(ended);
    }

    ChildProcess start_successor(std::uint64_t count, const std::vector<std::string>& extra = {}) {
        return spawn_peer("produce",
                          concat(concat(channel_arguments(config),
                                        {"--count", std::to_string(count), "--expect-takeover", "yes", "--first-seq",
                                         std::to_string(COMMITTED_BEFORE_CRASH), "--keep", "--wait-consumers", "1"}),
                                 extra));
    }

    const ChannelCleanup channel{unique_channel_name("crash")};
    const shm::ChannelConfig config = ring_config(channel.name(), GetParam());
    std::optional<shm::Consumer> consumer;
};

TEST_P(ProducerKilledMidWrite, AttachedConsumerNeverSeesTheBusySlot) {
    // Arrange
    crash_producer_with_attached_consumer(COMMITTED_BEFORE_CRASH);
    ASSERT_TRUE(consumer.has_value());

    // Act
    const Received received = read_until_quiet(*consumer, PayloadSizes::Full, BRIEF_WAIT);
    const auto info = shm::inspect_channel(channel.name());

    // Assert
    expect_delivered(received, GetParam(), 0, COMMITTED_BEFORE_CRASH);
    EXPECT_EQ(received.final_status, shm::Status::Timeout);
    EXPECT_FALSE(consumer->producer_alive());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_FALSE(info->producer_alive);
    EXPECT_EQ(info->write_seq, COMMITTED_BEFORE_CRASH);
    const shm::SlotInfo& busy = info->slots.at(COMMITTED_BEFORE_CRASH % RING_SLOTS);
    EXPECT_TRUE(busy.busy);
    EXPECT_EQ(busy.seq, COMMITTED_BEFORE_CRASH);
}

TEST_P(ProducerKilledMidWrite, NoSlotOfAnUncommittedBurstIsEverDeliveredAndASuccessorTakesOver) {
    // Arrange: the dead producer held a burst of 4 (3 on a latest-only ring of 8 never covers the newest).
    constexpr std::uint64_t BURST = 4;
    crash_producer_with_attached_consumer(COMMITTED_BEFORE_CRASH, BURST);
    ASSERT_TRUE(consumer.has_value());
    const Received before = read_until_quiet(*consumer, PayloadSizes::Full, BRIEF_WAIT);
    const auto dead = shm::inspect_channel(channel.name());

    // Act
    ChildProcess successor = start_successor(WRITTEN_AFTER_TAKEOVER, {"--burst", "3"});
    const ExitStatus successor_exit = successor.wait(PEER_DEADLINE);
    const Received after = read_until_quiet(*consumer, PayloadSizes::Full, CLOSE_WAIT);

    // Assert: nothing of the burst before the takeover; afterwards the successor's slots, intact.
    expect_delivered(before, GetParam(), 0, COMMITTED_BEFORE_CRASH);
    ASSERT_TRUE(dead.ok()) << dead.error().message;
    EXPECT_EQ(dead->write_seq, COMMITTED_BEFORE_CRASH);
    for (std::uint64_t seq = COMMITTED_BEFORE_CRASH; seq < COMMITTED_BEFORE_CRASH + BURST; ++seq) {
        EXPECT_TRUE(dead->slots.at(seq % RING_SLOTS).busy) << "slot of sequence " << seq;
    }
    EXPECT_TRUE(exited_with(successor_exit, PeerExit::Ok));
    expect_delivered(after, GetParam(), COMMITTED_BEFORE_CRASH, WRITTEN_AFTER_TAKEOVER);
    EXPECT_EQ(after.final_status, shm::Status::Closed);
}

TEST_P(ProducerKilledMidWrite, NewProducerProcessTakesOverAndTheAttachedConsumerKeepsReading) {
    // Arrange
    crash_producer_with_attached_consumer(COMMITTED_BEFORE_CRASH);
    ASSERT_TRUE(consumer.has_value());
    const Received before = read_until_quiet(*consumer, PayloadSizes::Full, BRIEF_WAIT);

    // Act: the successor checks took_over() and next_sequence() itself (--expect-takeover, --first-seq).
    ChildProcess successor = start_successor(WRITTEN_AFTER_TAKEOVER);
    const ExitStatus successor_exit = successor.wait(PEER_DEADLINE);
    const Received after = read_until_quiet(*consumer, PayloadSizes::Full, CLOSE_WAIT);
    const auto info = shm::inspect_channel(channel.name());

    // Assert
    EXPECT_TRUE(exited_with(successor_exit, PeerExit::Ok));
    expect_delivered(before, GetParam(), 0, COMMITTED_BEFORE_CRASH);
    expect_delivered(after, GetParam(), COMMITTED_BEFORE_CRASH, WRITTEN_AFTER_TAKEOVER);
    EXPECT_EQ(after.final_status, shm::Status::Closed);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->counters.at("takeovers"), 1u);
    EXPECT_EQ(info->counters.at("slots_recovered"), 1u);
    EXPECT_EQ(info->write_seq, COMMITTED_BEFORE_CRASH + WRITTEN_AFTER_TAKEOVER);
    EXPECT_TRUE(
        std::none_of(info->slots.begin(), info->slots.end(), [](const shm::SlotInfo& slot) { return slot.busy; }));
}

INSTANTIATE_TEST_SUITE_P(EachSyncPolicy,
                         ProducerKilledMidWrite,
                         ::testing::Values(SyncPolicy::LatestOnly, SyncPolicy::SingleReader, SyncPolicy::EveryReader),
                         sync_name);

/// Lossless channels only: the dead producer's committed slots are still unread when the successor starts.
class ProducerKilledBeforeConsumerRead : public ProducerKilledMidWrite {};

TEST_P(ProducerKilledBeforeConsumerRead, SuccessorDoesNotOverwriteSlotsTheConsumerHasNotRead) {
    // Arrange: COMMITTED_BEFORE_CRASH slots unread, so only RING_SLOTS - COMMITTED_BEFORE_CRASH are free.
    crash_producer_with_attached_consumer(COMMITTED_BEFORE_CRASH);
    ASSERT_TRUE(consumer.has_value());
    const std::uint64_t free_slots = RING_SLOTS - COMMITTED_BEFORE_CRASH;

    // Act: the successor tries to write a whole ring and gives up when acquire_write times out.
    ChildProcess successor = start_successor(
        RING_SLOTS, {"--write-timeout-ms", std::to_string(SUCCESSOR_WRITE_TIMEOUT.count()), "--stop-on-timeout"});
    const ExitStatus successor_exit = successor.wait(PEER_DEADLINE);
    const auto info = shm::inspect_channel(channel.name());
    const Received received = read_until_quiet(*consumer, PayloadSizes::Full, CLOSE_WAIT);

    // Assert
    EXPECT_TRUE(exited_with(successor_exit, PeerExit::Ok));
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->write_seq, COMMITTED_BEFORE_CRASH + free_slots) << "the successor overran unread slots";
    expect_delivered(received, GetParam(), 0, COMMITTED_BEFORE_CRASH + free_slots);
    EXPECT_EQ(received.final_status, shm::Status::Closed);
}

INSTANTIATE_TEST_SUITE_P(LosslessPolicies,
                         ProducerKilledBeforeConsumerRead,
                         ::testing::Values(SyncPolicy::SingleReader, SyncPolicy::EveryReader),
                         sync_name);

// ---- consumers killed mid-read ----------------------------------------------------------------------------

constexpr std::uint32_t SMALL_RING_SLOTS = 4;
constexpr std::uint64_t SLOTS_PAST_THE_DEAD_CONSUMER = 64;
constexpr std::uint32_t HOLDER_AND_LIVE_CONSUMER = 2;

/// inspect_channel, or a failure naming why it did not work.
shm::ChannelInfo inspect_or_fail(const std::string& channel) {
    auto info = shm::inspect_channel(channel);
    EXPECT_TRUE(info.ok()) << info.error().message;
    return info.ok() ? info.value() : shm::ChannelInfo{};
}

TEST(ConsumerKilledMidRead, DeadEveryReaderConsumerIsEvictedAndProducerContinues) {
    // Arrange: a producer on a 4-slot ring, a consumer that holds sequence 0 and a live consumer.
    const ChannelCleanup channel(unique_channel_name("evict"));
    const shm::ChannelConfig config = ring_config(channel.name(), SyncPolicy::EveryReader, SMALL_RING_SLOTS);
    const std::string count = std::to_string(SLOTS_PAST_THE_DEAD_CONSUMER);
    ChildProcess producer = spawn_peer(
        "produce", concat(channel_arguments(config),
                          {"--count", count, "--wait-consumers", std::to_string(HOLDER_AND_LIVE_CONSUMER), "--keep"}));
    ReadySignal holding;
    ChildProcess holder = spawn_peer("hold-read", {"--channel", channel.name()}, holding);
    ChildProcess live_consumer = spawn_peer("consume", {"--channel", channel.name(), "--count", count});
    ASSERT_TRUE(holding.wait(READY_TIMEOUT)) << "hold-read peer never held its slot";
    ASSERT_TRUE(wait_until([&] {
        const shm::ChannelInfo info = inspect_or_fail(channel.name());
        return info.write_seq == SMALL_RING_SLOTS && info.counters.at("write_waits") > 0;
    })) << "the producer never filled the ring";

    // Act
    holder.kill(SIGKILL);
    const auto killed_at = std::chrono::steady_clock::now();
    const ExitStatus holder_exit = holder.wait(PEER_DEADLINE);
    const bool unblocked = wait_until([&] { return inspect_or_fail(channel.name()).write_seq > SMALL_RING_SLOTS; },
                                      std::chrono::duration_cast<std::chrono::milliseconds>(UNBLOCK_BOUND));
    const auto unblocked_after = std::chrono::steady_clock::now() - killed_at;
    const ExitStatus producer_exit = producer.wait(PEER_DEADLINE);
    const ExitStatus live_consumer_exit = live_consumer.wait(PEER_DEADLINE);

    // Assert
    EXPECT_TRUE(holder_exit.signalled) << describe(holder_exit);
    EXPECT_TRUE(unblocked) << "producer still blocked "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(unblocked_after).count()
                           << " ms after the consumer died";
    EXPECT_TRUE(exited_with(producer_exit, PeerExit::Ok)) << "producer";
    EXPECT_TRUE(exited_with(live_consumer_exit, PeerExit::Ok)) << "live consumer";
    EXPECT_EQ(inspect_or_fail(channel.name()).counters.at("consumers_evicted"), 1u);
}

constexpr std::uint64_t SINGLE_READER_SLOTS = 6;
constexpr std::uint64_t READ_BEFORE_DEATH = 2;

TEST(ConsumerKilledMidRead, ASlotHeldByADeadLatestOnlyReaderIsFreedForTheProducer) {
    // Arrange: a single-slot latest-only channel; a holding reader holds its only slot, so the producer
    // (this process) cannot write.
    const ChannelCleanup channel(unique_channel_name("held"));
    shm::ChannelConfig config = ring_config(channel.name(), SyncPolicy::LatestOnly, 1);
    config.ring = shm::RingPolicy::Single;
    auto producer = shm::Producer::create(config);
    ASSERT_TRUE(producer) << producer.error().message;
    {
        shm::WriteSlot first = producer->acquire_write(BRIEF_WAIT);
        ASSERT_TRUE(first);
        ASSERT_EQ(first.commit(8), shm::Status::Ok);
    }
    ReadySignal holding;
    ChildProcess holder = spawn_peer("hold-read", {"--channel", channel.name(), "--hold"}, holding);
    ASSERT_TRUE(holding.wait(READY_TIMEOUT)) << "hold-read peer never held its slot";
    EXPECT_EQ(producer->acquire_write(BRIEF_WAIT).status(), shm::Status::Timeout) << "the held slot was rewritten";

    // Act
    holder.kill(SIGKILL);
    ASSERT_TRUE(holder.wait(PEER_DEADLINE).signalled);
    shm::WriteSlot next = producer->acquire_write(CLOSE_WAIT);  // evicts the dead seat while it waits

    // Assert
    ASSERT_TRUE(next) << shm::to_string(next.status());
    EXPECT_EQ(next.commit(8), shm::Status::Ok);
    EXPECT_EQ(inspect_or_fail(channel.name()).counters.at("consumers_evicted"), 1u);
    EXPECT_EQ(producer->view().header().holding_readers.load(), 0u);
}

TEST(ConsumerKilledMidRead, SlotHeldByADeadSingleReaderGoesToTheNextReader) {
    // Arrange: SINGLE_READER_SLOTS committed; a reader reads READ_BEFORE_DEATH, holds the next and dies.
    const ChannelCleanup channel(unique_channel_name("resume"));
    const shm::ChannelConfig config = ring_config(channel.name(), SyncPolicy::SingleReader);
    ChildProcess producer = spawn_peer(
        "produce", concat(channel_arguments(config), {"--count", std::to_string(SINGLE_READER_SLOTS), "--keep"}));
    ASSERT_TRUE(exited_with(producer.wait(PEER_DEADLINE), PeerExit::Ok));
    ReadySignal holding;
    ChildProcess holder =
        spawn_peer("hold-read", {"--channel", channel.name(), "--skip", std::to_string(READ_BEFORE_DEATH)}, holding);
    ASSERT_TRUE(holding.wait(READY_TIMEOUT)) << "hold-read peer never held its slot";
    const shm::ChannelInfo held = inspect_or_fail(channel.name());
    holder.kill(SIGKILL);
    ASSERT_TRUE(holder.wait(PEER_DEADLINE).signalled);

    // Act: the next reader must start at the held sequence and get the rest, in order, then Closed.
    ChildProcess next_reader =
        spawn_peer("consume", {"--channel", channel.name(), "--first-seq", std::to_string(READ_BEFORE_DEATH), "--count",
                               std::to_string(SINGLE_READER_SLOTS - READ_BEFORE_DEATH)});
    const ExitStatus next_reader_exit = next_reader.wait(PEER_DEADLINE);

    // Assert
    ASSERT_EQ(held.consumers.size(), 1u);
    EXPECT_EQ(held.consumers.front().cursor, READ_BEFORE_DEATH) << "the held slot was released early";
    EXPECT_TRUE(exited_with(next_reader_exit, PeerExit::Ok));
}

}  // namespace
}  // namespace dhub::testing
