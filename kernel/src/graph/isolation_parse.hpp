// SPDX-License-Identifier: Apache-2.0
// The shape of "isolation" (graph-wide and per node) and of an isolated node's supervision keys: "restart",
// "max_restarts", "restart_period_s", "watchdog_ms", "limits".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/graph/graph_spec.hpp"
#include "json_fields.hpp"

namespace dhub::graph::detail {

/// The node keys this part reads (for the parser's list of known keys).
extern const std::vector<std::string> SUPERVISION_KEYS;

/// The plugin that runs Python classes (plugins/python).
inline constexpr const char* PYTHON_PLUGIN = "python";

/// Where a node of plugin runs when it does not say: a Python node in a process of its own, whatever the graph's
/// default (docs/graph.md, "Node"); any other node where the graph says.
Isolation default_isolation(const std::string& plugin, Isolation graph_default);

/// "isolation" of the object at path ("thread" or "process"), if present.
std::optional<Isolation> parse_isolation(const nlohmann::json& entry, const std::string& path, Issues& issues);

/// A node's supervision keys into node.supervision (supervision_given when any is present); node.isolation is
/// its own "isolation" if present, else default_isolation(node.plugin, graph_default) (node.plugin is parsed
/// first).
void parse_node_isolation(
    const nlohmann::json& entry, const std::string& path, Isolation graph_default, NodeSpec& node, Issues& issues);

}  // namespace dhub::graph::detail
