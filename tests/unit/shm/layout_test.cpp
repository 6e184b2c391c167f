// SPDX-License-Identifier: Apache-2.0
// If a test here fails, the shared-memory layout changed: processes built before and after the change
// would corrupt each other. Bump layout::LAYOUT_VERSION and update docs/shm-layout.md, then these tests.
#include "dhub/shm/layout.hpp"

#include <gtest/gtest.h>

#include <cstddef>

namespace dhub::shm::layout {
namespace {

TEST(LayoutBinaryCompatibility_test, HeaderFieldsStayWhereVersionEightPutThem) {
    EXPECT_EQ(LAYOUT_VERSION, 8u);
    EXPECT_EQ(SEGMENT_MAGIC, 0x314D485342554844ULL);
    EXPECT_EQ(sizeof(SegmentHeader), 512u);
    EXPECT_EQ(offsetof(SegmentHeader, magic), 0u);
    EXPECT_EQ(offsetof(SegmentHeader, layout_version), 8u);
    EXPECT_EQ(offsetof(SegmentHeader, init_state), 12u);
    EXPECT_EQ(offsetof(SegmentHeader, total_bytes), 16u);
    EXPECT_EQ(offsetof(SegmentHeader, slot_count), 28u);
    EXPECT_EQ(offsetof(SegmentHeader, slot_payload_bytes), 32u);
    EXPECT_EQ(offsetof(SegmentHeader, ring_policy), 48u);
    EXPECT_EQ(offsetof(SegmentHeader, gate_entries), 51u);
    EXPECT_EQ(offsetof(SegmentHeader, creation_realtime_ns), 56u);
    EXPECT_EQ(offsetof(SegmentHeader, schema_hash), 64u);
    EXPECT_EQ(offsetof(SegmentHeader, ring_offset), 112u);
    EXPECT_EQ(offsetof(SegmentHeader, schema_descriptor_bytes), 124u);
    EXPECT_EQ(offsetof(SegmentHeader, geometry_checksum), 128u);
    EXPECT_EQ(offsetof(SegmentHeader, writer_lease), 160u);
    EXPECT_EQ(offsetof(SegmentHeader, upstream_lost), 208u);
    EXPECT_EQ(offsetof(SegmentHeader, producer_epoch), 176u);
    EXPECT_EQ(offsetof(SegmentHeader, closed), 180u);
    EXPECT_EQ(offsetof(SegmentHeader, held_skips), 184u);
    EXPECT_EQ(offsetof(SegmentHeader, write_seq), 192u);
    EXPECT_EQ(offsetof(SegmentHeader, producer_heartbeat_ns), 200u);
    EXPECT_EQ(offsetof(SegmentHeader, readers_waiting), 256u);
    EXPECT_EQ(offsetof(SegmentHeader, commit_futex), 260u);
    EXPECT_EQ(offsetof(SegmentHeader, seats_in_use), 264u);
    EXPECT_EQ(offsetof(SegmentHeader, writer_waiting), 320u);
    EXPECT_EQ(offsetof(SegmentHeader, space_futex), 324u);
    EXPECT_EQ(offsetof(SegmentHeader, writer_wake_cursor), 328u);
    EXPECT_EQ(offsetof(SegmentHeader, reuse_claim), 336u);
    EXPECT_EQ(offsetof(SegmentHeader, holds_fenced), 344u);
    EXPECT_EQ(offsetof(SegmentHeader, flex_seq), 384u);
    EXPECT_EQ(offsetof(SegmentHeader, attach_tag), 400u);
    EXPECT_EQ(offsetof(SegmentHeader, holding_readers), 432u);
    EXPECT_EQ(offsetof(SegmentHeader, counters), 448u);
}

TEST(LayoutBinaryCompatibility_test, ConsumerEntryAndSlotHeaderKeepTheirShape) {
    EXPECT_EQ(sizeof(ConsumerEntry), 128u);
    EXPECT_EQ(offsetof(ConsumerEntry, cursor), 0u);
    EXPECT_EQ(offsetof(ConsumerEntry, heartbeat_ns), 8u);
    EXPECT_EQ(offsetof(ConsumerEntry, state), 16u);
    EXPECT_EQ(offsetof(ConsumerEntry, flags), 20u);
    EXPECT_EQ(offsetof(ConsumerEntry, held), 24u);
    EXPECT_EQ(offsetof(ConsumerEntry, overwritten_releases), 32u);
    EXPECT_EQ(offsetof(ConsumerEntry, skipped), 40u);
    EXPECT_EQ(offsetof(ConsumerEntry, owner), 64u);
    EXPECT_EQ(offsetof(ConsumerEntry, name), 104u);
    EXPECT_EQ(sizeof(SlotHeader), 64u);
    EXPECT_EQ(offsetof(SlotHeader, seq), 0u);
    EXPECT_EQ(offsetof(SlotHeader, timestamp_ns), 8u);
    EXPECT_EQ(offsetof(SlotHeader, payload_bytes), 16u);
    EXPECT_EQ(offsetof(SlotHeader, checksum), 24u);
    EXPECT_EQ(sizeof(GateEntry), 128u);
    EXPECT_EQ(offsetof(GateEntry, state), 0u);
    EXPECT_EQ(offsetof(GateEntry, on_reject), 4u);
    EXPECT_EQ(offsetof(GateEntry, validator), 8u);
    EXPECT_EQ(offsetof(GateEntry, reason), 56u);
    EXPECT_EQ(offsetof(GateEntry, rejected), 104u);
}

TEST(Geometry_test, TheGateTableSitsBetweenTheSchemaDescriptorAndTheFlexZone) {
    Geometry sut{8, 100, 64, 4, 10, 0};
    const std::uint64_t without = sut.flex_zone_offset();
    EXPECT_EQ(sut.gate_table_offset(), without);
    sut.gate_entries = 3;
    EXPECT_EQ(sut.gate_table_offset(), round_up(sut.schema_descriptor_offset() + 10, CACHE_LINE));
    EXPECT_EQ(sut.flex_zone_offset(), without + 3 * sizeof(GateEntry));
}

TEST(Geometry_test, SlotStrideIsAHeaderPlusThePayloadRoundedToCacheLines) {
    const Geometry sut{8, 100, 0, 4};
    EXPECT_EQ(sut.slot_stride_bytes(), 64u + 128u);
}

TEST(Geometry_test, RingStartsOnAPageAndTotalIsWholePages) {
    const Geometry sut{3, 4096, 100, 16};
    EXPECT_EQ(sut.consumer_table_offset(), sizeof(SegmentHeader));
    EXPECT_EQ(sut.flex_zone_offset(), sizeof(SegmentHeader) + 16 * sizeof(ConsumerEntry));
    EXPECT_EQ(sut.flex_zone_bytes(), 128u);
    EXPECT_EQ(sut.ring_offset() % PAGE, 0u);
    EXPECT_GE(sut.ring_offset(), sut.flex_zone_offset() + sut.flex_zone_bytes());
    EXPECT_EQ(sut.total_bytes() % PAGE, 0u);
    EXPECT_GE(sut.total_bytes(), sut.ring_offset() + 3u * sut.slot_stride_bytes());
}

TEST(Geometry_test, TheSchemaDescriptorSitsAfterTheConsumerTableAndTheFlexZoneAfterItOnALine) {
    const Geometry sut{4, 64, 64, 2, 100};
    EXPECT_EQ(sut.schema_descriptor_offset(), sizeof(SegmentHeader) + 2 * sizeof(ConsumerEntry));
    EXPECT_EQ(sut.flex_zone_offset(), sut.schema_descriptor_offset() + 128u);  // 100 rounded up to 64
    const Geometry none{4, 64, 64, 2};
    EXPECT_EQ(none.flex_zone_offset(), none.schema_descriptor_offset());
}

TEST(Geometry_test, SmallSlotsPackManyToAPage) {
    const Geometry sut{32, 64, 0, 1};
    EXPECT_EQ(sut.total_bytes() - sut.ring_offset(), 32u * 128u);
}

}  // namespace
}  // namespace dhub::shm::layout
