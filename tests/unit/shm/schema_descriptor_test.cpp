// SPDX-License-Identifier: Apache-2.0
// The typed schema a segment stores (layout 5): written at creation, read back by inspection, with the
// regions after it (flex zone, ring) still where the geometry says.
#include <gtest/gtest.h>

#include "dhub/shm/inspect.hpp"
#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

// 37 bytes: not a multiple of 64, so the flex zone after it must be re-aligned.
const std::string DESCRIPTOR = R"({"name":"lab.x","version":1,"f":[1]})";

class SchemaDescriptor_test : public DataBlockFixture {};

TEST_F(SchemaDescriptor_test, IsStoredAtCreationAndReadBackByInspection) {
    ChannelConfig channel = config(SyncPolicy::EveryReader);
    channel.schema_descriptor = DESCRIPTOR;
    channel.flex_zone_bytes = 64;
    Producer producer = make_producer(channel);
    EXPECT_EQ(producer.view().schema_descriptor(), DESCRIPTOR);
    EXPECT_EQ(producer.view().header().schema_descriptor_bytes, DESCRIPTOR.size());
    const auto info = inspect_channel(channel.name);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->schema_descriptor, DESCRIPTOR);

    // The flex zone and the ring moved past the descriptor and still work from another mapping.
    const auto& header = producer.view().header();
    EXPECT_EQ(header.flex_zone_offset % layout::CACHE_LINE, 0u);
    EXPECT_GE(
        header.flex_zone_offset,
        header.consumer_table_offset + header.consumer_capacity * sizeof(layout::ConsumerEntry) + DESCRIPTOR.size());
    Consumer consumer = make_consumer();
    EXPECT_EQ(consumer.view().schema_descriptor(), DESCRIPTOR);
    ASSERT_EQ(producer.flex_zone().write_value(std::uint64_t{0xC0FFEE}), Status::Ok);
    std::uint64_t read = 0;
    ASSERT_EQ(consumer.flex_zone().read_value(read), Status::Ok);
    EXPECT_EQ(read, 0xC0FFEEu);
    ASSERT_EQ(write_value(producer, 7), Status::Ok);
    EXPECT_EQ(read_value(consumer), 7u);
}

TEST_F(SchemaDescriptor_test, AHeaderRewrittenAfterAttachCannotMakeAViewReachPastTheMapping) {
    ChannelConfig channel = config(SyncPolicy::EveryReader);
    channel.schema_descriptor = DESCRIPTOR;
    channel.flex_zone_bytes = 64;
    Producer producer = make_producer(channel);
    Consumer consumer = make_consumer();
    auto& header = producer.view().header();  // what a hostile or broken process could do to the shared header
    const std::uint32_t descriptor_bytes = header.schema_descriptor_bytes;
    const std::uint32_t flex_bytes = header.flex_zone_bytes;
    header.schema_descriptor_bytes = 0xFFFFFFF0u;
    header.flex_zone_bytes = 0xFFFFFFF0u;
    EXPECT_TRUE(consumer.view().schema_descriptor().empty());
    const std::size_t mapped = consumer.view().segment().size();
    const auto flex = consumer.view().flex_zone();
    EXPECT_LE(static_cast<std::size_t>(flex.data() - consumer.view().segment().data()) + flex.size(), mapped);
    header.schema_descriptor_bytes = descriptor_bytes;
    header.flex_zone_bytes = flex_bytes;
    EXPECT_EQ(consumer.view().schema_descriptor(), DESCRIPTOR);
}

TEST_F(SchemaDescriptor_test, AChannelWithoutOneStoresNothing) {
    Producer producer = make_producer(config(SyncPolicy::EveryReader));
    EXPECT_TRUE(producer.view().schema_descriptor().empty());
    EXPECT_EQ(producer.view().header().schema_descriptor_bytes, 0u);
    const auto info = inspect_channel(channel());
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->schema_descriptor.empty());
}

TEST_F(SchemaDescriptor_test, ALargerOneThanTheLimitIsRefusedNamingTheField) {
    ChannelConfig channel = config(SyncPolicy::EveryReader);
    channel.schema_descriptor.assign(MAX_SCHEMA_DESCRIPTOR_BYTES + 1, ' ');
    const auto created = Producer::create(channel);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(created.error().message.find("schema_descriptor"), std::string::npos) << created.error().message;
}

}  // namespace
}  // namespace dhub::shm
