// SPDX-License-Identifier: Apache-2.0
// Blocking calls and ownership across processes: acquire_read / acquire_write time out (and count it)
// when the other side is alive but idle or stalled, a zero timeout never blocks, consumers see Closed once
// a producer process closed and exited, and a live producer process keeps its channel from a second one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "dhub/shm/consumer.hpp"
#include "dhub/shm/inspect.hpp"
#include "dhub/shm/producer.hpp"
#include "multiprocess_support.hpp"
#include "support/test_channel.hpp"

namespace dhub::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using shm::SyncPolicy;

constexpr std::size_t SLOT_BYTES = 512;
constexpr std::uint32_t RING_SLOTS = 8;
constexpr shm::WaitOptions SHORT_WAIT{.timeout = 20ms, .spin = 0ns};
constexpr shm::WaitOptions NO_WAIT{.timeout = 0ns, .spin = 0ns};
constexpr shm::WaitOptions CLOSE_WAIT{.timeout = 10s, .spin = 0ns};
/// Upper bounds for "returned in time": loose, because sanitizer builds are slow and CI machines busy.
constexpr auto TIMEOUT_SLACK = 2s;
constexpr auto IMMEDIATE_BOUND = 200ms;
constexpr std::uint64_t SLOTS_BEFORE_CLOSE = 3;

shm::ChannelConfig config_for(const std::string& name, SyncPolicy sync, shm::RingPolicy ring = shm::RingPolicy::Ring) {
    return {.name = name, .slot_bytes = SLOT_BYTES, .ring = ring, .slot_count = RING_SLOTS, .sync = sync};
}

/// Runs call and returns how long it took.
template <typename Call>
Clock::duration timed(Call&& call) {
    const auto start = Clock::now();
    call();
    return Clock::now() - start;
}

/// A hold-lease peer: a live producer process that never writes.
ChildProcess start_idle_producer(const shm::ChannelConfig& config) {
    ReadySignal ready;
    ChildProcess producer = spawn_peer("hold-lease", channel_arguments(config), ready);
    EXPECT_TRUE(ready.wait(READY_TIMEOUT)) << "hold-lease peer never created the channel";
    return producer;
}

std::uint64_t read_timeouts_of_seat(const std::string& channel, std::uint32_t seat) {
    const auto info = shm::inspect_channel(channel);
    EXPECT_TRUE(info.ok()) << info.error().message;
    if (!info.ok()) return 0;
    for (const shm::ConsumerInfo& consumer : info->consumers) {
        if (consumer.seat == seat) return consumer.read_timeouts;
    }
    ADD_FAILURE() << "seat " << seat << " is not occupied";
    return 0;
}

// ---- consumer timeouts ------------------------------------------------------------------------------------

TEST(ReadTimeout, AcquireReadOnAnEmptyChannelTimesOutAndCountsIt) {
    // Arrange
    const ChannelCleanup channel(unique_channel_name("readtimeout"));
    ChildProcess producer = start_idle_producer(config_for(channel.name(), SyncPolicy::EveryReader));
    auto consumer = shm::Consumer::attach(channel.name());
    ASSERT_TRUE(consumer.ok()) << consumer.error().message;

    // Act
    shm::Status status = shm::Status::Ok;
    const auto waited = timed([&] { status = consumer->acquire_read(SHORT_WAIT).status(); });

    // Assert
    EXPECT_EQ(status, shm::Status::Timeout);
    EXPECT_GE(waited, SHORT_WAIT.timeout);
    EXPECT_LT(waited, SHORT_WAIT.timeout + TIMEOUT_SLACK);
    EXPECT_EQ(read_timeouts_of_seat(channel.name(), consumer->seat()), 1u);
}

TEST(ReadTimeout, AcquireReadWithZeroTimeoutReturnsAtOnce) {
    // Arrange
    const ChannelCleanup channel(unique_channel_name("readnowait"));
    ChildProcess producer = start_idle_producer(config_for(channel.name(), SyncPolicy::SingleReader));
    auto consumer = shm::Consumer::attach(channel.name());
    ASSERT_TRUE(consumer.ok()) << consumer.error().message;

    // Act
    shm::Status status = shm::Status::Ok;
    const auto waited = timed([&] { status = consumer->acquire_read(NO_WAIT).status(); });

    // Assert
    EXPECT_EQ(status, shm::Status::Timeout);
    EXPECT_LT(waited, IMMEDIATE_BOUND);
    EXPECT_EQ(read_timeouts_of_seat(channel.name(), consumer->seat()), 1u);
}

TEST(ReadTimeout, ConsumerGetsClosedAfterTheProducerProcessClosedAndExited) {
    // Arrange: the producer process writes a few slots, closes the channel and exits.
    const ChannelCleanup channel(unique_channel_name("closed"));
    const shm::ChannelConfig config = config_for(channel.name(), SyncPolicy::SingleReader);
    ChildProcess producer = spawn_peer(
        "produce",
        concat(channel_arguments(config), {"--count", std::to_string(SLOTS_BEFORE_CLOSE), "--wait-consumers", "1"}));
    auto consumer = attach_when_created(channel.name());
    ASSERT_TRUE(consumer.ok()) << consumer.error().message;
    ASSERT_TRUE(exited_with(producer.wait(PEER_DEADLINE), PeerExit::Ok));

    // Act
    Received received;
    const auto waited = timed([&] { received = read_until_quiet(*consumer, PayloadSizes::Full, CLOSE_WAIT); });

    // Assert: everything written is delivered first, then Closed, long before the wait's timeout.
    EXPECT_EQ(received.sequences, consecutive(0, SLOTS_BEFORE_CLOSE));
    EXPECT_TRUE(received.corrupt.empty());
    EXPECT_EQ(received.final_status, shm::Status::Closed);
    EXPECT_LT(waited, TIMEOUT_SLACK);
    EXPECT_FALSE(consumer->producer_alive());
}

// ---- producer timeouts ------------------------------------------------------------------------------------

/// A producer in this process on a full single-reader ring whose reader (another process) is alive but
/// stalled holding the oldest slot.
class StalledReader : public ::testing::Test {
protected:
    void SetUp() override {
        auto created = shm::Producer::create(config);
        ASSERT_TRUE(created.ok()) << created.error().message;
        producer.emplace(std::move(created.value()));
        for (std::uint32_t index = 0; index < RING_SLOTS; ++index) {
            shm::WriteSlot slot = producer->acquire_write(NO_WAIT);
            ASSERT_TRUE(slot) << shm::to_string(slot.status());
            fill_pattern(slot.sequence(), slot.payload());
            ASSERT_EQ(slot.commit(SLOT_BYTES), shm::Status::Ok);
        }
        ReadySignal holding;
        reader = spawn_peer("hold-read", {"--channel", channel.name()}, holding);
        ASSERT_TRUE(holding.wait(READY_TIMEOUT)) << "hold-read peer never held its slot";
    }

    shm::ChannelInfo inspect() const {
        auto info = shm::inspect_channel(channel.name());
        EXPECT_TRUE(info.ok()) << info.error().message;
        return info.ok() ? info.value() : shm::ChannelInfo{};
    }

    const ChannelCleanup channel{unique_channel_name("stalled")};
    const shm::ChannelConfig config = config_for(channel.name(), SyncPolicy::SingleReader);
    std::optional<shm::Producer> producer;
    std::optional<ChildProcess> reader;
};

TEST_F(StalledReader, AcquireWriteOnTheFullRingTimesOutAndCountsIt) {
    // Act
    shm::Status status = shm::Status::Ok;
    const auto waited = timed([&] { status = producer->acquire_write(SHORT_WAIT).status(); });
    const shm::ChannelInfo info = inspect();

    // Assert: a timeout, not an eviction: the reader is alive.
    EXPECT_EQ(status, shm::Status::Timeout);
    EXPECT_GE(waited, SHORT_WAIT.timeout);
    EXPECT_LT(waited, SHORT_WAIT.timeout + TIMEOUT_SLACK);
    EXPECT_EQ(info.counters.at("write_timeouts"), 1u);
    EXPECT_EQ(info.counters.at("consumers_evicted"), 0u);
    ASSERT_EQ(info.consumers.size(), 1u);
    EXPECT_TRUE(info.consumers.front().alive);
}

TEST_F(StalledReader, AcquireWriteWithZeroTimeoutReturnsAtOnce) {
    // Act
    shm::Status status = shm::Status::Ok;
    const auto waited = timed([&] { status = producer->acquire_write(NO_WAIT).status(); });

    // Assert
    EXPECT_EQ(status, shm::Status::Timeout);
    EXPECT_LT(waited, IMMEDIATE_BOUND);
    EXPECT_EQ(inspect().counters.at("write_timeouts"), 1u);
}

// ---- one producer per channel -----------------------------------------------------------------------------

TEST(ProducerLease, LiveProducerProcessBlocksASecondProducerNamingItsPid) {
    // Arrange
    const ChannelCleanup channel(unique_channel_name("lease"));
    const shm::ChannelConfig config = config_for(channel.name(), SyncPolicy::EveryReader);
    ChildProcess owner = start_idle_producer(config);

    // Act
    const auto second = shm::Producer::create(config);

    // Assert
    ASSERT_FALSE(second.ok()) << "a second producer was created beside a live one";
    EXPECT_EQ(second.error().code, ErrorCode::AlreadyExists);
    EXPECT_THAT(second.error().message, ::testing::HasSubstr("pid " + std::to_string(owner.pid())));
}

TEST(ProducerLease, SecondProducerProcessIsRefusedAndTheFirstKeepsWriting) {
    // Arrange
    const ChannelCleanup channel(unique_channel_name("lease2"));
    const shm::ChannelConfig config = config_for(channel.name(), SyncPolicy::EveryReader);
    auto owner = shm::Producer::create(config);
    ASSERT_TRUE(owner.ok()) << owner.error().message;

    // Act
    ChildProcess second = spawn_peer("produce", concat(channel_arguments(config), {"--count", "1"}));
    const ExitStatus second_exit = second.wait(PEER_DEADLINE);
    shm::WriteSlot slot = owner->acquire_write(NO_WAIT);

    // Assert
    EXPECT_TRUE(exited_with(second_exit, PeerExit::CreateRefusedAlreadyExists));
    EXPECT_TRUE(slot) << shm::to_string(slot.status());
}

}  // namespace
}  // namespace dhub::testing
