// SPDX-License-Identifier: Apache-2.0
#include "error_policy_tracker.hpp"

namespace dhub::runtime {

ErrorPolicyTracker::Outcome ErrorPolicyTracker::on_failure() noexcept {
    const std::uint32_t consecutive = consecutive_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (consecutive < policy_.max_consecutive) return {Verdict::Continue, consecutive};
    switch (policy_.action) {
        case graph::ErrorPolicy::Action::Continue:
            return {consecutive == policy_.max_consecutive ? Verdict::LimitContinuing : Verdict::Continue, consecutive};
        case graph::ErrorPolicy::Action::StopNode:
            return {Verdict::StopNode, consecutive};
        case graph::ErrorPolicy::Action::StopGraph:
            return {Verdict::StopGraph, consecutive};
    }
    return {Verdict::Continue, consecutive};
}

}  // namespace dhub::runtime
