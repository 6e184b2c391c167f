// SPDX-License-Identifier: Apache-2.0
// parse_graph: the shape of the document, without any plugin.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"
#include "support/temp_dir.hpp"

namespace dhub::graph {
namespace {

using testing::has_issue;
using testing::valid_document;
using Json = nlohmann::json;

struct Parsed {
    std::optional<GraphSpec> spec;
    std::vector<GraphIssue> issues;
};

Parsed parse_text(const std::string& text, const std::filesystem::path& file = "graphs/test.json") {
    Parsed parsed;
    parsed.spec = parse_graph(text, file, parsed.issues);
    return parsed;
}

TEST(ParseGraph_test, ValidDocumentParsesWithoutIssues) {
    const Parsed sut = parse_text(valid_document().dump());
    ASSERT_TRUE(sut.spec.has_value());
    EXPECT_TRUE(sut.issues.empty()) << format_issues(sut.issues, "");
    ASSERT_EQ(sut.spec->channels.size(), 2u);
    ASSERT_EQ(sut.spec->nodes.size(), 4u);
    EXPECT_EQ(sut.spec->name, "test");
    EXPECT_EQ(sut.spec->nodes[1].json_path, "/nodes/1");
    EXPECT_EQ(sut.spec->channels[1].json_path, "/channels/1");
    EXPECT_EQ(sut.spec->nodes[1].params, Json({{"gain", 2.0}}));
}

TEST(ParseGraph_test, AppliesTheDocumentedDefaults) {
    const Parsed sut = parse_text(R"({"schema_version": 1, "channels": [{"name": "c"}],
                                      "nodes": [{"id": "n", "plugin": "p"}]})");
    ASSERT_TRUE(sut.spec.has_value());
    ASSERT_TRUE(sut.issues.empty()) << format_issues(sut.issues, "");
    EXPECT_EQ(sut.spec->name, "test");  // the file stem
    EXPECT_TRUE(sut.spec->plugin_path.empty());
    const ChannelSpec& channel = sut.spec->channels.at(0);
    EXPECT_FALSE(channel.slot_bytes.has_value());
    EXPECT_EQ(channel.slot_count, 8u);
    EXPECT_EQ(channel.ring, shm::RingPolicy::Ring);
    EXPECT_EQ(channel.sync, shm::SyncPolicy::EveryReader);
    EXPECT_EQ(channel.checksum, shm::ChecksumPolicy::None);
    EXPECT_EQ(channel.flex_zone_bytes, 0u);
    EXPECT_EQ(channel.max_consumers, 16u);
    EXPECT_FALSE(channel.schema.has_value());
    const NodeSpec& node = sut.spec->nodes.at(0);
    EXPECT_FALSE(node.component.has_value());
    EXPECT_EQ(node.params, Json::object());
    EXPECT_TRUE(node.inputs.empty());
    EXPECT_TRUE(node.outputs.empty());
    EXPECT_EQ(node.on_error.action, ErrorPolicy::Action::StopNode);
    EXPECT_EQ(node.on_error.max_consecutive, 10u);
}

TEST(ParseGraph_test, ReadsEveryField) {
    const Parsed sut = parse_text(R"({"schema_version": 1, "name": "g", "plugin_path": ["plugins", "/opt/p"],
        "channels": [{"name": "c", "slot_bytes": 100, "slot_count": 4, "ring": "double", "sync": "latest_only",
                      "checksum": "verify", "flex_zone_bytes": 256, "max_consumers": 3, "schema": "s@1"}],
        "nodes": [{"id": "n", "plugin": "p", "component": "x.y.z@2", "params": {"a": [1]}, "inputs": ["c"],
                   "outputs": ["d", "e"], "on_error": {"action": "stop_graph", "max_consecutive": 3}}]})");
    ASSERT_TRUE(sut.spec.has_value());
    ASSERT_TRUE(sut.issues.empty()) << format_issues(sut.issues, "");
    EXPECT_EQ(sut.spec->name, "g");
    EXPECT_EQ(sut.spec->plugin_path, (std::vector<std::filesystem::path>{"graphs/plugins", "/opt/p"}));
    const ChannelSpec& channel = sut.spec->channels.at(0);
    EXPECT_EQ(channel.slot_bytes, 100u);
    EXPECT_EQ(channel.slot_count, 4u);
    EXPECT_EQ(channel.ring, shm::RingPolicy::Double);
    EXPECT_EQ(channel.sync, shm::SyncPolicy::LatestOnly);
    EXPECT_EQ(channel.checksum, shm::ChecksumPolicy::Verify);
    EXPECT_EQ(channel.flex_zone_bytes, 256u);
    EXPECT_EQ(channel.max_consumers, 3u);
    EXPECT_EQ(channel.schema, "s@1");
    const NodeSpec& node = sut.spec->nodes.at(0);
    EXPECT_EQ(node.component, "x.y.z@2");
    ASSERT_EQ(node.inputs.size(), 1u);
    EXPECT_EQ(node.inputs[0].channel, "c");
    EXPECT_EQ(node.inputs[0].port, "");
    EXPECT_EQ(node.inputs[0].json_path, "/nodes/0/inputs/0");
    ASSERT_EQ(node.outputs.size(), 2u);
    EXPECT_EQ(node.outputs[1].channel, "e");
    EXPECT_EQ(node.outputs[1].json_path, "/nodes/0/outputs/1");
    EXPECT_EQ(node.on_error.action, ErrorPolicy::Action::StopGraph);
    EXPECT_EQ(node.on_error.max_consecutive, 3u);
}

TEST(ParseGraph_test, ReadsPortsByName) {
    const Parsed sut = parse_text(R"({"schema_version": 1, "channels": [],
        "nodes": [{"id": "n", "plugin": "p", "inputs": {"camera": "cam0", "detectors": ["d0", "d1"]},
                   "outputs": {"out": "pairs"}}]})");
    ASSERT_TRUE(sut.spec.has_value());
    ASSERT_TRUE(sut.issues.empty()) << format_issues(sut.issues, "");
    const NodeSpec& node = sut.spec->nodes.at(0);
    ASSERT_EQ(node.inputs.size(), 3u);
    EXPECT_EQ(node.inputs[0].port, "camera");
    EXPECT_EQ(node.inputs[0].channel, "cam0");
    EXPECT_EQ(node.inputs[0].json_path, "/nodes/0/inputs/camera");
    EXPECT_EQ(node.inputs[2].port, "detectors");
    EXPECT_EQ(node.inputs[2].channel, "d1");
    EXPECT_EQ(node.inputs[2].json_path, "/nodes/0/inputs/detectors/1");
    ASSERT_EQ(node.outputs.size(), 1u);
    EXPECT_EQ(node.outputs[0].port, "out");
}

TEST(ParseGraph_test, PortsOfTheWrongShapeAreIssuesAtTheirPath) {
    const Parsed sut = parse_text(R"({"schema_version": 1, "channels": [],
        "nodes": [{"id": "n", "plugin": "p", "inputs": {"camera": 3, "more": [true], "": "x"}, "outputs": "pairs"}]})");
    ASSERT_TRUE(sut.spec.has_value());
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/inputs/camera", {"a channel name"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/inputs/more/0", {"a channel name"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/outputs", {"an object from port name to channel name"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/inputs/", {"expected a port name as the key"}));
}

TEST(ParseGraph_test, NameDefaultsToGraphWithoutAFile) {
    const Parsed sut =
        parse_text(R"({"schema_version": 1, "channels": [], "nodes": [{"id": "n", "plugin": "p"}]})", "");
    ASSERT_TRUE(sut.spec.has_value());
    EXPECT_EQ(sut.spec->name, "graph");
}

TEST(ParseGraph_test, AcceptsIntegralNumbersWrittenWithAFraction) {
    Json document = valid_document();
    document["channels"][0]["slot_bytes"] = 8192.0;
    const Parsed sut = parse_text(document.dump());
    ASSERT_TRUE(sut.spec.has_value());
    EXPECT_TRUE(sut.issues.empty()) << format_issues(sut.issues, "");
    EXPECT_EQ(sut.spec->channels[0].slot_bytes, 8192u);
}

struct ShapeCase {
    const char* label;
    void (*edit)(Json&);
    const char* path;
    std::vector<std::string> substrings;
};

class ParseGraphShape_test : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ParseGraphShape_test, ReportsTheProblemAtItsPath) {
    Json document = valid_document();
    GetParam().edit(document);
    const Parsed sut = parse_text(document.dump());
    EXPECT_TRUE(has_issue(sut.issues, GetParam().path, GetParam().substrings));
}

const std::string NODE_KEYS = "known keys: id, plugin, component, params, inputs, outputs, on_error";

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ParseGraphShape_test,
    ::testing::Values(
        ShapeCase{"UnknownTopLevelKey",
                  [](Json& d) { d["nodez"] = 1; },
                  "/nodez",
                  {"unknown key", "known keys: schema_version, name, plugin_path, schemas, channels, nodes, broker",
                   "did you mean \"nodes\"?"}},
        ShapeCase{"UnknownNodeKey",
                  [](Json& d) { d["nodes"][1]["parms"] = Json::object(); },
                  "/nodes/1/parms",
                  {"unknown key; " + NODE_KEYS, "did you mean \"params\"?"}},
        ShapeCase{"UnknownKeyFarFromAnyKnownOne",
                  [](Json& d) { d["nodes"][1]["colour"] = "red"; },
                  "/nodes/1/colour",
                  {"unknown key; " + NODE_KEYS}},
        ShapeCase{"UnknownChannelKey",
                  [](Json& d) { d["channels"][0]["slot_byte"] = 1; },
                  "/channels/0/slot_byte",
                  {"unknown key", "did you mean \"slot_bytes\"?"}},
        ShapeCase{"UnknownOnErrorKey",
                  [](Json& d) {
                      d["nodes"][0]["on_error"] = {{"acton", "continue"}};
                  },
                  "/nodes/0/on_error/acton",
                  {"known keys: action, max_consecutive", "did you mean \"action\"?"}},
        ShapeCase{"KeyWithSlashIsEscaped", [](Json& d) { d["a/b~c"] = 1; }, "/a~1b~0c", {"unknown key"}},
        ShapeCase{"MissingSchemaVersion",
                  [](Json& d) { d.erase("schema_version"); },
                  "",
                  {"missing required key \"schema_version\""}},
        ShapeCase{"NewerSchemaVersion",
                  [](Json& d) { d["schema_version"] = 2; },
                  "/schema_version",
                  {"reads schema_version 1", "found the number 2"}},
        ShapeCase{"SchemaVersionAsString",
                  [](Json& d) { d["schema_version"] = "1"; },
                  "/schema_version",
                  {"found the string \"1\""}},
        ShapeCase{"NameNotAString", [](Json& d) { d["name"] = 5; }, "/name", {"expected a non-empty string"}},
        ShapeCase{"PluginPathNotAnArray",
                  [](Json& d) { d["plugin_path"] = "plugins"; },
                  "/plugin_path",
                  {"expected an array of directory paths", "found the string \"plugins\""}},
        ShapeCase{"PluginPathEntryNotAString",
                  [](Json& d) {
                      d["plugin_path"] = {"a", 3};
                  },
                  "/plugin_path/1",
                  {"expected a directory path", "found the number 3"}},
        ShapeCase{"MissingChannels",
                  [](Json& d) { d.erase("channels"); },
                  "",
                  {"missing required key \"channels\"", "[] for none"}},
        ShapeCase{"ChannelsNotAnArray",
                  [](Json& d) { d["channels"] = Json::object(); },
                  "/channels",
                  {"expected an array of channel objects", "found an empty object"}},
        ShapeCase{"ChannelNotAnObject",
                  [](Json& d) { d["channels"][1] = "scaled"; },
                  "/channels/1",
                  {"expected a channel object", "found the string \"scaled\""}},
        ShapeCase{"MissingChannelName",
                  [](Json& d) { d["channels"][0].erase("name"); },
                  "/channels/0",
                  {"missing required key \"name\"", "1 to 120 letters"}},
        ShapeCase{"ChannelNameWithSlash",
                  [](Json& d) { d["channels"][0]["name"] = "a/b"; },
                  "/channels/0/name",
                  {"expected a channel name of 1 to 120 letters, digits, '_', '-' or '.'", "found the string \"a/b\""}},
        ShapeCase{"ChannelNameTooLong",
                  [](Json& d) { d["channels"][0]["name"] = std::string(121, 'c'); },
                  "/channels/0/name",
                  {"1 to 120"}},
        ShapeCase{"DuplicateChannelName",
                  [](Json& d) { d["channels"][1]["name"] = "frames"; },
                  "/channels/1/name",
                  {"channel 'frames' is already declared at /channels/0", "unique"}},
        ShapeCase{"ZeroSlotBytes",
                  [](Json& d) { d["channels"][0]["slot_bytes"] = 0; },
                  "/channels/0/slot_bytes",
                  {"expected an integer in [1, 2147483648]", "found the number 0"}},
        ShapeCase{"NegativeSlotBytes",
                  [](Json& d) { d["channels"][0]["slot_bytes"] = -8; },
                  "/channels/0/slot_bytes",
                  {"found the number -8"}},
        ShapeCase{"HugeSlotBytes",
                  [](Json& d) { d["channels"][0]["slot_bytes"] = 1e300; },
                  "/channels/0/slot_bytes",
                  {"expected an integer in [1, 2147483648]"}},
        ShapeCase{"FractionalSlotCount",
                  [](Json& d) { d["channels"][0]["slot_count"] = 2.5; },
                  "/channels/0/slot_count",
                  {"expected an integer in [1, 1048576]", "found the number 2.5"}},
        ShapeCase{"SlotCountAsString",
                  [](Json& d) { d["channels"][0]["slot_count"] = "8"; },
                  "/channels/0/slot_count",
                  {"found the string \"8\""}},
        ShapeCase{"TooManyConsumers",
                  [](Json& d) { d["channels"][0]["max_consumers"] = 5000; },
                  "/channels/0/max_consumers",
                  {"expected an integer in [1, 1024]"}},
        ShapeCase{"FlexZoneTooLarge",
                  [](Json& d) { d["channels"][0]["flex_zone_bytes"] = 1ull << 40; },
                  "/channels/0/flex_zone_bytes",
                  {"[0, 1073741824]"}},
        ShapeCase{"MisspelledRing",
                  [](Json& d) { d["channels"][0]["ring"] = "rnig"; },
                  "/channels/0/ring",
                  {"expected one of \"single\", \"double\", \"ring\"", "found the string \"rnig\"",
                   "did you mean \"ring\"?"}},
        ShapeCase{"UnknownSync",
                  [](Json& d) { d["channels"][0]["sync"] = "all"; },
                  "/channels/0/sync",
                  {"\"latest_only\", \"single_reader\", \"every_reader\"", "found the string \"all\""}},
        ShapeCase{"ChecksumAsBoolean",
                  [](Json& d) { d["channels"][0]["checksum"] = true; },
                  "/channels/0/checksum",
                  {"\"none\", \"compute\", \"verify\"", "found true"}},
        ShapeCase{"EmptySchema",
                  [](Json& d) { d["channels"][0]["schema"] = ""; },
                  "/channels/0/schema",
                  {"expected a slot schema id", "found an empty string"}},
        ShapeCase{"MissingNodes", [](Json& d) { d.erase("nodes"); }, "", {"missing required key \"nodes\""}},
        ShapeCase{"NoNodes",
                  [](Json& d) { d["nodes"] = Json::array(); },
                  "/nodes",
                  {"expected at least one node, found an empty array"}},
        ShapeCase{"NodeNotAnObject",
                  [](Json& d) { d["nodes"][2] = Json::array(); },
                  "/nodes/2",
                  {"expected a node object", "found an empty array"}},
        ShapeCase{"MissingNodeId",
                  [](Json& d) { d["nodes"][1].erase("id"); },
                  "/nodes/1",
                  {"missing required key \"id\"", "1 to 64 letters, digits, '_' or '-'"}},
        ShapeCase{"NodeIdWithSpace",
                  [](Json& d) { d["nodes"][1]["id"] = "my node"; },
                  "/nodes/1/id",
                  {"expected a node id of 1 to 64 letters, digits, '_' or '-'", "found the string \"my node\""}},
        ShapeCase{"DuplicateNodeId",
                  [](Json& d) { d["nodes"][3]["id"] = "src"; },
                  "/nodes/3/id",
                  {"node id 'src' is already used by /nodes/0", "unique"}},
        ShapeCase{"MissingPlugin",
                  [](Json& d) { d["nodes"][1].erase("plugin"); },
                  "/nodes/1",
                  {"missing required key \"plugin\"", "dhub-<plugin>.so"}},
        ShapeCase{"PluginWithPath",
                  [](Json& d) { d["nodes"][1]["plugin"] = "../evil"; },
                  "/nodes/1/plugin",
                  {"expected a plugin name", "found the string \"../evil\""}},
        ShapeCase{"ComponentNotAString",
                  [](Json& d) { d["nodes"][1]["component"] = 7; },
                  "/nodes/1/component",
                  {"expected a component id", "found the number 7"}},
        ShapeCase{"ParamsNotAnObject",
                  [](Json& d) { d["nodes"][1]["params"] = Json::array({2.0}); },
                  "/nodes/1/params",
                  {"expected an object of parameter values", "found an array of 1 element"}},
        ShapeCase{"InputsAsAString",
                  [](Json& d) { d["nodes"][1]["inputs"] = "frames"; },
                  "/nodes/1/inputs",
                  {"expected an array of channel names", "found the string \"frames\""}},
        ShapeCase{"InputNotAString",
                  [](Json& d) { d["nodes"][1]["inputs"] = {nullptr}; },
                  "/nodes/1/inputs/0",
                  {"expected a channel name", "found null"}},
        ShapeCase{"OutputEmptyString",
                  [](Json& d) { d["nodes"][0]["outputs"] = {"frames", ""}; },
                  "/nodes/0/outputs/1",
                  {"found an empty string"}},
        ShapeCase{"OnErrorNotAnObject",
                  [](Json& d) { d["nodes"][0]["on_error"] = "stop_node"; },
                  "/nodes/0/on_error",
                  {"expected an object", "found the string \"stop_node\""}},
        ShapeCase{"UnknownOnErrorAction",
                  [](Json& d) { d["nodes"][0]["on_error"] = {{"action", "restart"}}; },
                  "/nodes/0/on_error/action",
                  {"expected one of \"continue\", \"stop_node\", \"stop_graph\"", "found the string \"restart\""}},
        ShapeCase{"ZeroMaxConsecutive",
                  [](Json& d) { d["nodes"][0]["on_error"] = {{"max_consecutive", 0}}; },
                  "/nodes/0/on_error/max_consecutive",
                  {"expected an integer in [1, 4294967295]", "found the number 0"}}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(ParseGraph_test, MalformedJsonGivesLineAndColumn) {
    const Parsed sut = parse_text("{\n  \"schema_version\": 1,\n  \"nodes\": [}\n}");
    EXPECT_FALSE(sut.spec.has_value());
    ASSERT_EQ(sut.issues.size(), 1u);
    EXPECT_EQ(sut.issues[0].json_path, "");
    EXPECT_NE(sut.issues[0].message.find("malformed JSON at line 3, column 13 (3:13, byte 37)"), std::string::npos)
        << sut.issues[0].message;
    EXPECT_NE(sut.issues[0].message.find("unexpected '}'"), std::string::npos) << sut.issues[0].message;
}

TEST(ParseGraph_test, EmptyTextIsMalformed) {
    const Parsed sut = parse_text("");
    EXPECT_FALSE(sut.spec.has_value());
    ASSERT_EQ(sut.issues.size(), 1u);
    EXPECT_NE(sut.issues[0].message.find("malformed JSON at line 1, column 1 (1:1, byte 0)"), std::string::npos)
        << sut.issues[0].message;
}

TEST(ParseGraph_test, TrailingTextIsMalformed) {
    const Parsed sut = parse_text(valid_document().dump() + "\n]");
    EXPECT_FALSE(sut.spec.has_value());
    EXPECT_TRUE(has_issue(sut.issues, "", {"malformed JSON at line 2, column 1 (2:1, "}));
}

TEST(ParseGraph_test, TopLevelArrayIsRefused) {
    const Parsed sut = parse_text("[1, 2]");
    EXPECT_FALSE(sut.spec.has_value());
    EXPECT_TRUE(has_issue(sut.issues, "", {"expected a JSON object", "found an array of 2 elements"}));
}

TEST(ParseGraph_test, DuplicateKeyIsReportedAtItsPath) {
    const Parsed sut = parse_text(R"({"schema_version": 1, "channels": [],
                                      "nodes": [{"id": "a", "plugin": "p", "id": "b"}]})");
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/id", {"duplicate key"}));
}

TEST(ParseGraph_test, DeepNestingIsRefusedWithoutCrashing) {
    constexpr int DEPTH = 100000;
    const std::string text =
        R"({"schema_version": 1, "junk": )" + std::string(DEPTH, '[') + std::string(DEPTH, ']') + "}";
    const Parsed sut = parse_text(text);
    EXPECT_FALSE(sut.spec.has_value());
    ASSERT_FALSE(sut.issues.empty());
    EXPECT_NE(sut.issues[0].message.find("nested deeper than"), std::string::npos) << sut.issues[0].message;
}

TEST(ParseGraph_test, ReportsEveryShapeProblemAtOnce) {
    Json document = valid_document();
    document["schema_version"] = 3;
    document["channels"][0]["ring"] = "circular";
    document["nodes"][0]["id"] = "no spaces";
    document["nodes"][1]["parms"] = Json::object();
    document["nodes"][2]["inputs"] = 5;
    const Parsed sut = parse_text(document.dump());
    EXPECT_EQ(sut.issues.size(), 5u) << format_issues(sut.issues, "");
    EXPECT_TRUE(has_issue(sut.issues, "/schema_version", {"found the number 3"}));
    EXPECT_TRUE(has_issue(sut.issues, "/channels/0/ring", {"circular"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/id", {"no spaces"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/1/parms", {"unknown key"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/2/inputs", {"found the number 5"}));
}

class LoadGraphFile_test : public ::testing::Test {
protected:
    dhub::testing::TempDir scratch_{"dhub-graph-test"};
    const std::filesystem::path& directory_ = scratch_.path();

    std::filesystem::path write(const std::string& name, const std::string& text) {
        const std::filesystem::path file = directory_ / name;
        std::ofstream(file) << text;
        return file;
    }
};

TEST_F(LoadGraphFile_test, ResolvesPluginPathAgainstTheFilesDirectory) {
    Json document = valid_document();
    document.erase("name");
    document["plugin_path"] = {"../plugins", "/abs"};
    const auto file = write("my-graph.json", document.dump());
    std::vector<GraphIssue> issues;
    const auto sut = load_graph_file(file, issues);
    ASSERT_TRUE(sut.has_value());
    EXPECT_TRUE(issues.empty()) << format_issues(issues, file.string());
    EXPECT_EQ(sut->name, "my-graph");
    EXPECT_EQ(sut->source_file, file);
    EXPECT_EQ(sut->plugin_path,
              (std::vector<std::filesystem::path>{(directory_.parent_path() / "plugins").lexically_normal(), "/abs"}));
}

TEST_F(LoadGraphFile_test, MissingFileIsOneIssue) {
    std::vector<GraphIssue> issues;
    const auto sut = load_graph_file(directory_ / "absent.json", issues);
    EXPECT_FALSE(sut.has_value());
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].json_path, "");
    EXPECT_NE(issues[0].message.find("absent.json"), std::string::npos) << issues[0].message;
}

TEST_F(LoadGraphFile_test, DirectoryIsNotAGraphFile) {
    std::vector<GraphIssue> issues;
    const auto sut = load_graph_file(directory_, issues);
    EXPECT_FALSE(sut.has_value());
    EXPECT_TRUE(has_issue(issues, "", {"not a regular file"}));
}

}  // namespace
}  // namespace dhub::graph

namespace dhub::graph {
namespace {

TEST(ParseNodeCpu_test, OptionalCpuPinsTheNodeAndIsRangeChecked) {
    std::vector<GraphIssue> issues;
    const auto pinned = parse_graph(
        R"({"schema_version":1,"channels":[],"nodes":[{"id":"a","plugin":"p","cpu":1},{"id":"b","plugin":"p"}]})", {},
        issues);
    ASSERT_TRUE(pinned.has_value());
    EXPECT_TRUE(issues.empty());
    EXPECT_EQ(pinned->nodes[0].cpu, 1u);
    EXPECT_FALSE(pinned->nodes[1].cpu.has_value());

    issues.clear();
    (void)parse_graph(R"({"schema_version":1,"channels":[],"nodes":[{"id":"a","plugin":"p","cpu":-1}]})", {}, issues);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].json_path, "/nodes/0/cpu");
}

TEST(ParseNodeBurst_test, BurstDefaultsTo32AndIsRangeChecked) {
    std::vector<GraphIssue> issues;
    const auto parsed = parse_graph(
        R"({"schema_version":1,"channels":[],"nodes":[{"id":"a","plugin":"p","burst":1},{"id":"b","plugin":"p"}]})", {},
        issues);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(issues.empty());
    EXPECT_EQ(parsed->nodes[0].burst, 1u);
    EXPECT_EQ(parsed->nodes[1].burst, NodeSpec::DEFAULT_BURST);
    EXPECT_EQ(NodeSpec::DEFAULT_BURST, 32u);

    for (const char* bad : {"0", "4097", "\"many\"", "2.5"}) {
        issues.clear();
        (void)parse_graph(
            std::string(R"({"schema_version":1,"channels":[],"nodes":[{"id":"a","plugin":"p","burst":)") + bad + "}]}",
            {}, issues);
        ASSERT_EQ(issues.size(), 1u) << bad;
        EXPECT_EQ(issues[0].json_path, "/nodes/0/burst") << bad;
    }
}

TEST(ParseNodePacing_test, PacingReadsItsRateAndLatePolicy) {
    std::vector<GraphIssue> issues;
    const auto parsed = parse_graph(R"({"schema_version":1,"channels":[],"nodes":[
        {"id":"a","plugin":"p","pacing":{"rate_hz":250.5}},
        {"id":"b","plugin":"p","pacing":{"rate_hz":1000,"late":"skip"}},
        {"id":"c","plugin":"p"}]})",
                                    {}, issues);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(issues.empty()) << format_issues(issues, "");
    ASSERT_TRUE(parsed->nodes[0].pacing.has_value());
    EXPECT_EQ(parsed->nodes[0].pacing->rate_hz, 250.5);
    EXPECT_EQ(parsed->nodes[0].pacing->late, Pacing::Late::CatchUp);
    EXPECT_EQ(parsed->nodes[1].pacing->late, Pacing::Late::Skip);
    EXPECT_FALSE(parsed->nodes[2].pacing.has_value());
}

TEST(ParseNodePacing_test, EveryMalformedPacingIsAnIssueAtItsPath) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"("pacing":100)", "/nodes/0/pacing"},
        {R"("pacing":{})", "/nodes/0/pacing"},  // rate_hz is required
        {R"("pacing":{"rate_hz":0})", "/nodes/0/pacing/rate_hz"},
        {R"("pacing":{"rate_hz":-5})", "/nodes/0/pacing/rate_hz"},
        {R"("pacing":{"rate_hz":2e6})", "/nodes/0/pacing/rate_hz"},
        {R"("pacing":{"rate_hz":"fast"})", "/nodes/0/pacing/rate_hz"},
        {R"("pacing":{"rate_hz":10,"late":"drop"})", "/nodes/0/pacing/late"},
        {R"("pacing":{"rate_hz":10,"jitter":1})", "/nodes/0/pacing/jitter"},
        {R"("pacing":{"rate_hz":10},"burst":4)", "/nodes/0/burst"},
    };
    for (const auto& [pacing, path] : cases) {
        std::vector<GraphIssue> issues;
        (void)parse_graph(R"({"schema_version":1,"channels":[],"nodes":[{"id":"a","plugin":"p",)" + pacing + "}]}", {},
                          issues);
        ASSERT_EQ(issues.size(), 1u) << pacing << "\n" << format_issues(issues, "");
        EXPECT_EQ(issues[0].json_path, path) << pacing;
    }
}

}  // namespace
}  // namespace dhub::graph
