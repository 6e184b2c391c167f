// SPDX-License-Identifier: Apache-2.0
// Which port of its component each entry of a node's "inputs" and "outputs" binds (docs/graph.md, "Ports").
#pragma once

#include <vector>

#include "dhub/graph/graph_spec.hpp"
#include "validation_state.hpp"

namespace dhub::graph::detail {

/// Binds the node's entries to its component's ports (NodeState's input_ports, output_ports and their
/// order). Issues, each at its JSON path: an unknown port name, several channels for a port that takes one,
/// a required port left unwired, a list form for a component with several ports of that direction.
void bind_ports(NodeState& node, std::vector<GraphIssue>& issues);

}  // namespace dhub::graph::detail
