// SPDX-License-Identifier: Apache-2.0
#include "node_lifecycle.hpp"

#include <algorithm>

#include "dhub/counters/counters_page.hpp"
#include "dhub/events/event_log.hpp"

namespace dhub::runtime {

NodeLifecycle::State NodeLifecycle::state() const noexcept {
    return static_cast<State>(record_.state.load(std::memory_order_acquire));
}

bool NodeLifecycle::move(State to, std::string_view reason, std::initializer_list<State> from) {
    const std::lock_guard lock(mutex_);
    const State now = state();
    if (counters::is_final(now) || now == to) return false;
    if (from.size() != 0 && std::find(from.begin(), from.end(), now) == from.end()) return false;
    counters::CountersPage::set_state(record_, to);
    events_.emit("node_state", {{"node", node_}, {"from", to_string(now)}, {"to", to_string(to)}, {"reason", reason}});
    return true;
}

void NodeLifecycle::end(EndReason reason, const std::string& detail) {
    const std::lock_guard lock(mutex_);
    const State now = state();
    if (counters::is_final(now)) return;
    const State to = is_failure(reason) ? State::Failed : State::Stopped;
    counters::CountersPage::set_state(record_, to, runtime::to_string(reason));
    events_.emit("node_state", {{"node", node_},
                                {"from", to_string(now)},
                                {"to", to_string(to)},
                                {"reason", runtime::to_string(reason)},
                                {"detail", detail}});
}

}  // namespace dhub::runtime
