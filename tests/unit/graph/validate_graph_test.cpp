// SPDX-License-Identifier: Apache-2.0
// validate_graph as a whole: a clean graph, start order, cycles and many problems in one document.
#include <algorithm>

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

std::size_t position(const std::vector<std::size_t>& order, std::size_t node) {
    return static_cast<std::size_t>(std::find(order.begin(), order.end(), node) - order.begin());
}

/// Two pass stages feeding each other: src -> a -> b -> a.
Json document_with_cycle() {
    Json document = valid_document();
    document["channels"] = {{{"name", "frames"}, {"slot_bytes", 128}},
                            {{"name", "ab"}, {"slot_bytes", 128}},
                            {{"name", "ba"}, {"slot_bytes", 128}}};
    document["nodes"] = {{{"id", "src"}, {"plugin", "frames"}, {"outputs", {"frames"}}},
                         {{"id", "sink"}, {"plugin", "sink"}, {"inputs", {"frames"}}},
                         {{"id", "a"}, {"plugin", "relay"}, {"inputs", {"ba"}}, {"outputs", {"ab"}}},
                         {{"id", "b"}, {"plugin", "relay"}, {"inputs", {"ab"}}, {"outputs", {"ba"}}}};
    return document;
}

TEST(ValidateGraph_test, ValidDocumentHasNoIssues) {
    FakePlugins plugins;
    const auto sut = check_document(valid_document(), plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.nodes.size(), 4u);
    EXPECT_EQ(sut->graph.channels.size(), 2u);
}

TEST(ValidateGraph_test, StartOrderPutsConsumersBeforeTheirProducers) {
    FakePlugins plugins;
    const auto sut = check_document(valid_document(), plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    // src(0) feeds pass(1) and check(3); pass feeds sink(2). Ties go by declaration order.
    EXPECT_EQ(sut->graph.start_order, (std::vector<std::size_t>{2, 1, 3, 0}));
}

TEST(ValidateGraph_test, StartOrderHoldsForEveryChannelOfALongerChain) {
    Json document = valid_document();
    // Declared producers first and in reverse, so declaration order alone would be wrong.
    document["channels"].push_back({{"name", "twice"}, {"slot_bytes", 4096}});
    const Json second_stage = {
        {"id", "pass2"}, {"plugin", "pass"}, {"params", {{"gain", 1}}}, {"inputs", {"scaled"}}, {"outputs", {"twice"}}};
    document["nodes"].insert(document["nodes"].begin(), second_stage);
    document["nodes"][3] = {{"id", "sink"}, {"plugin", "sink"}, {"inputs", {"twice"}}};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    const auto& order = sut->graph.start_order;
    ASSERT_EQ(order.size(), sut->spec->nodes.size());
    for (const ValidatedChannel& channel : sut->graph.channels) {
        for (const std::size_t consumer : channel.consumers) {
            EXPECT_LT(position(order, consumer), position(order, channel.producer)) << channel.config.name;
        }
    }
}

TEST(ValidateGraph_test, CycleIsOneIssueNamingItsNodesAndChannels) {
    FakePlugins plugins;
    const auto sut = check_document(document_with_cycle(), plugins);
    ASSERT_EQ(sut->issues.size(), 1u) << format_issues(sut->issues, "");
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/outputs/0",
                          {"nodes form a cycle: a -> b -> a (through channels ab, ba)", "data must flow one way"}));
    EXPECT_EQ(sut->graph.start_order.size(), 4u);
}

TEST(ValidateGraph_test, NodeReadingItsOwnOutputIsACycle) {
    Json document = valid_document();
    document["nodes"][1]["inputs"] = {"scaled"};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/1/outputs/0", {"pass -> pass (through channels scaled)"}));
}

TEST(ValidateGraph_test, ReportsEveryProblemAtOnce) {
    Json document = valid_document();
    document["nodes"][0]["params"] = {{"rate_hz", 0}};                        // out of range
    document["nodes"][1]["params"] = {{"gian", 2}};                           // unknown and missing gain
    document["nodes"][2]["inputs"] = {"nowhere"};                             // undeclared channel
    document["nodes"][3]["plugin"] = "broken";                                // lookup fails
    document["channels"].push_back({{"name", "orphan"}, {"slot_bytes", 1}});  // no producer
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/0/params/rate_hz", {"found 0"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/1/params/gian", {"unknown parameter"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/1/params", {"missing required parameter 'gain'"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/inputs/0", {"no channel 'nowhere'"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/3/plugin", {"could not be loaded"}));
    EXPECT_TRUE(has_issue(sut->issues, "/channels/2", {"no producer"}));
    EXPECT_EQ(sut->issues.size(), 6u) << format_issues(sut->issues, "");
}

TEST(ValidateGraph_test, SpecWithShapeProblemsStillValidatesWithoutCrashing) {
    std::vector<GraphIssue> issues;
    const auto spec = parse_graph(R"({"schema_version": 1, "channels": [{"slot_bytes": 0}, {"name": "x"}],
        "nodes": [{"plugin": 3}, {"id": "n", "plugin": "pass", "inputs": [1], "outputs": ["x", "x"]}]})",
                                  "", issues);
    ASSERT_TRUE(spec.has_value());
    ASSERT_FALSE(issues.empty());
    FakePlugins plugins;
    const ValidatedGraph sut = validate_graph(*spec, plugins.lookup(), issues);
    EXPECT_EQ(sut.nodes.size(), spec->nodes.size());
    EXPECT_EQ(sut.channels.size(), spec->channels.size());
    EXPECT_EQ(sut.start_order.size(), spec->nodes.size());
}

}  // namespace
}  // namespace dhub::graph
