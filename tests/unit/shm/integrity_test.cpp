// SPDX-License-Identifier: Apache-2.0
// BLAKE2b per slot: corrupted payloads are reported and counted, never returned, and never wedge a channel.
#include <gtest/gtest.h>

#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

class Integrity_test : public DataBlockFixture {
protected:
    ChannelConfig checked(SyncPolicy sync, ChecksumPolicy checksum = ChecksumPolicy::Verify) {
        ChannelConfig channel = config(sync);
        channel.checksum = checksum;
        return channel;
    }
    /// Flips one payload byte of the slot holding seq, as a stray write or bit flip would.
    static void corrupt(const Producer& producer, std::uint64_t seq) {
        producer.view().slot_payload(seq)[3] ^= std::byte{0x40};
    }
};

TEST_F(Integrity_test, IntactSlotsPassVerification) {
    Producer producer = make_producer(checked(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 77), Status::Ok);
    EXPECT_EQ(read_value(consumer), 77u);
}

class IntegrityPerPolicy_test : public Integrity_test, public ::testing::WithParamInterface<SyncPolicy> {};

TEST_P(IntegrityPerPolicy_test, CorruptedSlotIsReportedCountedAndSkipped) {
    Producer producer = make_producer(checked(GetParam()));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    corrupt(producer, 0);

    ReadSlot bad = consumer.acquire_read(waiting(NO_WAIT));
    EXPECT_EQ(bad.status(), Status::ChecksumMismatch);
    EXPECT_EQ(bad.sequence(), 0u);
    EXPECT_TRUE(bad.payload().empty());
    EXPECT_EQ(consumer.view().consumer(consumer.seat()).checksum_failures.load(), 1u);

    ASSERT_EQ(write_value(producer, 2), Status::Ok);
    EXPECT_EQ(read_value(consumer), 2u);  // the channel goes on
}

INSTANTIATE_TEST_SUITE_P(Policies,
                         IntegrityPerPolicy_test,
                         ::testing::Values(SyncPolicy::SingleReader, SyncPolicy::EveryReader, SyncPolicy::LatestOnly),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST_F(Integrity_test, ComputeOnlyPolicyStoresTheChecksumButDoesNotVerify) {
    Producer producer = make_producer(checked(SyncPolicy::SingleReader, ChecksumPolicy::Compute));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 1), Status::Ok);
    const Digest expected = blake2b_256({producer.view().slot_payload(0), sizeof(std::uint64_t)});
    EXPECT_EQ(0, std::memcmp(expected.data(), producer.view().slot_header(0).checksum, expected.size()));
    corrupt(producer, 0);
    EXPECT_TRUE(read_value(consumer).has_value());
}

TEST_F(Integrity_test, ChecksumCoversOnlyTheCommittedBytes) {
    Producer producer = make_producer(checked(SyncPolicy::SingleReader));
    Consumer consumer = make_consumer();
    ASSERT_EQ(write_value(producer, 5), Status::Ok);
    producer.view().slot_payload(0)[60] ^= std::byte{1};  // beyond the 8 committed bytes
    EXPECT_EQ(read_value(consumer), 5u);
}

}  // namespace
}  // namespace dhub::shm
