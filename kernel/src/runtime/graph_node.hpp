// SPDX-License-Identifier: Apache-2.0
// What the runner sees of a node, wherever it runs: a Node on a thread of the kernel, or an IsolatedNode that
// supervises a dhub-node-host process running it. Nothing here is on the per-slot path.
#pragma once

#include <string>
#include <vector>

#include "dhub/runtime/graph_runner.hpp"

namespace dhub::runtime {

class GraphNode {
public:
    virtual ~GraphNode() = default;
    GraphNode() = default;
    GraphNode(const GraphNode&) = delete;
    GraphNode& operator=(const GraphNode&) = delete;

    virtual const std::string& id() const noexcept = 0;
    virtual void start_thread() = 0;
    virtual void request_stop() noexcept = 0;
    /// Stops it for good because it is being taken out of the running graph: it ends as a stopped node does,
    /// its end reason "removed", and an isolated one is not restarted.
    virtual void request_removal() noexcept = 0;
    virtual void join() = 0;
    virtual bool finished() const noexcept = 0;
    virtual bool stop_requested() const noexcept = 0;
    /// Stopped first on shutdown: nothing in this graph feeds it (no inputs, or inputs from other kernels).
    virtual bool is_graph_source() const noexcept = 0;
    virtual NodeReport report() const = 0;
    /// A peer message from another node on channel.
    virtual void deliver_message(const std::string& channel, const std::string& message) = 0;
    /// The counts of the validators this node runs itself (an isolated producer runs its channels' gates).
    virtual std::vector<ValidatorReport> own_validator_reports() const { return {}; }
    /// The graph is stopping and this node is not one that is stopped (it ends once its inputs are drained): it
    /// is draining now, and a paused node resumes to drain.
    virtual void on_graph_stopping() {}
    /// Stops taking slots until resume(); the error says why it cannot (not running, a queue-mode component,
    /// an unknown node).
    virtual VoidResult pause() { return Error{ErrorCode::InvalidArgument, "node '" + id() + "' cannot be paused"}; }
    virtual VoidResult resume() { return Error{ErrorCode::InvalidArgument, "node '" + id() + "' is not paused"}; }
};

}  // namespace dhub::runtime
