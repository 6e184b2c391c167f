// SPDX-License-Identifier: Apache-2.0
// Which burst stages run on their upstream node's thread (stage_chain.hpp says why and how).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "graph_node.hpp"

namespace dhub::runtime {

struct FusedStage {
    std::string stage;     ///< the stage's node id
    std::string upstream;  ///< the node whose thread runs its steps
};

/// While the graph's node threads outnumber `cpus`, fuses its fusable stages (Node::fusable) into the nodes that
/// write their input channel, in graph order, one thread fewer each. Before any node's thread starts.
std::vector<FusedStage> fuse_stages(const std::vector<std::unique_ptr<GraphNode>>& nodes, std::size_t cpus);

}  // namespace dhub::runtime
