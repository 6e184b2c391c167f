// SPDX-License-Identifier: Apache-2.0
// Many cycles of full-speed traffic between separate processes, every byte of every slot checked by the
// consumer processes (dhub-shm-test-peer). Sizes shrink with DHUB_TEST_SCALE (e.g. 0.1 under sanitizers).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "multiprocess_support.hpp"
#include "support/test_channel.hpp"

namespace dhub::testing {
namespace {

using shm::ChecksumPolicy;
using shm::RingPolicy;
using shm::SyncPolicy;

constexpr std::uint64_t EVERY_READER_CYCLES = 20;
constexpr std::uint64_t EVERY_READER_SLOTS_PER_CYCLE = 20'000;
constexpr std::uint32_t EVERY_READER_CONSUMERS = 3;
constexpr std::size_t STRESS_SLOT_BYTES = 4096;
constexpr std::uint32_t STRESS_RING_SLOTS = 8;

constexpr std::uint64_t LATEST_ONLY_CYCLES = 10;
constexpr std::uint64_t LATEST_ONLY_SLOTS_PER_CYCLE = 20'000;
/// A fast writer (200 000 slots/s), but not one that never pauses: that would keep the single slot busy
/// nearly all the time, and how often a reader then gets a consistent read depends only on scheduling.
constexpr std::chrono::nanoseconds LATEST_ONLY_WRITE_PERIOD{5'000};
/// The producer keeps writing until the reader has accepted this many slots while racing it.
constexpr std::uint64_t LATEST_ONLY_MIN_READS = 500;

constexpr std::uint64_t MIN_CYCLES = 2;
constexpr std::uint64_t MIN_SLOTS = 500;
constexpr std::uint64_t MIN_READS = 50;

struct CycleResult {
    ExitStatus producer;
    std::vector<ExitStatus> consumers;
};

/// One cycle's workload.
struct Cycle {
    std::uint64_t slots = 0;
    std::uint32_t consumers = 1;
    std::uint64_t min_reads = 0;       ///< the producer writes on until the consumers accepted this many
    std::chrono::nanoseconds pace{0};  ///< time between writes, 0 = full speed
};

/// One producer process and cycle.consumers consumer processes on a fresh channel, until all have exited.
CycleResult run_cycle(const shm::ChannelConfig& config, const Cycle& cycle) {
    const std::string sizes = sizes_argument(PayloadSizes::Random);
    ChildProcess producer = spawn_peer(
        "produce", concat(channel_arguments(config),
                          {"--count", std::to_string(cycle.slots), "--sizes", sizes, "--wait-consumers",
                           std::to_string(cycle.consumers), "--min-consumer-reads", std::to_string(cycle.min_reads),
                           "--pace-ns", std::to_string(cycle.pace.count())}));
    std::vector<ChildProcess> consumers;
    for (std::uint32_t index = 0; index < cycle.consumers; ++index) {
        consumers.push_back(spawn_peer(
            "consume", {"--channel", config.name, "--count", std::to_string(cycle.slots), "--sizes", sizes}));
    }
    CycleResult result;
    for (ChildProcess& consumer : consumers) {
        result.consumers.push_back(consumer.wait(PEER_DEADLINE));
    }
    result.producer = producer.wait(PEER_DEADLINE);
    return result;
}

void expect_all_ok(const CycleResult& result) {
    EXPECT_TRUE(exited_with(result.producer, PeerExit::Ok)) << "producer";
    for (std::size_t index = 0; index < result.consumers.size(); ++index) {
        EXPECT_TRUE(exited_with(result.consumers[index], PeerExit::Ok)) << "consumer " << index;
    }
}

TEST(DataBlockStress, EveryReaderConsumerProcessesVerifyEveryByteOverManyCycles) {
    // Arrange
    const std::uint64_t cycles = scaled(EVERY_READER_CYCLES, MIN_CYCLES);
    const Cycle workload{.slots = scaled(EVERY_READER_SLOTS_PER_CYCLE, MIN_SLOTS), .consumers = EVERY_READER_CONSUMERS};

    for (std::uint64_t cycle = 0; cycle < cycles && !HasFailure(); ++cycle) {
        SCOPED_TRACE("cycle " + std::to_string(cycle));
        const ChannelCleanup channel(unique_channel_name("stress-every"));
        const shm::ChannelConfig config{.name = channel.name(),
                                        .slot_bytes = STRESS_SLOT_BYTES,
                                        .ring = RingPolicy::Ring,
                                        .slot_count = STRESS_RING_SLOTS,
                                        .sync = SyncPolicy::EveryReader,
                                        .checksum = ChecksumPolicy::Verify};

        // Act
        const CycleResult result = run_cycle(config, workload);

        // Assert: each consumer received exactly `slots` slots, in order, every byte as written.
        expect_all_ok(result);
    }
}

class LatestOnlyStress : public ::testing::TestWithParam<ChecksumPolicy> {};

TEST_P(LatestOnlyStress, ReaderNeverAcceptsATornSlotFromAFastProducer) {
    // Arrange
    const std::uint64_t cycles = scaled(LATEST_ONLY_CYCLES, MIN_CYCLES);
    const Cycle workload{.slots = scaled(LATEST_ONLY_SLOTS_PER_CYCLE, MIN_SLOTS),
                         .consumers = 1,
                         .min_reads = scaled(LATEST_ONLY_MIN_READS, MIN_READS),
                         .pace = scaled_period(LATEST_ONLY_WRITE_PERIOD)};

    for (std::uint64_t cycle = 0; cycle < cycles && !HasFailure(); ++cycle) {
        SCOPED_TRACE("cycle " + std::to_string(cycle));
        const ChannelCleanup channel(unique_channel_name("stress-latest"));
        const shm::ChannelConfig config{.name = channel.name(),
                                        .slot_bytes = STRESS_SLOT_BYTES,
                                        .ring = RingPolicy::Single,
                                        .sync = SyncPolicy::LatestOnly,
                                        .checksum = GetParam()};

        // Act
        const CycleResult result = run_cycle(config, workload);

        // Assert: every slot the reader accepted (release() == Ok) was intact, and it saw the last one.
        expect_all_ok(result);
    }
}

INSTANTIATE_TEST_SUITE_P(SingleSlot,
                         LatestOnlyStress,
                         ::testing::Values(ChecksumPolicy::None, ChecksumPolicy::Verify),
                         [](const ::testing::TestParamInfo<ChecksumPolicy>& checksum) {
                             return checksum.param == ChecksumPolicy::Verify ? "ChecksumVerified" : "NoChecksum";
                         });

}  // namespace
}  // namespace dhub::testing
