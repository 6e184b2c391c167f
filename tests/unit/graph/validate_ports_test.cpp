// SPDX-License-Identifier: Apache-2.0
// validate_graph and SDK 1.2 ports: the map form, "many" ports, required and optional ports, per-port
// schemas and slot sizes, and the host-API order of the bound channels.
#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::check_document;
using testing::FakePlugins;
using testing::has_issue;
using Json = nlohmann::json;

/// cam and det feed the correlator "pair"; its output goes to a sink; the fan copies cam to two channels.
Json ports_document() {
    return Json::parse(R"({
        "schema_version": 1,
        "name": "ports",
        "channels": [
            {"name": "cam", "slot_bytes": 4096, "schema": "test.frame@1"},
            {"name": "det", "slot_bytes": 4096, "schema": "test.frame@1"},
            {"name": "pairs", "slot_bytes": 8192},
            {"name": "copy_a", "slot_bytes": 4096},
            {"name": "copy_b", "slot_bytes": 4096}
        ],
        "nodes": [
            {"id": "camera", "plugin": "frames", "outputs": ["cam"]},
            {"id": "detector", "plugin": "free", "outputs": ["det"]},
            {"id": "pair", "plugin": "pair", "inputs": {"detector": "det", "camera": "cam"}, "outputs": {"out": "pairs"}},
            {"id": "sink", "plugin": "sink", "inputs": ["pairs"]},
            {"id": "fan", "plugin": "fan", "inputs": ["cam"], "outputs": {"out": ["copy_b", "copy_a"]}},
            {"id": "sink_a", "plugin": "sink", "inputs": ["copy_a"]},
            {"id": "sink_b", "plugin": "sink", "inputs": ["copy_b"]}
        ]
    })");
}

TEST(ValidatePorts_test, TheMapFormBindsChannelsInTheComponentsPortOrder) {
    FakePlugins plugins;
    const auto sut = check_document(ports_document(), plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    const ValidatedNode& pair = sut->graph.nodes.at(2);
    // Declared order camera, detector, whatever the order of the document's keys.
    ASSERT_EQ(pair.inputs.size(), 2u);
    EXPECT_EQ(pair.inputs[0].channel, "cam");
    EXPECT_EQ(pair.component.ports[pair.inputs[0].port].name, "camera");
    EXPECT_EQ(pair.inputs[1].channel, "det");
    EXPECT_EQ(pair.inputs[1].json_path, "/nodes/2/inputs/detector");
    // The optional "unmatched" output is unwired: no index.
    ASSERT_EQ(pair.outputs.size(), 1u);
    EXPECT_EQ(pair.outputs[0].channel, "pairs");
}

TEST(ValidatePorts_test, AManyPortKeepsTheGraphsOrder) {
    FakePlugins plugins;
    const auto sut = check_document(ports_document(), plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    const ValidatedNode& fan = sut->graph.nodes.at(4);
    ASSERT_EQ(fan.outputs.size(), 2u);
    EXPECT_EQ(fan.outputs[0].channel, "copy_b");
    EXPECT_EQ(fan.outputs[1].channel, "copy_a");
    EXPECT_EQ(fan.outputs[1].json_path, "/nodes/4/outputs/out/1");
}

TEST(ValidatePorts_test, AManyPortTakesTheListForm) {
    Json document = ports_document();
    document["nodes"][4]["outputs"] = {"copy_a", "copy_b"};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.nodes.at(4).outputs.size(), 2u);
}

struct PortCase {
    const char* label;
    void (*edit)(Json&);
    const char* path;
    std::vector<std::string> substrings;
};

class ValidatePortProblems_test : public ::testing::TestWithParam<PortCase> {};

TEST_P(ValidatePortProblems_test, ReportsTheProblemAtItsPath) {
    Json document = ports_document();
    GetParam().edit(document);
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, GetParam().path, GetParam().substrings));
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ValidatePortProblems_test,
    ::testing::Values(PortCase{"UnknownPort",
                               [](Json& d) {
                                   d["nodes"][2]["inputs"] = {{"camera", "cam"}, {"detecter", "det"}};
                               },
                               "/nodes/2/inputs/detecter",
                               {"component test.stage.pair (stage) has no input port 'detecter'", "camera, detector",
                                "did you mean \"detector\""}},
                      PortCase{"RequiredPortUnwired",
                               [](Json& d) {
                                   d["nodes"][2]["inputs"] = {{"camera", "cam"}};
                               },
                               "/nodes/2/inputs",
                               {"needs its input port 'detector'", "add \"detector\": \"<channel>\""}},
                      PortCase{"ListFormForSeveralPorts",
                               [](Json& d) {
                                   d["nodes"][2]["inputs"] = {"cam", "det"};
                               },
                               "/nodes/2/inputs",
                               {"has 2 input ports",
                                "\"inputs\": {\"camera\": \"<channel>\", \"detector\": \"<channel>\"}"}},
                      PortCase{"SeveralChannelsOnASinglePort",
                               [](Json& d) {
                                   d["nodes"][2]["inputs"]["camera"] = {"cam", "det"};
                               },
                               "/nodes/2/inputs/camera",
                               {"input port 'camera' (test.frame@1)", "takes one channel, found 2"}},
                      PortCase{"PortSchemaMismatch",
                               [](Json& d) {
                                   d["channels"][1].erase("schema");
                                   d["nodes"][1]["plugin"] = "thermo2";
                                   d["nodes"][2]["inputs"] = {{"camera", "det"}, {"detector", "cam"}};
                               },
                               "/nodes/2/inputs/camera",
                               {"channel 'det' carries lab.thermo@2", "expects test.frame@1"}},
                      PortCase{"PortSlotTooSmall",
                               [](Json& d) { d["channels"][2]["slot_bytes"] = 100; },
                               "/channels/2/slot_bytes",
                               {"smaller than the 8192 bytes its producer"}},
                      PortCase{"UnknownChannelOnANamedPort",
                               [](Json& d) { d["nodes"][2]["inputs"]["detector"] = "dett"; },
                               "/nodes/2/inputs/detector",
                               {"no channel 'dett' is declared"}},
                      PortCase{"OneChannelTwiceOnOneNodesInputs",
                               [](Json& d) {
                                   d["nodes"][2]["inputs"] = {{"camera", "cam"}, {"detector", "cam"}};
                               },
                               "/nodes/2/inputs/detector",
                               {"node 'pair' reads channel 'cam' twice (also at /nodes/2/inputs/camera)"}},
                      PortCase{"OneChannelTwiceOnAManyOutput",
                               [](Json& d) {
                                   d["nodes"][4]["outputs"]["out"] = {"copy_a", "copy_a"};
                               },
                               "/nodes/4/outputs/out/1",
                               {"node 'fan' writes channel 'copy_a' twice", "dhub.stage.tee"}},
                      PortCase{"AnEmptyMapLeavesTheRequiredPortsUnbound",
                               [](Json& d) { d["nodes"][2]["inputs"] = Json::object(); },
                               "/nodes/2/inputs",
                               {"needs its input port 'camera'"}},
                      PortCase{"OutputPortUnknown",
                               [](Json& d) {
                                   d["nodes"][2]["outputs"] = {{"result", "pairs"}};
                               },
                               "/nodes/2/outputs/result",
                               {"has no output port 'result'", "out, unmatched"}}),
    [](const ::testing::TestParamInfo<PortCase>& param_info) { return std::string(param_info.param.label); });

TEST(ValidatePorts_test, EveryPortProblemOfADocumentIsReportedInOneRun) {
    Json document = ports_document();
    document["nodes"][2]["inputs"] = {{"camra", "cam"}};
    document["nodes"][2]["outputs"] = {{"out", "pairs"}, {"spare", "copy_a"}};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/inputs/camra", {"no input port 'camra'"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/inputs", {"needs its input port 'camera'"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/inputs", {"needs its input port 'detector'"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/outputs/spare", {"no output port 'spare'"}));
}

}  // namespace
}  // namespace dhub::graph
