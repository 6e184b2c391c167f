// SPDX-License-Identifier: Apache-2.0
// The shape of a channel's "validators" and the plugin/component/params part it shares with a node.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/graph/graph_spec.hpp"
#include "json_fields.hpp"

namespace dhub::graph::detail {

/// "plugin" (required), "component" and "params" of a node or a channel validator, into node.
void parse_component_choice(const nlohmann::json& entry, const std::string& path, NodeSpec& node, Issues& issues);

/// A channel's "validators": an array of {"name", "plugin", "component", "params", "on_reject", "quarantine"}.
std::vector<ChannelValidatorSpec> parse_validators(const nlohmann::json& value,
                                                   const std::string& path,
                                                   Issues& issues);

}  // namespace dhub::graph::detail
