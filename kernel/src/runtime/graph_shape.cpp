// SPDX-License-Identifier: Apache-2.0
#include "graph_shape.hpp"

#include <algorithm>

namespace dhub::runtime {

std::vector<std::size_t> written_channels(const graph::ValidatedGraph& graph, const graph::ValidatedNode& node) {
    std::vector<std::size_t> written;
    for (const graph::BoundChannel& output : node.outputs) {
        for (std::size_t index = 0; index < graph.channels.size(); ++index) {
            if (graph.channels[index].spec->name != output.channel) continue;
            written.push_back(index);
            for (const graph::ValidatedValidator& validator : graph.channels[index].validators) {
                if (validator.quarantine) written.push_back(*validator.quarantine);
            }
        }
    }
    // Validators of one channel may share a quarantine channel: each channel once.
    std::sort(written.begin(), written.end());
    written.erase(std::unique(written.begin(), written.end()), written.end());
    return written;
}

std::size_t graph_channel_index(const graph::ValidatedGraph& graph, const std::string& name) {
    std::size_t index = 0;
    while (index + 1 < graph.channels.size() && graph.channels[index].spec->name != name)
        ++index;
    return index;
}

std::string listed_issues(const std::vector<graph::GraphIssue>& issues) {
    std::string text = graph::format_issues(issues, "");
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

bool isolated(const graph::ValidatedNode& node) {
    return node.spec->isolation == graph::Isolation::Process;
}

counters::PageShape::Node page_node(const graph::ValidatedGraph& graph, const graph::ValidatedNode& node) {
    counters::PageShape::Node record;
    record.id = node.spec->id;
    record.component = node.component.id;
    record.isolation = isolated(node) ? "process" : "thread";
    for (const graph::BoundChannel& input : node.inputs) {
        const auto channel = std::find_if(graph.channels.begin(), graph.channels.end(),
                                          [&](const auto& known) { return known.spec->name == input.channel; });
        const bool latest = input.delivery == shm::Delivery::Latest ||
                            (channel != graph.channels.end() && channel->config.sync == shm::SyncPolicy::LatestOnly);
        record.inputs.push_back({input.channel, latest});
    }
    return record;
}

}  // namespace dhub::runtime
