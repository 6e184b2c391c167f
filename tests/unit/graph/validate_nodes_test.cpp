// SPDX-License-Identifier: Apache-2.0
// validate_graph, node by node: plugins, components, parameters and ports.
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

struct NodeCase {
    const char* label;
    void (*edit)(Json&);
    const char* path;
    std::vector<std::string> substrings;
};

class ValidateNodes_test : public ::testing::TestWithParam<NodeCase> {};

TEST_P(ValidateNodes_test, ReportsTheProblemAtItsPath) {
    Json document = valid_document();
    GetParam().edit(document);
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, GetParam().path, GetParam().substrings));
}

TEST(ValidateNodes, APluginWithOneComponentPerRoleNeedsNoComponentTheWiringSaysWhichOne) {
    Json document = valid_document();
    document["nodes"][0]["plugin"] = "roles";  // outputs only: the source
    document["nodes"][1].erase("params");
    document["nodes"][1]["plugin"] = "roles";  // inputs and outputs: the stage
    document["nodes"][2]["plugin"] = "roles";  // inputs only: the sink
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    ASSERT_EQ(sut->graph.nodes.size(), 4u);
    EXPECT_EQ(sut->graph.nodes[0].component.id, "test.source.role");
    EXPECT_EQ(sut->graph.nodes[1].component.id, "test.stage.role");
    EXPECT_EQ(sut->graph.nodes[2].component.id, "test.sink.role");
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ValidateNodes_test,
    ::testing::Values(
        NodeCase{"PluginNotFound",
                 [](Json& d) { d["nodes"][2]["plugin"] = "nosuch"; },
                 "/nodes/2/plugin",
                 {"plugin 'nosuch' could not be loaded", "no dhub-nosuch.so in the plugin path"}},
        NodeCase{"PluginFailsToLoad",
                 [](Json& d) { d["nodes"][2]["plugin"] = "broken"; },
                 "/nodes/2/plugin",
                 {"plugin 'broken' could not be loaded: ", testing::BROKEN_PLUGIN_MESSAGE}},
        NodeCase{"UnknownComponent",
                 [](Json& d) { d["nodes"][2]["component"] = "test.sink.nay"; },
                 "/nodes/2/component",
                 {"plugin 'sink' has no component 'test.sink.nay'", "it provides \"test.sink.any\"",
                  "did you mean \"test.sink.any\"?"}},
        NodeCase{"AmbiguousComponent",
                 [](Json& d) { d["nodes"][2]["plugin"] = "multi"; },
                 "/nodes/2",
                 {"plugin 'multi' has 2 components", "add \"component\"", "\"test.sink.a\", \"test.sink.b\""}},
        NodeCase{"PinnedVersionNotProvided",
                 [](Json& d) {
                     d["nodes"][2]["plugin"] = "versions";
                     d["nodes"][2]["component"] = "test.sink.versioned@3";
                 },
                 "/nodes/2/component",
                 {"provides test.sink.versioned in version 1, 2, not 3"}},
        NodeCase{"UnknownParameter",
                 [](Json& d) { d["nodes"][1]["params"]["gian"] = 1; },
                 "/nodes/1/params/gian",
                 {"unknown parameter of component test.stage.pass (stage)", "declared parameters: gain",
                  "did you mean \"gain\"?"}},
        NodeCase{"PacingOnAStage",
                 [](Json& d) {
                     d["nodes"][1]["pacing"] = {{"rate_hz", 100}};
                 },
                 "/nodes/1/pacing",
                 {"\"pacing\" sets the rate of a source's calls; component test.stage.pass (stage) is called when "
                  "its input has a slot"}},
        NodeCase{"PacingOnAQueueModeSource",
                 [](Json& d) {
                     d["nodes"][0]["plugin"] = "queue_source";
                     d["nodes"][0]["pacing"] = {{"rate_hz", 100}};
                 },
                 "/nodes/0/pacing",
                 {"component test.source.queue (source) is a queue-mode source", "pace it inside (sleep_until)"}},
        NodeCase{"ParameterOfAComponentWithoutAny",
                 [](Json& d) {
                     d["nodes"][3]["params"] = {{"level", 1}};
                 },
                 "/nodes/3/params/level",
                 {"component test.validator.check (validator) takes no parameters"}},
        NodeCase{"ParameterOfWrongType",
                 [](Json& d) { d["nodes"][1]["params"]["gain"] = "2"; },
                 "/nodes/1/params/gain",
                 {"invalid value for parameter 'gain' of component test.stage.pass (stage)",
                  "expected a number in [0.0, 10.0], found \"2\""}},
        NodeCase{"ParameterOutOfRange",
                 [](Json& d) { d["nodes"][0]["params"]["rate_hz"] = 5000; },
                 "/nodes/0/params/rate_hz",
                 {"expected a number in [1.0, 1000.0], found 5000"}},
        NodeCase{"ParameterNotInEnum",
                 [](Json& d) { d["nodes"][0]["params"]["shape"] = "saw"; },
                 "/nodes/0/params/shape",
                 {"expected one of sine, square, found \"saw\""}},
        NodeCase{"MissingRequiredParameter",
                 [](Json& d) { d["nodes"][1]["params"].erase("gain"); },
                 "/nodes/1/params",
                 {"missing required parameter 'gain' of component test.stage.pass (stage)",
                  "number in [0.0, 10.0]: multiplies every sample", "add \"gain\": <value>"}},
        NodeCase{
            "SinkWithoutInput",
            [](Json& d) { d["nodes"][2].erase("inputs"); },
            "/nodes/2/inputs",
            {"component test.sink.any (sink) takes 1 input, found 0", "list exactly 1 channel name in \"inputs\""}},
        NodeCase{"SourceWithAnInput",
                 [](Json& d) { d["nodes"][0]["inputs"] = {"scaled"}; },
                 "/nodes/0/inputs",
                 {"component test.source.frames (source) takes 0 inputs, found 1", "remove \"inputs\""}},
        NodeCase{"StageWithTwoOutputs",
                 [](Json& d) {
                     d["nodes"][1]["outputs"] = {"scaled", "frames"};
                 },
                 "/nodes/1/outputs",
                 {"component test.stage.pass (stage) takes 1 output, found 2"}},
        NodeCase{"ValidatorWithAnOutput",
                 [](Json& d) { d["nodes"][3]["outputs"] = {"scaled"}; },
                 "/nodes/3/outputs",
                 {"component test.validator.check (validator) takes 0 outputs, found 1"}},
        NodeCase{"TransportWithTwoInputs",
                 [](Json& d) {
                     d["nodes"].push_back({{"id", "t"}, {"plugin", "relay"}, {"inputs", {"frames", "scaled"}}});
                 },
                 "/nodes/4/inputs",
                 {"component test.transport.relay (transport) takes 0 or 1 inputs, found 2"}}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(ValidateNodes_test, AppliesParameterDefaults) {
    FakePlugins plugins;
    const auto sut = check_document(valid_document(), plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    ASSERT_EQ(sut->graph.nodes.size(), 4u);
    EXPECT_EQ(sut->graph.nodes[0].params, Json({{"rate_hz", 100}, {"shape", "sine"}}));
    EXPECT_EQ(sut->graph.nodes[1].params, Json({{"gain", 2.0}}));
    EXPECT_EQ(sut->graph.nodes[2].params, Json({{"path", "out.dhr"}}));
    EXPECT_EQ(sut->graph.nodes[3].params, Json::object());
}

TEST(ValidateNodes_test, KeepsGivenParameterValues) {
    Json document = valid_document();
    document["nodes"][0]["params"] = {{"rate_hz", 250}};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.nodes[0].params, Json({{"rate_hz", 250}, {"shape", "sine"}}));
}

TEST(ValidateNodes_test, ResolvesEachNodesComponent) {
    FakePlugins plugins;
    const auto sut = check_document(valid_document(), plugins);
    ASSERT_EQ(sut->graph.nodes.size(), 4u);
    EXPECT_EQ(sut->graph.nodes[1].component.id, "test.stage.pass");
    EXPECT_EQ(sut->graph.nodes[1].spec, &sut->spec->nodes[1]);
    EXPECT_EQ(sut->graph.spec, &*sut->spec);
}

TEST(ValidateNodes_test, LooksUpEachPluginOnce) {
    Json document = valid_document();
    document["channels"].push_back({{"name", "more"}, {"slot_bytes", 128}});
    document["nodes"].push_back({{"id", "src2"}, {"plugin", "frames"}, {"outputs", {"more"}}});
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(plugins.lookups("frames"), 1);
}

TEST(ValidateNodes_test, ReportsAFailedPluginOnceAtTheFirstNodeUsingIt) {
    Json document = valid_document();
    document["nodes"][2]["plugin"] = "broken";
    document["nodes"][3]["plugin"] = "broken";
    document["nodes"][3]["params"] = {{"whatever", 1}};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_EQ(sut->issues.size(), 1u) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->issues[0].json_path, "/nodes/2/plugin");
    EXPECT_EQ(plugins.lookups("broken"), 1);
}

TEST(ValidateNodes_test, PicksTheNewestVersionUnlessPinned) {
    Json document = valid_document();
    document["nodes"][2]["plugin"] = "versions";
    FakePlugins plugins;
    const auto newest = check_document(document, plugins);
    ASSERT_TRUE(newest->issues.empty()) << format_issues(newest->issues, "");
    EXPECT_EQ(newest->graph.nodes[2].component.version, 2u);

    document["nodes"][2]["component"] = "test.sink.versioned@1";
    const auto pinned = check_document(document, plugins);
    ASSERT_TRUE(pinned->issues.empty()) << format_issues(pinned->issues, "");
    EXPECT_EQ(pinned->graph.nodes[2].component.version, 1u);
}

TEST(ValidateNodes_test, NamedComponentOfAMultiComponentPlugin) {
    Json document = valid_document();
    document["nodes"][2]["plugin"] = "multi";
    document["nodes"][2]["component"] = "test.sink.b";
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.nodes[2].component.id, "test.sink.b");
}

TEST(ValidateNodes_test, TransportMayHaveNoPorts) {
    Json document = valid_document();
    document["nodes"].push_back({{"id", "t"}, {"plugin", "relay"}});
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
}

TEST(ValidateNodes_test, LookupThatThrowsBecomesAnIssue) {
    std::vector<GraphIssue> issues;
    const auto spec = parse_graph(valid_document().dump(), "", issues);
    ASSERT_TRUE(spec.has_value());
    const ComponentLookup sut = [](const std::string&) -> Result<std::vector<plugin::ComponentInfo>> {
        throw std::runtime_error("boom");
    };
    const ValidatedGraph graph = validate_graph(*spec, sut, issues);
    EXPECT_TRUE(has_issue(issues, "/nodes/0/plugin", {"could not be loaded", "boom"}));
    EXPECT_EQ(graph.nodes.size(), 4u);
}

}  // namespace
}  // namespace dhub::graph
