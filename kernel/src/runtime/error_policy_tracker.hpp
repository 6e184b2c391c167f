// SPDX-License-Identifier: Apache-2.0
// A node's consecutive failures against its graph's on_error policy. It decides; the node acts (logs,
// stops itself, fails the graph). Failures may be reported from any plugin thread (report_error).
#pragma once

#include <atomic>
#include <cstdint>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::runtime {

class ErrorPolicyTracker {
public:
    enum class Verdict {
        Continue,         ///< below the limit
        LimitContinuing,  ///< the limit was just reached and the policy is "continue": worth one warning
        StopNode,
        StopGraph,
    };
    struct Outcome {
        Verdict verdict;
        std::uint32_t consecutive;  ///< failures in a row, this one included
    };

    explicit ErrorPolicyTracker(graph::ErrorPolicy policy) noexcept : policy_(policy) {}

    Outcome on_failure() noexcept;
    /// A success ends the run of failures. On the node's hot path: a load, and a store only after failures.
    void on_success() noexcept {
        if (consecutive_.load(std::memory_order_relaxed) != 0) consecutive_.store(0, std::memory_order_relaxed);
    }

private:
    graph::ErrorPolicy policy_;
    std::atomic<std::uint32_t> consecutive_{0};
};

}  // namespace dhub::runtime
