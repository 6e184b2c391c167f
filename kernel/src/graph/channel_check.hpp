// SPDX-License-Identifier: Apache-2.0
// The checks of channels: who writes and reads each one, schemas along each edge, slot sizes, and the
// shared-memory configuration that results.
#pragma once

#include <vector>

#include "dhub/graph/graph_spec.hpp"
#include "validation_state.hpp"

namespace dhub::graph::detail {

bool is_concrete(const std::optional<std::string>& schema);
const schema::Schema* find_declared(const std::vector<schema::Schema>& declared, std::string_view id);
/// Whether a reader expecting `expected` may read a channel carrying `carried` although the ids differ: only
/// when both are declared and the evolution rule allows it. Sets `why` when the rule refuses.
bool readable_by_evolution(const std::vector<schema::Schema>& declared,
                           const std::string& expected,
                           const std::string& carried,
                           std::string& why);
/// The channel's readers against the schema it carries (`effective`, written by `writer`), each at its input.
void check_reader_schemas(const ChannelSpec& channel,
                          const ChannelWiring& wiring,
                          const std::vector<NodeState>& nodes,
                          const std::string& writer,
                          const std::vector<schema::Schema>& declared,
                          const std::string& effective,
                          std::vector<GraphIssue>& issues);

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
