// SPDX-License-Identifier: Apache-2.0
// "broker": {"export": ...}: reading it, and the sender nodes it stands for. Each exported channel gets a node
// "export-<channel>" running the zmq plugin's dhub.transport.zmq_send on its own port, so --validate,
// --describe, --report and dhub-ctl show the senders as the nodes they are.
#pragma once

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "json_fields.hpp"

namespace dhub::graph::detail {

/// The "export" member of the broker section, or nullopt when it has none (or it is unreadable: an issue).
std::optional<ExportSpec> parse_export(const nlohmann::json& broker,
                                       const std::filesystem::path& source_file,
                                       Issues& issues);

/// Appends a sender node to graph.nodes for every channel graph.broker->exported serves, and records each
/// channel's endpoint in it. Issues point at /broker/export.
void add_export_nodes(GraphSpec& graph, Issues& issues);

}  // namespace dhub::graph::detail
