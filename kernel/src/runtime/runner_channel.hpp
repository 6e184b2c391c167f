// SPDX-License-Identifier: Apache-2.0
// A channel as the runner keeps it: its segment, which this kernel creates and owns, and who is on it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "channel_gate.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "dhub/shm/producer.hpp"

namespace dhub::runtime {

struct GraphRunner::Channel {
    std::string name;           ///< the graph's name for it
    std::string segment;        ///< the DataBlock channel name: "<prefix>.<name>"
    std::string attach_secret;  ///< with a broker: what this kernel's own consumers present too
    shm::ChannelConfig config;  ///< as its segment was created (name = segment)
    std::optional<shm::Producer> producer;
    std::vector<GraphNode*> members;  ///< producer node and consumer nodes, for peer messages
    /// Its validators, if the graph gives it any; declared after producer: destroyed (validators first) before it.
    std::unique_ptr<ChannelGate> gate;
};

}  // namespace dhub::runtime
