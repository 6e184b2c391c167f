// SPDX-License-Identifier: Apache-2.0
// validate_graph, channel by channel: wiring, schemas, slot sizes and the resulting shm configuration.
#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::check_document;
using testing::FakePlugins;
using testing::has_issue;
using testing::valid_document;
using Json = nlohmann::json;

struct ChannelCase {
    const char* label;
    void (*edit)(Json&);
    const char* path;
    std::vector<std::string> substrings;
};

class ValidateChannels_test : public ::testing::TestWithParam<ChannelCase> {};

TEST_P(ValidateChannels_test, ReportsTheProblemAtItsPath) {
    Json document = valid_document();
    GetParam().edit(document);
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, GetParam().path, GetParam().substrings));
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ValidateChannels_test,
    ::testing::Values(
        ChannelCase{
            "UndeclaredInput",
            [](Json& d) { d["nodes"][2]["inputs"] = {"scaeld"}; },
            "/nodes/2/inputs/0",
            {"no channel 'scaeld' is declared", "declared channels: frames, scaled", "did you mean \"scaled\"?"}},
        ChannelCase{"UndeclaredOutput",
                    [](Json& d) { d["nodes"][1]["outputs"] = {"elsewhere"}; },
                    "/nodes/1/outputs/0",
                    {"no channel 'elsewhere' is declared"}},
        ChannelCase{
            "TwoProducers",
            [](Json& d) {
                d["nodes"].push_back({{"id", "src2"}, {"plugin", "frames"}, {"outputs", {"frames"}}});
            },
            "/nodes/4/outputs/0",
            {"node 'src2' writes channel 'frames', which node 'src' (/nodes/0) already writes", "one producer"}},
        ChannelCase{"NoProducer",
                    [](Json& d) {
                        d["channels"].push_back({{"name", "orphan"}, {"slot_bytes", 64}});
                    },
                    "/channels/2",
                    {"channel 'orphan' has no producer", "no node lists it in \"outputs\""}},
        ChannelCase{"ConsumerExpectsAnotherSchema",
                    [](Json& d) {
                        d["nodes"].push_back(
                            {{"id", "conv"}, {"plugin", "other"}, {"inputs", {"frames"}}, {"outputs", {"converted"}}});
                        d["channels"].push_back({{"name", "converted"}, {"slot_bytes", 64}});
                    },
                    "/nodes/4/inputs/0",
                    {"channel 'frames' carries test.frame@1 (written by node 'src')",
                     "node 'conv' (component test.stage.other) expects other@1"}},
        ChannelCase{"ChannelSchemaDiffersFromProducer",
                    [](Json& d) { d["channels"][0]["schema"] = "dhub.waveform.f64@1"; },
                    "/channels/0/schema",
                    {"channel 'frames' declares schema dhub.waveform.f64@1",
                     "producer node 'src' (component test.source.frames) writes test.frame@1"}},
        ChannelCase{"SlotSmallerThanTheProducerNeeds",
                    [](Json& d) { d["channels"][0]["slot_bytes"] = 32; },
                    "/channels/0/slot_bytes",
                    {"slot_bytes 32 is smaller than the 64 bytes its producer node 'src'",
                     "set \"slot_bytes\" to at least 64"}},
        ChannelCase{"SlotSmallerThanAConsumerNeeds",
                    [](Json& d) { d["nodes"][2]["plugin"] = "big"; },
                    "/channels/1/slot_bytes",
                    {"slot_bytes 4096 is smaller than the 16384 bytes its consumer node 'sink' (component "
                     "test.sink.big)"}},
        ChannelCase{"InferredSlotSmallerThanAConsumerNeeds",
                    [](Json& d) {
                        d["channels"][0].erase("slot_bytes");
                        d["nodes"].push_back({{"id", "big"}, {"plugin", "big"}, {"inputs", {"frames"}}});
                    },
                    "/channels/0",
                    {"slot_bytes (taken from the producer) 64 is smaller than the 16384 bytes"}},
        ChannelCase{"SlotBytesRequired",
                    [](Json& d) {
                        d["channels"][0].erase("slot_bytes");
                        d["nodes"][0]["plugin"] = "free";
                    },
                    "/channels/0",
                    {"slot_bytes is required: producer node 'src' (component test.source.free) declares no fixed "
                     "slot size"}},
        ChannelCase{"RingOfOneSlot",
                    [](Json& d) { d["channels"][1]["slot_count"] = 1; },
                    "/channels/1",
                    {"channel 'scaled': slot_count = 1 must be in [2, "}},
        ChannelCase{"SingleReaderWithTwoReaders",
                    [](Json& d) { d["channels"][0]["sync"] = "single_reader"; },
                    "/channels/0/sync",
                    {"single_reader allows one consumer, but 2 read channel 'frames' (node 'pass', node 'check')"}},
        ChannelCase{"MoreReadersThanSeats",
                    [](Json& d) { d["channels"][0]["max_consumers"] = 1; },
                    "/channels/0/max_consumers",
                    {"max_consumers 1 is smaller than the 2 nodes reading"}}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(ValidateChannels_test, ChannelWithoutConsumerIsAllowed) {
    Json document = valid_document();
    document["nodes"].erase(2);  // the sink of "scaled"
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
}

TEST(ValidateChannels_test, BuildsTheChannelConfig) {
    Json document = valid_document();
    document["channels"][1] = {{"name", "scaled"},       {"slot_bytes", 512},     {"slot_count", 4},
                               {"ring", "ring"},         {"sync", "latest_only"}, {"checksum", "compute"},
                               {"flex_zone_bytes", 128}, {"max_consumers", 2}};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    ASSERT_EQ(sut->graph.channels.size(), 2u);
    const ValidatedChannel& channel = sut->graph.channels[1];
    EXPECT_EQ(channel.spec, &sut->spec->channels[1]);
    EXPECT_EQ(channel.config.name, "scaled");
    EXPECT_EQ(channel.config.slot_bytes, 512u);
    EXPECT_EQ(channel.config.slot_count, 4u);
    EXPECT_EQ(channel.config.ring, shm::RingPolicy::Ring);
    EXPECT_EQ(channel.config.sync, shm::SyncPolicy::LatestOnly);
    EXPECT_EQ(channel.config.checksum, shm::ChecksumPolicy::Compute);
    EXPECT_EQ(channel.config.flex_zone_bytes, 128u);
    EXPECT_EQ(channel.config.max_consumers, 2u);
    EXPECT_EQ(channel.schema, "test.frame@1");
    EXPECT_EQ(channel.config.schema_hash, schema::id_hash("test.frame@1"));
    EXPECT_EQ(channel.producer, 1u);
    EXPECT_EQ(channel.consumers, std::vector<std::size_t>{2});
}

TEST(ValidateChannels_test, ValidatorCountsAsAConsumer) {
    FakePlugins plugins;
    const auto sut = check_document(valid_document(), plugins);
    ASSERT_EQ(sut->graph.channels.size(), 2u);
    EXPECT_EQ(sut->graph.channels[0].producer, 0u);
    EXPECT_EQ(sut->graph.channels[0].consumers, (std::vector<std::size_t>{1, 3}));
}

TEST(ValidateChannels_test, InfersSlotBytesFromTheProducer) {
    Json document = valid_document();
    document["channels"][0].erase("slot_bytes");
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.channels[0].config.slot_bytes, testing::FRAME_SLOT_BYTES);
}

TEST(ValidateChannels_test, ChannelSchemaNamesWhatAnAnyProducerWrites) {
    Json document = valid_document();
    document["channels"].push_back({{"name", "remote"}, {"slot_bytes", 256}, {"schema", "other@1"}});
    document["nodes"].push_back({{"id", "relay"}, {"plugin", "relay"}, {"outputs", {"remote"}}});
    document["nodes"].push_back({{"id", "reader"},
                                 {"plugin", "pass"},
                                 {"params", {{"gain", 1}}},
                                 {"inputs", {"remote"}},
                                 {"outputs", {"unread"}}});
    document["channels"].push_back({{"name", "unread"}, {"slot_bytes", 256}});
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_EQ(sut->graph.channels.at(2).schema, "other@1");
    EXPECT_EQ(sut->graph.channels.at(2).config.schema_hash, schema::id_hash("other@1"));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/5/inputs/0",
                          {"channel 'remote' carries other@1 (written by node 'relay')", "expects test.frame@1"}));
}

TEST(ValidateChannels_test, TransportsAreCheckedOnlyForChannelExistence) {
    Json document = valid_document();
    // The relay declares relay.in@1 / relay.out@1 and 1 MiB slots; none of that is compared.
    document["channels"].push_back({{"name", "remote"}, {"slot_bytes", 64}});
    document["nodes"].push_back({{"id", "out"}, {"plugin", "relay"}, {"inputs", {"frames"}}});
    document["nodes"].push_back({{"id", "in"}, {"plugin", "relay"}, {"outputs", {"remote"}}});
    document["nodes"].push_back({{"id", "reader"}, {"plugin", "sink"}, {"inputs", {"remote"}}});
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.channels.at(2).schema, "*");
}

TEST(ValidateChannels_test, AnyConsumerAcceptsEverySchema) {
    Json document = valid_document();
    document["nodes"][2]["inputs"] = {"frames"};
    document["nodes"][1]["outputs"] = Json::array();
    document["nodes"][1]["plugin"] = "sink";
    document["nodes"][1]["params"] = Json::object();
    document["channels"].erase(1);
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
}

TEST(SchemaHash_test, IsStableAndDiffersById) {
    EXPECT_EQ(schema::id_hash("dhub.waveform.f64@1"), schema::id_hash("dhub.waveform.f64@1"));
    EXPECT_NE(schema::id_hash("dhub.waveform.f64@1"), schema::id_hash("dhub.waveform.f64@2"));
    EXPECT_NE(schema::id_hash("dhub.waveform.f64@1"), shm::SchemaHash{});
}

TEST(SchemaHash_test, IsBlake2b256OfTheId) {
    // BLAKE2b-256("abc"), from the reference implementation's test vectors (RFC 7693 gives BLAKE2b-512).
    const shm::SchemaHash expected = {0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72, 0x31, 0x71, 0xef,
                                      0x3f, 0xee, 0x98, 0x57, 0x9b, 0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb,
                                      0x3e, 0x42, 0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19};
    EXPECT_EQ(schema::id_hash("abc"), expected);
}

TEST(SchemaHash_test, IsZeroForAnyOrNone) {
    EXPECT_EQ(schema::id_hash("*"), shm::SchemaHash{});
    EXPECT_EQ(schema::id_hash(""), shm::SchemaHash{});
}

}  // namespace
}  // namespace dhub::graph
