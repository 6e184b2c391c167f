// SPDX-License-Identifier: Apache-2.0
// "isolation" and an isolated node's supervision keys: defaults, the graph-wide default and the node's own,
// every key read, and each malformed value an issue at its path; the warning for a plugin from outside dhub in
// the kernel's process.
#include <algorithm>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::has_issue;
using Json = nlohmann::json;

struct Parsed {
    std::optional<GraphSpec> spec;
    std::vector<GraphIssue> issues;
};

Parsed parse_nodes(Json nodes, Json top = Json::object()) {
    Json document = {{"schema_version", 1}, {"channels", {{{"name", "c"}}}}, {"nodes", std::move(nodes)}};
    document.update(top);
    Parsed parsed;
    parsed.spec = parse_graph(document.dump(), "graphs/test.json", parsed.issues);
    return parsed;
}

TEST(IsolationParse_test, ThreadIsTheDefaultAndSupervisionHasOtpLikeDefaults) {
    const Parsed sut = parse_nodes({{{"id", "n"}, {"plugin", "p"}}});
    ASSERT_TRUE(sut.spec && sut.issues.empty()) << format_issues(sut.issues, "");
    const NodeSpec& node = sut.spec->nodes[0];
    EXPECT_EQ(node.isolation, Isolation::Thread);
    EXPECT_FALSE(node.supervision_given);
    EXPECT_EQ(node.supervision.restart, Supervision::Restart::Transient);
    EXPECT_EQ(node.supervision.max_restarts, 3u);
    EXPECT_EQ(node.supervision.restart_period_s, 5u);
    EXPECT_EQ(node.supervision.watchdog_ms, 5000u);
    EXPECT_FALSE(node.supervision.memory_mb);
}

TEST(IsolationParse_test, GraphDefaultAppliesAndTheNodesOwnSettingWins) {
    const Parsed sut =
        parse_nodes({{{"id", "a"}, {"plugin", "p"}}, {{"id", "b"}, {"plugin", "p"}, {"isolation", "thread"}}},
                    {{"isolation", "process"}});
    ASSERT_TRUE(sut.spec && sut.issues.empty()) << format_issues(sut.issues, "");
    EXPECT_EQ(sut.spec->nodes[0].isolation, Isolation::Process);
    EXPECT_EQ(sut.spec->nodes[1].isolation, Isolation::Thread);
}

TEST(IsolationParse_test, APythonNodeRunsInAProcessOfItsOwnUnlessItSaysThread) {
    // The GIL and the interpreter stay out of the kernel's process, whatever the graph's default; the node's own
    // "isolation" still wins.
    const Parsed sut = parse_nodes({{{"id", "py"}, {"plugin", "python"}, {"watchdog_ms", 1000}},
                                    {{"id", "embedded"}, {"plugin", "python"}, {"isolation", "thread"}},
                                    {{"id", "other"}, {"plugin", "p"}}},
                                   {{"isolation", "thread"}});
    ASSERT_TRUE(sut.spec && sut.issues.empty()) << format_issues(sut.issues, "");
    EXPECT_EQ(sut.spec->nodes[0].isolation, Isolation::Process);
    EXPECT_EQ(sut.spec->nodes[1].isolation, Isolation::Thread);
    EXPECT_EQ(sut.spec->nodes[2].isolation, Isolation::Thread);
}

TEST(IsolationParse_test, APythonNodeIsFusedOnlyWhenItSaysSoAndOthersUnlessTheySayNot) {
    // Python keeps a thread state per thread: run on its upstream node's thread, a stage would make one per call.
    const Parsed sut = parse_nodes({{{"id", "py"}, {"plugin", "python"}, {"isolation", "thread"}},
                                    {{"id", "py_fused"}, {"plugin", "python"}, {"isolation", "thread"}, {"fuse", true}},
                                    {{"id", "other"}, {"plugin", "p"}},
                                    {{"id", "apart"}, {"plugin", "p"}, {"fuse", false}}});
    ASSERT_TRUE(sut.spec && sut.issues.empty()) << format_issues(sut.issues, "");
    EXPECT_FALSE(sut.spec->nodes[0].fuse);
    EXPECT_TRUE(sut.spec->nodes[1].fuse);
    EXPECT_TRUE(sut.spec->nodes[2].fuse);
    EXPECT_FALSE(sut.spec->nodes[3].fuse);
}

TEST(IsolationParse_test, ReadsEverySupervisionKey) {
    const Parsed sut = parse_nodes({{{"id", "n"},
                                     {"plugin", "p"},
                                     {"isolation", "process"},
                                     {"restart", "permanent"},
                                     {"max_restarts", 10},
                                     {"restart_period_s", 30},
                                     {"watchdog_ms", 0},
                                     {"limits", {{"memory_mb", 512}, {"cpus", {2, 3}}, {"nice", -5}}}}});
    ASSERT_TRUE(sut.spec && sut.issues.empty()) << format_issues(sut.issues, "");
    const NodeSpec& node = sut.spec->nodes[0];
    EXPECT_TRUE(node.supervision_given);
    EXPECT_EQ(node.supervision.restart, Supervision::Restart::Permanent);
    EXPECT_EQ(node.supervision.max_restarts, 10u);
    EXPECT_EQ(node.supervision.restart_period_s, 30u);
    EXPECT_EQ(node.supervision.watchdog_ms, 0u);
    EXPECT_EQ(node.supervision.memory_mb, 512u);
    EXPECT_EQ(node.supervision.cpus, (std::vector<std::uint32_t>{2, 3}));
    EXPECT_EQ(node.supervision.nice, -5);
}

TEST(IsolationParse_test, MalformedValuesAreIssuesAtTheirPaths) {
    const Parsed sut = parse_nodes({{{"id", "n"},
                                     {"plugin", "p"},
                                     {"isolation", "container"},
                                     {"restart", "sometimes"},
                                     {"max_restarts", -1},
                                     {"restart_period_s", 0},
                                     {"watchdog_ms", 50},
                                     {"limits", {{"memory_mb", 1}, {"cpus", {"two"}}, {"nice", 30}, {"disk", 1}}}}},
                                   {{"isolation", 3}});
    ASSERT_TRUE(sut.spec);
    EXPECT_TRUE(has_issue(sut.issues, "/isolation", {"expected one of", "thread", "process"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/isolation", {"container"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/restart", {"permanent", "transient", "temporary"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/max_restarts", {}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/restart_period_s", {}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/watchdog_ms", {"at least 100 ms", "50"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/limits/memory_mb", {}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/limits/cpus/0", {}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/limits/nice", {"-20 to 19", "30"}));
    EXPECT_TRUE(has_issue(sut.issues, "/nodes/0/limits/disk", {}));
}

TEST(IsolationParse_test, BuiltinPluginsAreExactlyThePluginsTreesOwn) {
    std::vector<std::string> built;
    std::istringstream names(DHUB_BUILTIN_PLUGIN_NAMES);
    for (std::string name; std::getline(names, name, ',');)
        built.push_back(name);
    ASSERT_FALSE(built.empty());
    for (const std::string& name : built)
        EXPECT_TRUE(is_builtin_plugin(name)) << name << " is built from plugins/ but is_builtin_plugin says no";
    for (const char* other : {"test_crash", "bench_scale", "my_camera", ""})
        EXPECT_FALSE(is_builtin_plugin(other)) << other;
}

}  // namespace
}  // namespace dhub::graph
