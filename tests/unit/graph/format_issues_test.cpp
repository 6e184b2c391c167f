// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph {
namespace {

TEST(FormatIssues_test, OneLinePerIssueWithFileAndPath) {
    const std::vector<GraphIssue> issues = {{"/nodes/0/id", "bad id"}};
    EXPECT_EQ(format_issues(issues, "g.json"), "g.json:/nodes/0/id: bad id\n");
}

TEST(FormatIssues_test, OmitsAnEmptyFileOrPath) {
    const std::vector<GraphIssue> issues = {{"", "malformed"}, {"/nodes", "empty"}};
    EXPECT_EQ(format_issues(issues, ""), "malformed\n/nodes: empty\n");
    EXPECT_EQ(format_issues(issues, "g.json"), "g.json: malformed\ng.json:/nodes: empty\n");
}

TEST(FormatIssues_test, NothingForNoIssues) {
    EXPECT_EQ(format_issues({}, "g.json"), "");
}

TEST(FormatIssues_test, ListsIssuesInDocumentOrder) {
    const std::vector<GraphIssue> issues = {
        {"/nodes/10/id", "k"},       {"/nodes/2/outputs/0", "h"},    {"/nodes/2/params/zeta", "g"},
        {"/nodes/2/params", "e"},    {"/nodes/2/params/alpha", "f"}, {"/nodes/2/id", "d"},
        {"/channels/1/schema", "c"}, {"/channels/1/name", "b"},      {"", "a"},
        {"/nodes/2/outputs/0", "i"}, {"/nodes/2/zzz", "j"}};
    EXPECT_EQ(format_issues(issues, ""),
              "a\n/channels/1/name: b\n/channels/1/schema: c\n/nodes/2/id: d\n/nodes/2/params: e\n"
              "/nodes/2/params/alpha: f\n/nodes/2/params/zeta: g\n/nodes/2/outputs/0: h\n/nodes/2/outputs/0: i\n"
              "/nodes/2/zzz: j\n/nodes/10/id: k\n");
}

}  // namespace
}  // namespace dhub::graph
