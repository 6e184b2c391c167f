// SPDX-License-Identifier: Apache-2.0
// The checks of channels' validators: each against its component and the channel it guards, and the
// quarantine channels they write.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "dhub/graph/graph_spec.hpp"
#include "validation_state.hpp"

namespace dhub::graph::detail {

/// A plugin's components, or why they cannot be had (graph_validate.cpp's cached lookup).
using ComponentsOf = std::function<const Result<std::vector<plugin::ComponentInfo>>&(const std::string& plugin)>;

/// Resolves every channel's validators into channels[i].validators, and configures each quarantine channel
/// from the channel it serves (schema, slot size, and ValidatedChannel::quarantine_of / producer). Runs after
/// check_channel; indices as graph.channels.
void check_validators(const GraphSpec& graph,
                      const ComponentsOf& components_of,
                      const std::vector<ChannelWiring>& wiring,
                      const std::vector<NodeState>& nodes,
                      const std::vector<schema::Schema>& declared,
                      std::vector<ValidatedChannel>& channels,
                      std::vector<GraphIssue>& issues);

}  // namespace dhub::graph::detail
