// SPDX-License-Identifier: Apache-2.0
// What the SDK gives a transport (dhub/sdk/transport.hpp, SDK 1.5 and 1.6): the ledger of far sequence numbers, the
// mismatch wording that names both ends, and the host calls channel_info and count_upstream_loss as a component
// sees them through NodeContext, and 1.6's peek (here on the SDK's fake host).
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "dhub/sdk/plugin.hpp"
#include "dhub/sdk/testing/fake_host.hpp"

namespace dhub::sdk {
namespace {

TEST(SequenceLedger_test, CountsWhatNeverArrivedAndDropsWhatArrivesTwice) {
    SequenceLedger ledger;
    EXPECT_FALSE(ledger.started());
    EXPECT_EQ(ledger.arrive(100), SequenceLedger::Verdict::Write);  // the first is taken as it comes
    EXPECT_EQ(ledger.arrive(101), SequenceLedger::Verdict::Write);
    EXPECT_EQ(ledger.arrive(105), SequenceLedger::Verdict::Write);  // 102..104 never arrived
    EXPECT_EQ(ledger.lost(), 3u);
    EXPECT_EQ(ledger.arrive(103), SequenceLedger::Verdict::Duplicate);  // too late: a resend
    EXPECT_EQ(ledger.arrive(105), SequenceLedger::Verdict::Duplicate);
    EXPECT_EQ(ledger.duplicates(), 2u);
    EXPECT_EQ(ledger.next(), 106u);

    ledger.restart();  // the far producer started over: its numbers mean nothing against the old ones
    EXPECT_EQ(ledger.arrive(0), SequenceLedger::Verdict::Write);
    EXPECT_EQ(ledger.lost(), 3u);
    EXPECT_EQ(ledger.next(), 1u);

    SequenceLedger resumed;
    resumed.expect(50);  // a stream resumed at 50: a first arrival of 52 lost two
    EXPECT_EQ(resumed.arrive(52), SequenceLedger::Verdict::Write);
    EXPECT_EQ(resumed.lost(), 2u);
}

ChannelInfo channel(std::string name, std::uint64_t slot_bytes, std::uint8_t hash_byte) {
    ChannelInfo info;
    info.name = std::move(name);
    info.slot_bytes = slot_bytes;
    info.slot_count = 8;
    info.schema_hash.fill(hash_byte);
    return info;
}

TEST(ChannelMismatch_test, NamesTheFirstDifferenceAndBothSides) {
    EXPECT_EQ(channel_mismatch(channel("cam0", 4096, 1), channel("cam0", 4096, 1)), "");
    EXPECT_EQ(channel_mismatch(channel("cam0", 4096, 1), channel("cam1", 4096, 1)),
              "channel name differs: the sender's channel is 'cam0' (4096-byte slots, 8 slots, schema 01010101), the "
              "receiver's is 'cam1' (4096-byte slots, 8 slots, schema 01010101)");
    EXPECT_EQ(channel_mismatch(channel("cam0", 4096, 1), channel("cam0", 8192, 1)),
              "slot size differs: the sender's channel is 'cam0' (4096-byte slots, 8 slots, schema 01010101), the "
              "receiver's is 'cam0' (8192-byte slots, 8 slots, schema 01010101)");
    EXPECT_EQ(channel_mismatch(channel("cam0", 4096, 1), channel("cam0", 4096, 0)),
              "schema differs: the sender's channel is 'cam0' (4096-byte slots, 8 slots, schema 01010101), the "
              "receiver's is 'cam0' (4096-byte slots, 8 slots, schema none)");
    // The ring's length is each end's own business.
    ChannelInfo longer = channel("cam0", 4096, 1);
    longer.slot_count = 64;
    EXPECT_EQ(channel_mismatch(channel("cam0", 4096, 1), longer), "");
}

TEST(TransportHostCalls_test, ChannelInfoAndUpstreamLossReachTheComponent) {
    testing::ManualClock clock;
    testing::FakeHost host(clock, {});
    dhub_channel_info info{};
    info.slot_count = 16;
    info.slot_bytes = 4096;
    info.sync = DHUB_SYNC_EVERY_READER;
    info.schema_hash[0] = 0xAB;
    host.set_channel_info(Direction::Output, 0, info, "cam0");
    NodeContext context(host.api(), host.node());

    const ChannelInfo seen = context.channel(Direction::Output);
    EXPECT_EQ(seen.name, "cam0");
    EXPECT_EQ(seen.slot_count, 16u);
    EXPECT_EQ(seen.slot_bytes, 4096u);
    EXPECT_TRUE(seen.lossless());
    EXPECT_EQ(seen.schema_hash[0], 0xAB);
    EXPECT_THROW((void)context.channel(Direction::Input), HostError);  // no such port

    context.count_upstream_loss(0, 3);
    context.count_upstream_loss(0, 0);
    context.count_upstream_loss(0, 2);
    EXPECT_EQ(host.upstream_lost(0), 5u);
}

TEST(TransportHostCalls_test, AnOlderKernelWithoutTheCallsIsToldApart) {
    testing::ManualClock clock;
    testing::FakeHost host(clock, {});
    // A 1.4 kernel's table ends before channel_info: the component hears so instead of calling past its end.
    dhub_host_api older = *host.api();
    older.struct_size = offsetof(dhub_host_api, channel_info);
    NodeContext context(&older, host.node());
    try {
        (void)context.channel(Direction::Output);
        ADD_FAILURE() << "no exception";
    } catch (const HostError& error) {
        EXPECT_EQ(error.status(), DHUB_ERR_ABI_MISMATCH);
    }
    context.count_upstream_loss(0, 4);  // a no-op there
    EXPECT_EQ(host.upstream_lost(0), 0u);
}

// SDK 1.6 peek on the fake host, as a transport sending in place uses it: kept slots stay put and are offered only
// once; release_oldest hands back the oldest; a 1.5 kernel's table is told apart.
TEST(TransportHostCalls_test, PeekKeepsSlotsUntilReleaseOldestAndOffersEachOnce) {
    testing::ManualClock clock;
    testing::FakeHost host(clock, {});
    for (std::uint64_t i = 0; i < 5; ++i)
        host.push_input(0, testing::Frame::of(i, i, 1000 + i));
    NodeContext context(host.api(), host.node());
    const InputPort<Bytes> input = context.input<Bytes>(0);
    ASSERT_TRUE(input.can_peek());

    std::array<dhub_slot, 3> slots{};
    std::uint32_t count = 0;
    ASSERT_EQ(input.peek(0, slots, count, 0), DHUB_OK);
    ASSERT_EQ(count, 3u);
    const void* third_data = slots[2].data;
    EXPECT_EQ(slots[2].sequence, 2u);
    EXPECT_EQ(slots[2].timestamp_ns, 1002u);

    ASSERT_EQ(input.peek(3, slots, count, 0), DHUB_OK);  // past the three seen: the other two
    ASSERT_EQ(count, 2u);
    EXPECT_EQ(slots[0].sequence, 3u);
    ASSERT_EQ(input.peek(5, slots, count, 0), DHUB_TIMEOUT);  // nothing new
    EXPECT_EQ(count, 0u);

    ASSERT_EQ(input.release_oldest(2), DHUB_OK);
    ASSERT_EQ(input.peek(0, slots, count, 0), DHUB_OK);  // the kept ones lead, unmoved
    EXPECT_EQ(slots[0].sequence, 2u);
    std::uint64_t value = 0;
    std::memcpy(&value, slots[0].data, sizeof value);
    EXPECT_EQ(value, 2u);
    EXPECT_EQ(slots[0].data, third_data) << "a kept slot moved";
    EXPECT_EQ(input.release_oldest(4), DHUB_ERR_INVALID_ARGUMENT);  // only three are kept
    ASSERT_EQ(input.release_oldest(3), DHUB_OK);
    host.close_input(0);
    EXPECT_EQ(input.peek(0, slots, count, 0), DHUB_END_OF_STREAM);

    dhub_host_api older = *host.api();
    older.struct_size = offsetof(dhub_host_api, peek_read);
    const InputPort<Bytes> on_older(&older, host.node(), 0);
    EXPECT_FALSE(on_older.can_peek());
    EXPECT_EQ(on_older.peek(0, slots, count, 0), DHUB_ERR_ABI_MISMATCH);
}

}  // namespace
}  // namespace dhub::sdk
