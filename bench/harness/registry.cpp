// SPDX-License-Identifier: Apache-2.0
#include "harness/registry.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>

namespace dhub::bench {

BenchOptions BenchOptions::defaults(bool quick_run) {
    BenchOptions options;
    options.quick = quick_run;
    if (quick_run) {
        options.spin_round_trips = 20'000;
        options.sleep_round_trips = 2'000;
        options.message_scale = 0.05;
        options.child_timeout = std::chrono::milliseconds(60'000);
    }
    return options;
}

std::size_t BenchOptions::scaled(std::size_t full_count, std::size_t minimum) const noexcept {
    const double count = std::round(static_cast<double>(full_count) * message_scale);
    return std::max(minimum, static_cast<std::size_t>(std::max(count, 0.0)));
}

std::size_t BenchOptions::warmup_of(std::size_t total) noexcept {
    return std::min<std::size_t>(total / 10, 20'000);
}

void Registry::add(BenchGroup group) {
    if (group.name.empty()) throw std::invalid_argument("benchmark group without a name");
    if (!group.run) throw std::invalid_argument("benchmark group '" + group.name + "' has no run function");
    const bool duplicate = std::any_of(groups_.begin(), groups_.end(),
                                       [&](const BenchGroup& existing) { return existing.name == group.name; });
    if (duplicate) throw std::invalid_argument("benchmark group '" + group.name + "' registered twice");
    groups_.push_back(std::move(group));
}

std::vector<const BenchGroup*> Registry::select(std::string_view filter) const {
    std::vector<const BenchGroup*> selected;
    for (const BenchGroup& group : groups_) {
        if (filter.empty() || group.name.find(filter) != std::string::npos) selected.push_back(&group);
    }
    return selected;
}

void run_case(std::vector<CaseResult>& results, CaseResult row, const std::function<void(CaseResult&)>& measure) {
    try {
        measure(row);
    } catch (const std::exception& e) {
        row.error = e.what();
    } catch (...) {
        row.error = "unknown exception";
    }
    std::cerr << "  " << one_line_summary(row) << std::endl;
    results.push_back(std::move(row));
}

}  // namespace dhub::bench
