// SPDX-License-Identifier: Apache-2.0
// A node's state machine (docs/kernel.md, "A node's life"): the one place where a node's state changes. Every
// change goes into the node's record in the counters page and out as a `node_state` event, both under one
// lock, so the events of one node are in the order its states changed, whichever thread changed them (its own,
// the runner's on a graph stop, a control command's).
#pragma once

#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>

#include "dhub/counters/layout.hpp"
#include "dhub/runtime/graph_runner.hpp"

namespace dhub::runtime {

class NodeLifecycle {
public:
    using State = counters::NodeState;

    NodeLifecycle(std::string node, counters::NodeRecord& record, EventLog& events) noexcept
        : node_(std::move(node)), record_(record), events_(events) {}

    /// Moves to `to` for `reason` if the node is in one of `from` (any state but a final one when from is
    /// empty); false, and nothing happens, otherwise.
    bool move(State to, std::string_view reason, std::initializer_list<State> from = {});
    /// The final move: Stopped, or Failed when the reason is a failure (is_failure); detail in words.
    void end(EndReason reason, const std::string& detail);
    State state() const noexcept;

private:
    std::string node_;
    counters::NodeRecord& record_;
    EventLog& events_;
    mutable std::mutex mutex_;
};

}  // namespace dhub::runtime
