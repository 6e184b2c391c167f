// SPDX-License-Identifier: Apache-2.0
// How another thread asks a node's thread to do something between two steps (a swap, a parameter change) and
// waits for the answer: the request is posted under the node's sleep lock, the loops see it at their next step
// boundary (attention_), and a request the node's thread has not taken when the fence timeout passes is
// withdrawn, so that nothing happens later that the asker was told did not.
#pragma once

#include <chrono>
#include <future>
#include <string>

#include "node.hpp"

namespace dhub::runtime {

/// How long an asker waits for the node to end the step it is in. A step is one handler call or one wait slice
/// (100 ms) for input or room: longer means a handler that does not return.
inline constexpr std::chrono::seconds NODE_FENCE_TIMEOUT{5};

template <typename Request, typename Value>
Result<Value> Node::ask_node_thread(Request*& slot, Request& request) {
    std::future<Result<Value>> answer = request.done.get_future();
    {
        const std::lock_guard lock(sleep_mutex_);
        if (requests_closed_) {
            return Error{ErrorCode::InvalidArgument, "node '" + id_ + "' is ending: nothing was changed"};
        }
        const NodeLifecycle::State state = lifecycle_.state();
        if (state != NodeLifecycle::State::Running && state != NodeLifecycle::State::Paused) {
            return Error{ErrorCode::InvalidArgument,
                         "node '" + id_ + "' is " + to_string(state) + ": only a running or paused node takes this"};
        }
        slot = &request;
        update_attention();
        sleep_wakeup_.notify_all();  // a paused node does it while it stays paused
    }
    if (answer.wait_for(NODE_FENCE_TIMEOUT) == std::future_status::timeout) {
        const std::lock_guard lock(sleep_mutex_);
        if (slot == &request) {
            slot = nullptr;
            update_attention();
            return Error{ErrorCode::Timeout,
                         "node '" + id_ + "' did not finish its step within " +
                             std::to_string(NODE_FENCE_TIMEOUT.count()) +
                             " s (its handler has not returned, or it waits for room its readers do not make): "
                             "nothing was changed"};
        }
        // Taken: the node's thread is at it now, and answers when it is done.
    }
    return answer.get();
}

}  // namespace dhub::runtime
