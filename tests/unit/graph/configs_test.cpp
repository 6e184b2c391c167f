// SPDX-License-Identifier: Apache-2.0
// Every graph shipped in configs/ must at least have the right shape (the plugins are checked when the
// kernel validates them, which needs the built plugins), and every schema in configs/schemas/ must be valid
// and named after its id.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "dhub/schema/schema_json.hpp"

namespace dhub::graph {
namespace {

TEST(Configs_test, EveryShippedGraphParsesWithoutIssues) {
    const std::filesystem::path directory = DHUB_CONFIGS_DIR;
    std::size_t checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        if (entry.path().extension() != ".json") continue;
        SCOPED_TRACE(entry.path().string());
        std::vector<GraphIssue> issues;
        const auto sut = load_graph_file(entry.path(), issues);
        EXPECT_TRUE(sut.has_value());
        EXPECT_TRUE(issues.empty()) << format_issues(issues, entry.path().string());
        ++checked;
    }
    EXPECT_GT(checked, 0u) << "no *.json in " << directory;
}

TEST(Configs_test, EveryShippedSchemaIsValidAndItsFileIsNamedAfterItsId) {
    const std::filesystem::path directory = std::filesystem::path(DHUB_CONFIGS_DIR) / "schemas";
    std::size_t checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        if (entry.path().extension() != ".json") continue;
        SCOPED_TRACE(entry.path().string());
        std::ifstream file(entry.path());
        const auto document = nlohmann::json::parse(file, nullptr, false);
        std::vector<schema::Problem> problems;
        const auto parsed = schema::parse_schema(document, "", problems);
        ASSERT_TRUE(parsed.has_value()) << (problems.empty() ? "not JSON"
                                                             : problems[0].json_path + ": " + problems[0].message);
        EXPECT_EQ(entry.path().filename().string(), parsed->id() + ".json");
        ++checked;
    }
    EXPECT_GT(checked, 0u) << "no *.json in " << directory;
}

}  // namespace
}  // namespace dhub::graph
