// SPDX-License-Identifier: Apache-2.0
// The checks of channels: who writes and reads each one, schemas along each edge, slot sizes, and the
// shared-memory configuration that results.
#pragma once

#include <vector>

#include "dhub/graph/graph_spec.hpp"
#include "validation_state.hpp"

namespace dhub::graph::detail {

/// Connects node inputs and outputs to the declared channels (indexed like graph.channels). Unknown
/// channel names, a second producer and a channel without producer are issues.
std::vector<ChannelWiring> wire_channels(const GraphSpec& graph,
                                         const std::vector<NodeState>& nodes,
                                         std::vector<GraphIssue>& issues);

/// Schema agreement (with the evolution rule where the graph declares the schemas), slot size and the
/// shm::ChannelConfig of one channel.
ValidatedChannel check_channel(const ChannelSpec& channel,
                               const ChannelWiring& wiring,
                               const std::vector<NodeState>& nodes,
                               const std::vector<schema::Schema>& declared,
                               bool published,  ///< the graph has a broker: other kernels may read it too
                               std::vector<GraphIssue>& issues);

}  // namespace dhub::graph::detail
