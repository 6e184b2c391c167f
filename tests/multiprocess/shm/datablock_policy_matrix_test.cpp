// SPDX-License-Identifier: Apache-2.0
// Every ring x sync x checksum combination between separate processes: a producer process and one or two
// consumer processes (dhub-shm-test-peer). The consumers check every byte of every slot they accept:
// lossless policies must deliver each sequence exactly once, in order; latest-only may skip but never
// hands out a torn slot as good (release() == Ok) and always ends with the last sequence.
#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "multiprocess_support.hpp"
#include "support/test_channel.hpp"

namespace dhub::testing {
namespace {

using shm::ChecksumPolicy;
using shm::RingPolicy;
using shm::SyncPolicy;

constexpr std::uint64_t SLOTS_PER_RUN = 2000;
constexpr std::uint64_t MIN_SLOTS_PER_RUN = 100;
constexpr std::size_t SLOT_BYTES = 1024;
constexpr std::uint32_t RING_SLOTS = 8;
constexpr std::uint32_t EVERY_READER_CONSUMERS = 2;
/// Latest-only: the producer keeps writing until the consumer has accepted this many slots, so the
/// reader genuinely races the writer instead of reading only the final slot.
constexpr std::uint64_t LATEST_ONLY_MIN_READS = 100;
constexpr std::uint64_t LATEST_ONLY_MIN_READS_FLOOR = 10;
/// Latest-only: one write every microsecond. A writer that never pauses keeps a single slot busy nearly all
/// the time, and how often a reader then gets a consistent read depends only on scheduling.
constexpr std::chrono::nanoseconds LATEST_ONLY_WRITE_PERIOD{1'000};

/// Slots per acquire_burst on both ends in the burst cases (odd, so bursts and the ring do not line up).
constexpr std::uint64_t BURST = 5;

struct PolicyCase {
    RingPolicy ring;
    SyncPolicy sync;
    ChecksumPolicy checksum;
    bool bursts = false;  ///< producer and consumers move slots with WriteBurst / ReadBurst
};

void PrintTo(const PolicyCase& policy, std::ostream* out) {
    *out << shm::to_string(policy.ring) << " / " << shm::to_string(policy.sync) << " / "
         << shm::to_string(policy.checksum) << (policy.bursts ? " / bursts" : "");
}

std::vector<PolicyCase> all_policy_cases() {
    std::vector<PolicyCase> cases;
    for (const RingPolicy ring : {RingPolicy::Single, RingPolicy::Double, RingPolicy::Ring}) {
        for (const SyncPolicy sync : {SyncPolicy::LatestOnly, SyncPolicy::SingleReader, SyncPolicy::EveryReader}) {
            for (const ChecksumPolicy checksum : {ChecksumPolicy::None, ChecksumPolicy::Verify}) {
                cases.push_back({ring, sync, checksum});
                cases.push_back({ring, sync, checksum, true});
            }
        }
    }
    return cases;
}

std::string ring_name(RingPolicy ring) {
    return ring == RingPolicy::Ring ? "RingOf" + std::to_string(RING_SLOTS)
                                    : (ring == RingPolicy::Single ? "SingleSlot" : "DoubleSlot");
}

std::string sync_name(SyncPolicy sync) {
    switch (sync) {
        case SyncPolicy::LatestOnly:
            return "LatestOnly";
        case SyncPolicy::SingleReader:
            return "SingleReader";
        case SyncPolicy::EveryReader:
            return "EveryReader";
    }
    return "UnknownSync";
}

std::string case_name(const ::testing::TestParamInfo<PolicyCase>& info) {
    const PolicyCase& policy = info.param;
    return ring_name(policy.ring) + "_" + sync_name(policy.sync) + "_" +
           (policy.checksum == ChecksumPolicy::Verify ? "ChecksumVerified" : "NoChecksum") +
           (policy.bursts ? "_Bursts" : "");
}

class PolicyAcrossProcesses : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(PolicyAcrossProcesses, ConsumerProcessesReceiveVerifiedSlotsFromAProducerProcess) {
    // Arrange
    const PolicyCase& policy = GetParam();
    const ChannelCleanup channel(unique_channel_name("matrix"));
    const shm::ChannelConfig config{.name = channel.name(),
                                    .slot_bytes = SLOT_BYTES,
                                    .ring = policy.ring,
                                    .slot_count = RING_SLOTS,
                                    .sync = policy.sync,
                                    .checksum = policy.checksum};
    const std::uint64_t count = scaled(SLOTS_PER_RUN, MIN_SLOTS_PER_RUN);
    const std::uint32_t consumer_count = policy.sync == SyncPolicy::EveryReader ? EVERY_READER_CONSUMERS : 1;
    const std::string sizes = sizes_argument(PayloadSizes::Random);
    const bool latest_only = policy.sync == SyncPolicy::LatestOnly;
    const std::uint64_t min_reads = latest_only ? scaled(LATEST_ONLY_MIN_READS, LATEST_ONLY_MIN_READS_FLOOR) : 0;
    const auto pace = latest_only ? scaled_period(LATEST_ONLY_WRITE_PERIOD) : std::chrono::nanoseconds(0);
    const std::vector<std::string> burst =
        policy.bursts ? std::vector<std::string>{"--burst", std::to_string(BURST)} : std::vector<std::string>{};

    // Act
    ChildProcess producer =
        spawn_peer("produce", concat(concat(channel_arguments(config),
                                            {"--count", std::to_string(count), "--sizes", sizes, "--wait-consumers",
                                             std::to_string(consumer_count), "--min-consumer-reads",
                                             std::to_string(min_reads), "--pace-ns", std::to_string(pace.count())}),
                                     burst));
    std::vector<ChildProcess> consumers;
    for (std::uint32_t index = 0; index < consumer_count; ++index) {
        consumers.push_back(spawn_peer(
            "consume",
            concat({"--channel", channel.name(), "--count", std::to_string(count), "--sizes", sizes}, burst)));
    }

    // Assert: each consumer checked its own stream (exact and in order, or latest-only rules) and exits 0.
    for (ChildProcess& consumer : consumers) {
        EXPECT_TRUE(exited_with(consumer.wait(PEER_DEADLINE), PeerExit::Ok)) << "consumer pid " << consumer.pid();
    }
    EXPECT_TRUE(exited_with(producer.wait(PEER_DEADLINE), PeerExit::Ok)) << "producer";
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, PolicyAcrossProcesses, ::testing::ValuesIn(all_policy_cases()), case_name);

}  // namespace
}  // namespace dhub::testing
