// SPDX-License-Identifier: Apache-2.0
// The checks of one node against its plugin's components: which component, its parameters, its ports.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph::detail {

/// The component the node names (by "id" or "id@version"), or the plugin's only one; otherwise an issue.
std::optional<plugin::ComponentInfo> pick_component(const NodeSpec& node,
                                                    const std::vector<plugin::ComponentInfo>& components,
                                                    std::vector<GraphIssue>& issues);

/// Every declared parameter: the node's value, checked, or the default. Unknown, invalid and missing
/// required parameters are issues. A relative "path" parameter is resolved against graph_directory (the
/// graph file's; empty for a graph parsed from text: left as it is). Keys a component takes beyond its
/// declared ones (SDK 1.3 node_params_schema) are passed on as written, and checked where it says how.
nlohmann::json apply_params(const NodeSpec& node,
                            const plugin::ComponentInfo& component,
                            const std::filesystem::path& graph_directory,
                            std::vector<GraphIssue>& issues);

/// "pacing" on anything but a realtime source is an issue: the kernel paces a source's produce calls only.
void check_pacing(const NodeSpec& node, const plugin::ComponentInfo& component, std::vector<GraphIssue>& issues);

/// "component test.sink.a (sink)"
std::string describe_component(const plugin::ComponentInfo& component);

}  // namespace dhub::graph::detail
