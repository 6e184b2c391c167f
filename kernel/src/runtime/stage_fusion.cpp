// SPDX-License-Identifier: Apache-2.0
#include "stage_fusion.hpp"

#include <map>

#include "node.hpp"

namespace dhub::runtime {

std::vector<FusedStage> fuse_stages(const std::vector<std::unique_ptr<GraphNode>>& nodes, std::size_t cpus) {
    std::vector<FusedStage> fused;
    std::size_t threads = nodes.size();
    if (threads <= cpus) return fused;     // every node has a CPU: a stage on its own overlaps with its producer
    std::map<std::string, Node*> writers;  // channel -> the node that writes it, if it can drive
    for (const auto& node : nodes) {
        auto* writer = dynamic_cast<Node*>(node.get());  // an isolated node runs elsewhere
        if (writer == nullptr || !writer->can_drive_stages()) continue;
        for (const Node::Output& output : writer->outputs())
            writers.emplace(output.channel, writer);
    }
    for (const auto& node : nodes) {
        if (threads <= cpus) break;
        auto* stage = dynamic_cast<Node*>(node.get());
        if (stage == nullptr || !stage->fusable()) continue;
        const auto writer = writers.find(stage->inputs()[0].channel);
        if (writer == writers.end() || writer->second == stage) continue;
        writer->second->drive(stage->fuse());
        fused.push_back({stage->id(), writer->second->id()});
        --threads;
    }
    return fused;
}

}  // namespace dhub::runtime
