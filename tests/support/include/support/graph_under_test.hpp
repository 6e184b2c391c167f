// SPDX-License-Identifier: Apache-2.0
// A graph document parsed and validated against the built plugins, as dhub-kernel does, ready for
// GraphRunner::create: the in-process way to run a graph in a test.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dhub/graph/graph_spec.hpp"
#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "dhub/runtime/plugin_clock.hpp"

namespace dhub::testing {

class GraphUnderTest {
public:
    /// Parses and validates json with plugins from plugin_dirs; problems() lists what is wrong, one per line.
    /// NodeParams::Ask checks as `dhub-kernel --validate` does, Pass as a run does.
    GraphUnderTest(const std::string& json,
                   const std::vector<std::filesystem::path>& plugin_dirs,
                   plugin::NodeParams node_params = plugin::NodeParams::Pass)
        : loader_(plugin::make_search_path(plugin_dirs, {})) {
        std::vector<graph::GraphIssue> issues;
        spec_ = graph::parse_graph(json, {}, issues);
        if (spec_) validated_ = graph::validate_graph(*spec_, plugin::component_lookup(loader_, node_params), issues);
        problems_ = graph::format_issues(issues, "");
    }
    const std::string& problems() const { return problems_; }
    Result<std::unique_ptr<runtime::GraphRunner>, runtime::SetupError> runner(
        std::shared_ptr<const runtime::PluginClock> clock = {}) {
        runtime::RunnerOptions options;
        options.clock = std::move(clock);
        return runtime::GraphRunner::create(validated_, loader_, options);
    }
    Result<std::unique_ptr<runtime::GraphRunner>, runtime::SetupError> runner(runtime::RunnerOptions options) {
        return runtime::GraphRunner::create(validated_, loader_, std::move(options));
    }

private:
    plugin::PluginLoader loader_;
    std::optional<graph::GraphSpec> spec_;
    graph::ValidatedGraph validated_;  ///< points into spec_
    std::string problems_;
};

/// The report of node id; throws if the graph has no such node.
inline const runtime::NodeReport& report_of(const std::vector<runtime::NodeReport>& reports, const std::string& id) {
    for (const runtime::NodeReport& report : reports) {
        if (report.id == id) return report;
    }
    throw std::runtime_error("no node " + id);
}

}  // namespace dhub::testing
