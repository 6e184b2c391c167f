// SPDX-License-Identifier: Apache-2.0
// Channels served to other hosts (docs/transports.md, "Across hosts through the broker"). The graph's broker
// "export" gave each served channel a zmq_send node, and its registration names the sender's endpoint. A sender
// that ends by failing (it could not bind, its run failed, it crashed) or is removed serves nobody: the channel
// is registered again without the endpoint, so that another host's kernel says "no transport" instead of
// connecting to a port nobody serves.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "../graph/export_parse.hpp"
#include "broker_link.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "graph_node.hpp"
#include "port_probe.hpp"

namespace dhub::runtime {
namespace {

/// Ends after which the sender will not serve again in this run: a failure, or its removal.
bool ended_for_good(EndReason reason) {
    return is_failure(reason) || reason == EndReason::Removed;
}

}  // namespace

void GraphRunner::withdraw_failed_exports() {
    // wait() holds the topology lock.
    if (export_senders_.empty()) return;
    for (const auto& node : nodes_) {
        const auto sender = export_senders_.find(node->id());
        if (sender != export_senders_.end() && sender->second.advertised && node->finished())
            export_sender_ended(node->id(), node->report());
    }
}

void GraphRunner::export_sender_ended(const std::string& id, const NodeReport& report) {
    const auto sender = export_senders_.find(id);
    if (sender == export_senders_.end() || !sender->second.advertised || !broker_link_ ||
        !ended_for_good(report.end_reason))
        return;
    sender->second.advertised = false;
    const std::string& channel = sender->second.channel;
    if (!broker_link_->drop_transport(channel)) return;
    if (auto logger = spdlog::get("dhub.kernel")) {
        logger->error(
            "channel '{}' is no longer served to other hosts: its sender '{}' ended ({}); its "
            "registration no longer names the endpoint",
            channel, id, report.end_detail);
    }
    events_->emit("export_unavailable", {{"channel", channel}, {"node", id}, {"error", report.end_detail}});
}

bool GraphRunner::is_export_sender_of(const std::string& id, const std::vector<std::string>& channels) const {
    const std::shared_lock topology(topology_mutex_);
    const auto sender = export_senders_.find(id);
    return sender != export_senders_.end() &&
           std::find(channels.begin(), channels.end(), sender->second.channel) != channels.end();
}

nlohmann::json GraphRunner::export_added_channels(const nlohmann::json& channels) {
    nlohmann::json served = nlohmann::json::array();
    const graph::GraphSpec& running = *running_spec_;
    // An "export" that lists its channels serves those alone; one that lists none serves every channel.
    if (!broker_link_ || !running.broker || !running.broker->exported || !running.broker->exported->channels.empty())
        return served;
    const graph::ExportSpec& exported = *running.broker->exported;
    auto logger = spdlog::get("dhub.kernel");
    for (const nlohmann::json& name : channels) {
        const std::string channel = name.get<std::string>();
        const auto spec = std::find_if(running.channels.begin(), running.channels.end(),
                                       [&](const graph::ChannelSpec& candidate) { return candidate.name == channel; });
        if (spec == running.channels.end() || !graph::detail::exported_by_default(*spec)) continue;
        const std::uint64_t port = std::uint64_t{exported.port} + broker_link_->next_export_offset();
        const std::string id = unused_node_id(graph::detail::export_sender_id(channel, running.nodes));
        const auto unavailable = [&](const std::string& bind, const std::string& problem) {
            if (logger) logger->error("channel '{}' is not served to other hosts: {}", channel, problem);
            nlohmann::json event = {{"channel", channel}, {"node", id}, {"error", problem}};
            if (!bind.empty()) event["bind"] = bind;
            events_->emit("export_unavailable", event);
        };
        if (port > 65535 || id.size() > graph::MAX_NODE_ID) {
            unavailable("", port > 65535 ? "its port would be " + std::to_string(port) + ", past 65535"
                                         : "its sender's node id '" + id + "' is longer than 64 characters");
            continue;
        }
        const graph::NodeSpec sender = graph::detail::export_sender_node(running, *spec, port, id);
        graph::ExportedChannel entry{channel, "tcp://" + exported.host + ":" + std::to_string(port),
                                     sender.params["bind"].get<std::string>(), id};
        // Its port is taken for good, served or not: the ports of the channels after it do not depend on it.
        broker_link_->add_export(entry);
        if (const std::string problem = tcp_bind_problem(entry.bind); !problem.empty()) {
            unavailable(entry.bind, "its sender '" + id + "' cannot bind " + entry.bind + " (" + problem + ")");
            continue;
        }
        const nlohmann::json node = {{"id", id},
                                     {"plugin", sender.plugin},
                                     {"component", sender.component.value_or("")},
                                     {"isolation", "thread"},
                                     {"inputs", {channel}},
                                     {"params", sender.params}};
        auto added = add_locked(node, nlohmann::json::array());
        if (!added) {
            unavailable(entry.bind, "its sender '" + id + "' could not be added: " + added.error().message);
            continue;
        }
        // Named in the registration first, then watched: a sender that has ended by now is withdrawn at once.
        const std::size_t index = channel_index(channel);
        (void)broker_link_->set_transport(channel, broker_link_->transport_of(channel, channel_schemas_[index]));
        {
            const std::unique_lock topology(topology_mutex_);
            export_senders_[id] = {channel, true};
            withdraw_failed_exports();
        }
        if (added.value().contains("end_reason")) continue;  // it ended at once: withdrawn above, and said so
        if (logger)
            logger->info("channel '{}' added: served to other hosts on {} by '{}'", channel, entry.endpoint, id);
        served.push_back({{"channel", channel}, {"node", id}, {"endpoint", entry.endpoint}});
    }
    return served;
}

}  // namespace dhub::runtime
