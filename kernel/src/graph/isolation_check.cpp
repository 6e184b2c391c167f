// SPDX-License-Identifier: Apache-2.0
#include "isolation_check.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "isolation_parse.hpp"

namespace dhub::graph {

bool is_builtin_plugin(std::string_view plugin) noexcept {
    // The plugins/ tree (plugins/CMakeLists.txt, _dhub_builtin_plugins); BuiltinPlugins_test keeps them equal.
    static constexpr std::array<std::string_view, 15> BUILTIN = {
        "sim_source", "replay",   "scale", "decimate",        "throttle",         "correlate",
        "fanout",     "recorder", "stats", "range_validator", "schema_validator", "monotonic_timestamp",
        "zmq",        "kafka",    "python"};
    return std::find(BUILTIN.begin(), BUILTIN.end(), plugin) != BUILTIN.end();
}

namespace detail {

void check_isolation(const GraphSpec& graph, std::vector<GraphIssue>& warnings, std::vector<GraphIssue>& issues) {
    for (const NodeSpec& node : graph.nodes) {
        if (node.isolation == Isolation::Thread) {
            if (node.supervision_given) {
                issues.push_back({node.json_path,
                                  "node '" + node.id +
                                      "': restart, max_restarts, restart_period_s, watchdog_ms and limits supervise a "
                                      "node's own process; add \"isolation\": \"process\" or remove them"});
            }
            if (node.plugin == detail::PYTHON_PLUGIN) {
                // Only a node's own "isolation": "thread" gets here (default_isolation): say what it gives up.
                warnings.push_back({node.json_path + "/isolation",
                                    "node '" + node.id +
                                        "' runs Python code in the kernel's process: a crash in a C extension stops "
                                        "the whole graph with it; without \"isolation\": \"thread\" it runs in a "
                                        "process of its own"});
            } else if (!node.plugin.empty() && !is_builtin_plugin(node.plugin)) {
                warnings.push_back({node.json_path + "/plugin",
                                    "node '" + node.id + "' runs plugin '" + node.plugin +
                                        "' in the kernel's process: if it crashes, the whole graph stops with it; "
                                        "\"isolation\": \"process\" runs it in a process of its own"});
            }
            continue;
        }
        for (const PortBinding& input : node.inputs) {
            if (input.channel.starts_with(REMOTE_INPUT_PREFIX)) {
                issues.push_back(
                    {input.json_path, "node '" + node.id + "' reads '" + input.channel +
                                          "' from another kernel: broker inputs run in the kernel's process for now; "
                                          "set \"isolation\": \"thread\" on this node"});
            }
        }
    }
}

}  // namespace detail
}  // namespace dhub::graph
