// SPDX-License-Identifier: Apache-2.0
// What validate_graph knows about each node and channel while it checks them (private to the module).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph::detail {

struct NodeState {
    const NodeSpec* spec = nullptr;
    std::optional<plugin::ComponentInfo> component;  ///< none: unknown plugin or component
    /// False when the plugin could not be looked up: that is reported once, and the node's other checks
    /// would only repeat it.
    bool reportable = true;
    nlohmann::json params = nlohmann::json::object();
    /// Per entry of spec->inputs / spec->outputs: the index of the component port it binds, or NO_PORT (an
    /// issue said why, or the component is unknown).
    std::vector<std::size_t> input_ports;
    std::vector<std::size_t> output_ports;
    /// Entry indices in the host API's index order (ValidatedNode::inputs / outputs).
    std::vector<std::size_t> input_order;
    std::vector<std::size_t> output_order;

    static constexpr std::size_t NO_PORT = ~std::size_t{0};

    /// The port an entry binds, when known.
    const plugin::PortInfo* port_of(bool input, std::size_t entry) const {
        const std::vector<std::size_t>& ports = input ? input_ports : output_ports;
        if (!component || entry >= ports.size() || ports[entry] == NO_PORT) return nullptr;
        return &component->ports[ports[entry]];
    }
};

/// One entry of a node's inputs or outputs.
struct Port {
    std::size_t node = 0;
    std::size_t index = 0;  ///< into the node's spec->inputs or spec->outputs
};

struct ChannelWiring {
    std::vector<Port> producers;  ///< normally exactly one
    std::vector<Port> consumers;
};

/// "node 'sim'", or the node's path when its id is unusable.
inline std::string describe_node(const NodeSpec& node) {
    return node.id.empty() ? "node " + node.json_path : "node '" + node.id + "'";
}

}  // namespace dhub::graph::detail
