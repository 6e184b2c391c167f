// SPDX-License-Identifier: Apache-2.0
// validate_graph and delivery chosen per input: {"channel": ..., "delivery": "latest"} in the list and the
// map form, what single_reader and max_consumers then allow, and every mistake reported at its path.
#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::check_document;
using testing::FakePlugins;
using testing::has_issue;
using Json = nlohmann::json;

/// camera -> cam (single_reader) -> recorder (lossless) and viewer (latest).
Json viewer_document() {
    return Json::parse(R"({
        "schema_version": 1,
        "name": "viewer",
        "channels": [{"name": "cam", "slot_bytes": 4096, "sync": "single_reader", "max_consumers": 2}],
        "nodes": [
            {"id": "camera", "plugin": "frames", "outputs": ["cam"]},
            {"id": "recorder", "plugin": "sink", "inputs": ["cam"]},
            {"id": "viewer", "plugin": "sink", "inputs": [{"channel": "cam", "delivery": "latest"}]}
        ]
    })");
}

TEST(ValidateDelivery_test, ALatestReaderBesideASingleReadersOneReaderIsValid) {
    FakePlugins plugins;
    const auto sut = check_document(viewer_document(), plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    ASSERT_EQ(sut->graph.nodes.at(2).inputs.size(), 1u);
    EXPECT_EQ(sut->graph.nodes.at(2).inputs[0].channel, "cam");
    EXPECT_EQ(sut->graph.nodes.at(2).inputs[0].delivery, shm::Delivery::Latest);
    EXPECT_EQ(sut->graph.nodes.at(2).inputs[0].json_path, "/nodes/2/inputs/0");
    EXPECT_EQ(sut->graph.nodes.at(1).inputs[0].delivery, shm::Delivery::Channel);
}

TEST(ValidateDelivery_test, TheMapFormTakesTheObjectToo) {
    Json document = viewer_document();
    document["nodes"][2]["inputs"] = Json::parse(R"({"in": {"channel": "cam", "delivery": "latest"}})");
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.nodes.at(2).inputs.at(0).delivery, shm::Delivery::Latest);
    EXPECT_EQ(sut->graph.nodes.at(2).inputs.at(0).json_path, "/nodes/2/inputs/in");
}

TEST(ValidateDelivery_test, APublishedSingleReaderChannelMayHaveOnlyLatestReadersHere) {
    // Its lossless reader may be another kernel's, through the broker.
    Json document = viewer_document();
    document["broker"] = Json::object();
    document["nodes"].erase(1);
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_FALSE(has_issue(sut->issues, "/channels/0/sync", {"is read only with"})) << format_issues(sut->issues, "");
}

TEST(ValidateDelivery_test, DeliveryChannelIsTheDefaultSpelledOut) {
    Json document = viewer_document();
    document["nodes"][2]["inputs"][0]["delivery"] = "channel";
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/channels/0/sync", {"single_reader allows one consumer, but 2"}));
}

struct DeliveryCase {
    const char* label;
    void (*edit)(Json&);
    const char* path;
    std::vector<std::string> substrings;
};

class ValidateDeliveryProblems_test : public ::testing::TestWithParam<DeliveryCase> {};

// Shape problems come from parse_graph, wiring problems from validate_graph: whichever reports it, the path is
// the same.
TEST_P(ValidateDeliveryProblems_test, ReportsTheProblemAtItsPath) {
    Json document = viewer_document();
    GetParam().edit(document);
    FakePlugins plugins;
    std::vector<GraphIssue> issues;
    const std::optional<GraphSpec> spec = parse_graph(document.dump(), "test.json", issues);
    ASSERT_TRUE(spec.has_value()) << format_issues(issues, "");
    if (issues.empty()) (void)validate_graph(*spec, plugins.lookup(), issues);
    EXPECT_TRUE(has_issue(issues, GetParam().path, GetParam().substrings)) << format_issues(issues, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ValidateDeliveryProblems_test,
    ::testing::Values(DeliveryCase{"TwoLosslessReadersOfASingleReaderChannel",
                                   [](Json& d) { d["nodes"][2]["inputs"] = {"cam"}; },
                                   "/channels/0/sync",
                                   {"single_reader allows one consumer, but 2", "\"delivery\": \"latest\""}},
                      DeliveryCase{"ALatestReaderNeedsASeatBesideSeatZero",
                                   [](Json& d) {
                                       d["channels"][0]["max_consumers"] = 1;
                                       d["nodes"].erase(1);
                                   },
                                   "/channels/0/max_consumers",
                                   {"plus seat 0, which single_reader keeps for its reader", "raise it to at least 2"}},
                      DeliveryCase{"OnlyLatestReadersOfASingleReaderChannel",
                                   [](Json& d) { d["nodes"].erase(1); },
                                   "/channels/0/sync",
                                   {"is read only with \"delivery\": \"latest\" (node 'viewer')", "never comes"}},
                      DeliveryCase{"EveryReaderTakesASeatPerReader",
                                   [](Json& d) { d["channels"][0]["max_consumers"] = 1; },
                                   "/channels/0/max_consumers",
                                   {"smaller than the 2 nodes", "raise it to at least 2"}},
                      DeliveryCase{"UnknownDelivery",
                                   [](Json& d) { d["nodes"][2]["inputs"][0]["delivery"] = "newest"; },
                                   "/nodes/2/inputs/0/delivery",
                                   {"expected one of", "\"latest\""}},
                      DeliveryCase{"MisspelledKey",
                                   [](Json& d) {
                                       d["nodes"][2]["inputs"][0].erase("delivery");
                                       d["nodes"][2]["inputs"][0]["delivry"] = "latest";
                                   },
                                   "/nodes/2/inputs/0/delivry",
                                   {"unknown key", "did you mean \"delivery\""}},
                      DeliveryCase{"ObjectWithoutAChannel",
                                   [](Json& d) { d["nodes"][2]["inputs"][0].erase("channel"); },
                                   "/nodes/2/inputs/0",
                                   {"channel"}},
                      DeliveryCase{"AnOutputTakesNoDelivery",
                                   [](Json& d) { d["nodes"][0]["outputs"] = Json::parse(R"([{"channel": "cam"}])"); },
                                   "/nodes/0/outputs/0",
                                   {"only inputs take an object"}},
                      DeliveryCase{"UnknownChannelInTheObject",
                                   [](Json& d) { d["nodes"][2]["inputs"][0]["channel"] = "cma"; },
                                   "/nodes/2/inputs/0",
                                   {"no channel 'cma' is declared"}}),
    [](const ::testing::TestParamInfo<DeliveryCase>& param_info) { return std::string(param_info.param.label); });

}  // namespace
}  // namespace dhub::graph
