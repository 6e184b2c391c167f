// SPDX-License-Identifier: Apache-2.0
// Isolation against the rest of the graph: supervision keys only where something supervises, what an isolated
// node cannot do yet, and the warnings for a plugin from outside dhub and for Python code that run in the kernel's
// process.
#pragma once

#include <vector>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph::detail {

void check_isolation(const GraphSpec& graph, std::vector<GraphIssue>& warnings, std::vector<GraphIssue>& issues);

}  // namespace dhub::graph::detail
