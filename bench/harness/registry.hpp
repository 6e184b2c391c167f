// SPDX-License-Identifier: Apache-2.0
// Named benchmark groups, the options they run with, and the per-case error boundary.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/case_result.hpp"

namespace dhub::bench {

struct BenchOptions {
    bool quick = false;                                ///< shorter runs (CI smoke test); numbers are noisier
    std::string filter;                                ///< substring of the group name; empty = all groups
    int producer_core = 0;                             ///< core for the producer / pinger side
    int consumer_core = 1;                             ///< core for the consumer / responder side
    std::size_t spin_round_trips = 200'000;            ///< busy-poll ping-pong round trips
    std::size_t sleep_round_trips = 20'000;            ///< blocking ping-pong round trips (~70 us each cross-core)
    double message_scale = 1.0;                        ///< multiplies every one-way message count
    std::chrono::milliseconds child_timeout{120'000};  ///< per case, for all its children together

    /// The full-run defaults, or the --quick ones.
    static BenchOptions defaults(bool quick_run);

    /// `full_count` scaled by message_scale, at least `minimum`.
    std::size_t scaled(std::size_t full_count, std::size_t minimum = 100) const noexcept;

    /// Round trips to discard before measuring (caches, page faults, connection set-up).
    static std::size_t warmup_of(std::size_t total) noexcept;
};

struct BenchGroup {
    std::string name;  ///< "<transport>.<what>", e.g. "raw.oneway_spsc"; --filter matches substrings
    std::function<std::vector<CaseResult>(const BenchOptions&)> run;
    std::string description;  ///< one line for --list
};

/// Thrown by a group that cannot run here (e.g. iox-roudi not installed); reported, not an error.
class SkipGroup : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Registry {
public:
    /// Throws std::invalid_argument on an empty or duplicate name or a missing run function.
    void add(BenchGroup group);
    const std::vector<BenchGroup>& groups() const noexcept { return groups_; }
    /// Groups whose name contains `filter`, in registration order.
    std::vector<const BenchGroup*> select(std::string_view filter) const;

private:
    std::vector<BenchGroup> groups_;
};

/// Runs one case: `measure` fills in the measured fields of `row` (whose identity fields the caller
/// has set). An exception becomes `row.error`, so one failing case does not stop its group.
/// Prints a one-line summary to stderr and appends the row to `results`.
void run_case(std::vector<CaseResult>& results, CaseResult row, const std::function<void(CaseResult&)>& measure);

}  // namespace dhub::bench
