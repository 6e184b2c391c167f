// SPDX-License-Identifier: Apache-2.0
// A node's "pacing" (docs/graph.md): the ticks of a fixed rate at which the kernel calls a realtime source.
// Tick k is due at start + k / rate_hz, counted from the first tick, never from the last call: the time a call
// takes, or a late wake-up, never accumulates into drift. A call a period or more late either catches up
// (the next ticks are due at once) or skips the missed ticks, by the node's "late" policy; both are counted.
#pragma once

#include <cstdint>

#include "dhub/counters/layout.hpp"
#include "dhub/graph/graph_spec.hpp"
#include "dhub/runtime/graph_runner.hpp"

namespace dhub::runtime {

class SourcePacer {
public:
    /// counts: where the ticks are counted (the node's record in the counters page); none: in the pacer.
    explicit SourcePacer(const graph::Pacing& pacing, counters::PacingCounters* counts = nullptr) noexcept;
    SourcePacer(const SourcePacer&) = delete;
    SourcePacer& operator=(const SourcePacer&) = delete;

    /// The first tick is due at start_ns (the node's first step).
    void anchor(std::uint64_t start_ns) noexcept;
    bool anchored() const noexcept { return anchored_; }
    /// When the next call is due.
    std::uint64_t deadline_ns() const noexcept { return deadline_of(tick_); }
    /// A call is being made at now_ns (at or after deadline_ns()): counts it and moves to the next tick, past
    /// every missed one when the policy skips. The node's thread only.
    void on_call(std::uint64_t now_ns) noexcept;

    /// The counts so far; any thread.
    PacingReport report() const noexcept;

private:
    std::uint64_t deadline_of(std::uint64_t tick) const noexcept;

    double rate_hz_;
    long double period_ns_;
    graph::Pacing::Late late_;
    bool anchored_ = false;
    std::uint64_t start_ns_ = 0;
    std::uint64_t tick_ = 0;
    counters::PacingCounters own_{};
    /// One writer (the node's thread), readers anywhere: relaxed loads and stores (counters::add).
    counters::PacingCounters& counts_;
};

}  // namespace dhub::runtime
