// SPDX-License-Identifier: Apache-2.0
// A producer process dies leaving its segment; its successor takes the segment over only when it would
// store the same schema descriptor, and otherwise replaces it (consumers never see slots described by a
// schema the segment does not name).
#include <gtest/gtest.h>

#include <unistd.h>

#include "dhub/shm/inspect.hpp"
#include "dhub/shm/producer.hpp"
#include "support/child_process.hpp"
#include "support/test_channel.hpp"

namespace dhub::shm {
namespace {

using dhub::testing::ChannelCleanup;
using dhub::testing::ChildProcess;
using dhub::testing::unique_channel_name;

ChannelConfig described(const std::string& name, const std::string& descriptor) {
    ChannelConfig config;
    config.name = name;
    config.sync = SyncPolicy::EveryReader;
    config.slot_bytes = 64;
    config.schema_descriptor = descriptor;
    return config;
}

/// A child process creates the channel, commits one slot and dies without closing it.
void producer_dies(const ChannelConfig& config) {
    ChildProcess child = ChildProcess::fork([&] {
        auto producer = Producer::create(config);
        if (!producer) return 1;
        auto slot = producer->acquire_write();
        if (!slot) return 2;
        slot.commit(8);
        ::_exit(0);  // no close(): the lease stays, naming a dead process
    });
    const auto status = child.wait(std::chrono::seconds(10));
    ASSERT_TRUE(status.exited && status.code == 0) << "the dying producer failed: " << status.code;
}

TEST(SchemaDescriptorAcrossProducers, ASuccessorWithTheSameDescriptorTakesTheSegmentOver) {
    ChannelCleanup cleanup(unique_channel_name("descriptor-same"));
    const ChannelConfig config = described(cleanup.name(), R"({"name":"lab.a","version":1})");
    producer_dies(config);
    auto successor = Producer::create(config);
    ASSERT_TRUE(successor.ok()) << successor.error().message;
    const auto info = inspect_channel(cleanup.name());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->producer_epoch, 2u) << "taken over, not re-created";
    EXPECT_EQ(info->write_seq, 1u) << "the dead producer's slot is still there";
    EXPECT_EQ(info->schema_descriptor, config.schema_descriptor);
}

TEST(SchemaDescriptorAcrossProducers, ASuccessorWithAnotherDescriptorReplacesTheSegment) {
    ChannelCleanup cleanup(unique_channel_name("descriptor-other"));
    producer_dies(described(cleanup.name(), R"({"name":"lab.a","version":1})"));
    const ChannelConfig other = described(cleanup.name(), R"({"name":"lab.a","version":2})");
    auto successor = Producer::create(other);
    ASSERT_TRUE(successor.ok()) << successor.error().message;
    const auto info = inspect_channel(cleanup.name());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->producer_epoch, 1u) << "a new segment, not a takeover";
    EXPECT_EQ(info->write_seq, 0u) << "no slot of the old schema survives";
    EXPECT_EQ(info->schema_descriptor, other.schema_descriptor);
}

}  // namespace
}  // namespace dhub::shm
