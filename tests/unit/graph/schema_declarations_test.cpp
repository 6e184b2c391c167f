// SPDX-License-Identifier: Apache-2.0
// The graph's "schemas": typed schemas inline and by file, their problems at their paths, and what
// validation does with them (slot sizes, the evolution rule along an edge, the descriptor of a channel).
#include <gtest/gtest.h>

#include <fstream>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"
#include "support/temp_dir.hpp"

namespace dhub::graph {
namespace {

using testing::check_document;
using testing::FakePlugins;
using testing::has_issue;
using Json = nlohmann::json;

Json thermo(int version, bool appended_humidity = false) {
    Json schema = {{"name", "lab.thermo"},
                   {"version", version},
                   {"fields", {{{"name", "t_ns"}, {"dtype", "<u8"}}, {{"name", "celsius"}, {"dtype", "<f8"}}}}};
    if (appended_humidity) schema["fields"].push_back({{"name", "humidity"}, {"dtype", "<f4"}});
    return schema;
}

/// thermo2 (writes lab.thermo@2) -> "readings" -> thermo1 (expects lab.thermo@1).
Json evolution_document(const Json& schemas) {
    Json document = {{"schema_version", 1},
                     {"channels", {{{"name", "readings"}, {"slot_bytes", 64}}}},
                     {"nodes",
                      {{{"id", "box"}, {"plugin", "thermo2"}, {"outputs", {"readings"}}},
                       {{"id", "log"}, {"plugin", "thermo1"}, {"inputs", {"readings"}}}}}};
    if (!schemas.is_null()) document["schemas"] = schemas;
    return document;
}

std::vector<GraphIssue> parse_issues(const Json& document, const std::filesystem::path& file = "test.json") {
    std::vector<GraphIssue> issues;
    (void)parse_graph(document.dump(), file, issues);
    return issues;
}

TEST(GraphSchemas, AnInlineSchemaTypesTheChannelThatCarriesIt) {
    Json document = evolution_document({thermo(1), thermo(2, true)});
    document["channels"][0]["schema"] = "lab.thermo@2";
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    ASSERT_TRUE(sut->graph.channels[0].descriptor.has_value());
    EXPECT_EQ(sut->graph.channels[0].descriptor->id(), "lab.thermo@2");
    EXPECT_EQ(sut->graph.channels[0].descriptor->size, 24u);  // 8 + 8 + 4, rounded up to the alignment 8
    EXPECT_EQ(sut->graph.channels[0].descriptor->fields[2].name, "humidity");

    FakePlugins more_plugins;
    const auto opaque = check_document(testing::valid_document(), more_plugins);
    EXPECT_FALSE(opaque->graph.channels[0].descriptor.has_value()) << "test.frame@1 is an opaque id";
}

TEST(GraphSchemas, ASchemaFileIsReadRelativeToTheGraphFile) {
    dhub::testing::TempDir dir;
    std::filesystem::create_directories(dir / "schemas");
    std::ofstream(dir / "schemas" / "thermo.json") << thermo(1).dump(2);
    Json document = testing::valid_document();
    document["schemas"] = {"schemas/thermo.json"};
    document["channels"][1]["schema"] = "lab.thermo@1";
    std::ofstream(dir / "graph.json") << document.dump(2);
    std::vector<GraphIssue> issues;
    const auto spec = load_graph_file(dir / "graph.json", issues);
    ASSERT_TRUE(spec.has_value());
    EXPECT_TRUE(issues.empty()) << format_issues(issues, "");
    ASSERT_EQ(spec->schemas.size(), 1u);
    EXPECT_EQ(spec->schemas[0].id(), "lab.thermo@1");
}

TEST(GraphSchemas, EveryProblemOfAnInlineSchemaIsAtItsPathInTheGraph) {
    Json broken = thermo(1);
    broken["fields"][1]["dtype"] = "double";
    broken["version"] = "one";
    Json document = testing::valid_document();
    document["schemas"] = {thermo(2), broken, 42};
    const auto issues = parse_issues(document);
    EXPECT_TRUE(has_issue(issues, "/schemas/1/fields/1/dtype", {"dtype \"double\""}));
    EXPECT_TRUE(has_issue(issues, "/schemas/1/version", {"expected an integer"}));
    EXPECT_TRUE(has_issue(issues, "/schemas/2", {"expected a schema object or the path of a schema file"}));
    EXPECT_EQ(issues.size(), 3u) << format_issues(issues, "");
}

TEST(GraphSchemas, AFilesProblemsNameTheFileAndThePathInsideIt) {
    dhub::testing::TempDir dir;
    Json broken = thermo(1);
    broken["fields"][0]["offset"] = 3;
    std::ofstream(dir / "broken.json") << broken.dump(2);
    std::ofstream(dir / "syntax.json") << R"({"name": "x", "version": 1,)";
    Json document = testing::valid_document();
    document["schemas"] = {"broken.json", "missing.json", "syntax.json"};
    const auto issues = parse_issues(document, dir / "graph.json");
    EXPECT_TRUE(has_issue(issues, "/schemas/0", {"broken.json' at /fields/0/offset", "not a multiple of 8"}));
    EXPECT_TRUE(has_issue(issues, "/schemas/1", {"cannot read schema file", "missing.json"}));
    EXPECT_TRUE(has_issue(issues, "/schemas/2", {"syntax.json'"}));
}

TEST(GraphSchemas, OneIdWithTwoContentsIsRefusedButTheSameSchemaTwiceIsNot) {
    Json document = testing::valid_document();
    Json changed = thermo(1);
    changed["fields"][1]["dtype"] = "<f4";
    document["schemas"] = {thermo(1), thermo(1), changed};
    const auto issues = parse_issues(document);
    EXPECT_TRUE(
        has_issue(issues, "/schemas/2",
                  {"lab.thermo@1 is declared again with other content", "first at /schemas/0", "needs a new version"}));
    EXPECT_EQ(issues.size(), 1u) << format_issues(issues, "");
}

TEST(GraphSchemas, ASlotSmallerThanTheSchemaIsAnIssueAtSlotBytes) {
    Json document = evolution_document({thermo(1), thermo(2, true)});
    document["channels"][0]["slot_bytes"] = 16;
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/channels/0/slot_bytes",
                          {"slot_bytes 16 is smaller than the 24 bytes of schema lab.thermo@2", "at least 24"}));
}

TEST(GraphSchemas, AReaderOfVersionOneReadsVersionTwoThatOnlyAppended) {
    FakePlugins plugins;
    const auto sut = check_document(evolution_document({thermo(1), thermo(2, true)}), plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    ASSERT_TRUE(sut->graph.channels[0].descriptor.has_value());
    EXPECT_EQ(sut->graph.channels[0].descriptor->id(), "lab.thermo@2");
}

TEST(GraphSchemas, AnIncompatibleNewerVersionIsRefusedNamingTheFirstDifferentField) {
    Json retyped = thermo(2);
    retyped["fields"][1]["dtype"] = "<f4";
    FakePlugins plugins;
    const auto sut = check_document(evolution_document({thermo(1), retyped}), plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/1/inputs/0",
                          {"carries lab.thermo@2", "expects lab.thermo@1",
                           "field 1 is \"celsius\" <f4 at 8 instead of \"celsius\" <f8 at 8"}));
}

TEST(GraphSchemas, UndeclaredVersionsOfOneNameAreAMismatchThatSaysHowToAllowEvolution) {
    FakePlugins plugins;
    const auto sut = check_document(evolution_document(nullptr), plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/1/inputs/0",
                          {"carries lab.thermo@2", "declare both versions (in \"schemas\", or by the plugins)"}));
}

}  // namespace
}  // namespace dhub::graph
