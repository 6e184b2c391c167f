// SPDX-License-Identifier: Apache-2.0
// Channels served to other hosts (docs/transports.md, "Across hosts through the broker"). The graph's broker
// "export" gave each served channel a zmq_send node, and its registration names the sender's endpoint. A sender
// that ends by failing (it could not bind, its run failed, it crashed) or is removed serves nobody: the channel
// is registered again without the endpoint, so that another host's kernel says "no transport" instead of
// connecting to a port nobody serves.
#include <spdlog/spdlog.h>

#include "broker_link.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "graph_node.hpp"

namespace dhub::runtime {
namespace {

/// Ends after which the sender will not serve again in this run.
bool ended_for_good(EndReason reason) {
    switch (reason) {
        case EndReason::StartFailed:
        case EndReason::RunFailed:
        case EndReason::ErrorPolicyNode:
        case EndReason::ErrorPolicyGraph:
        case EndReason::Crashed:
        case EndReason::Hung:
        case EndReason::Removed:
            return true;
        default:
            return false;
    }
}

}  // namespace

void GraphRunner::withdraw_failed_exports() {
    // wait() holds the topology lock.
    if (export_senders_.empty()) return;
    for (const auto& node : nodes_) {
        if (node->finished() && export_senders_.contains(node->id())) export_sender_ended(node->id(), node->report());
    }
}

void GraphRunner::export_sender_ended(const std::string& id, const NodeReport& report) {
    const auto sender = export_senders_.find(id);
    if (sender == export_senders_.end() || !broker_link_ || !ended_for_good(report.end_reason)) return;
    const std::string channel = sender->second;
    export_senders_.erase(sender);
    if (!broker_link_->drop_transport(channel)) return;
    if (auto logger = spdlog::get("dhub.kernel")) {
        logger->error(
            "channel '{}' is no longer served to other hosts: its sender '{}' ended ({}); its "
            "registration no longer names the endpoint",
            channel, id, report.end_detail);
    }
    events_->emit("export_unavailable", {{"channel", channel}, {"node", id}, {"error", report.end_detail}});
}

}  // namespace dhub::runtime
