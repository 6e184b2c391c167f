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

/// "export-<channel>", its dots as '_', with "-2", "-3", ... appended while one of nodes has that id.
std::string export_sender_id(const std::string& channel, const std::vector<NodeSpec>& nodes);

/// The sender node `id` serving channel on port, as graph's broker "export" says (its keys, window, allowlist).
NodeSpec export_sender_node(const GraphSpec& graph,
                            const ChannelSpec& channel,
                            std::uint64_t port,
                            const std::string& id);

/// Whether "export" without "channels" serves this channel: every one a second reader may join.
bool exported_by_default(const ChannelSpec& channel);

/// Appends a sender node to graph.nodes for every channel graph.broker->exported serves, and records each
/// channel's endpoint in it. Issues point at /broker/export.
void add_export_nodes(GraphSpec& graph, Issues& issues);

}  // namespace dhub::graph::detail
