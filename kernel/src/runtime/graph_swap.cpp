// SPDX-License-Identifier: Apache-2.0
// The runner's half of a swap (docs/control.md, "swap"): is the new component one the running graph could have
// been started with, binding the node's channels the same way and keeping every channel's schema? If so its
// plugin is loaded and initialised here, on the caller's thread, and the node's own thread replaces the instance
// at its next step boundary (node_swap.cpp), so that the node pauses only for create and start.
#include <algorithm>

#include "dhub/runtime/graph_runner.hpp"
#include "graph_shape.hpp"
#include "node.hpp"

namespace dhub::runtime {
namespace {

bool same_bindings(const std::vector<graph::BoundChannel>& running, const std::vector<graph::BoundChannel>& swapped) {
    return std::equal(running.begin(), running.end(), swapped.begin(), swapped.end(),
                      [](const graph::BoundChannel& a, const graph::BoundChannel& b) {
                          return a.channel == b.channel && a.port == b.port && a.delivery == b.delivery;
                      });
}

}  // namespace

Result<SwapPlan> GraphRunner::plan_swap(std::size_t node_index, const SwapSpec& swap) {
    const std::string& id = running_spec_->nodes[node_index].id;
    graph::GraphSpec candidate = *running_spec_;
    graph::NodeSpec& spec = candidate.nodes[node_index];
    spec.plugin = swap.plugin;
    spec.component = swap.component.empty() ? std::nullopt : std::optional<std::string>(swap.component);
    if (!swap.params.is_null()) spec.params = swap.params;
    std::vector<graph::GraphIssue> issues;
    const graph::ValidatedGraph validated =
        graph::validate_graph(candidate, plugin::component_lookup(*loader_, plugin::NodeParams::Pass), issues);
    if (!issues.empty()) {
        return Error{ErrorCode::InvalidArgument, "the graph with node '" + id + "' as " + swap.plugin +
                                                     " would not be valid:\n" + listed_issues(issues)};
    }
    const graph::ValidatedNode& node = validated.nodes[node_index];
    if (!same_bindings(bindings_[node_index].inputs, node.inputs) ||
        !same_bindings(bindings_[node_index].outputs, node.outputs)) {
        return Error{ErrorCode::InvalidArgument, "component " + node.component.id + " binds node '" + id +
                                                     "''s channels to other ports than the running one: a swap keeps "
                                                     "the node's seats, so its ports must match"};
    }
    // An input from another kernel was checked against what its producer registered when it attached: the new
    // component must expect what the old one did.
    for (const graph::BoundChannel& input : node.inputs) {
        if (!input.channel.starts_with(graph::REMOTE_INPUT_PREFIX)) continue;
        const std::string& expects = node.component.ports[input.port].schema;
        const std::string& expected = running_components_[node_index].ports[input.port].schema;
        if (expects != expected) {
            return Error{ErrorCode::InvalidArgument, "component " + node.component.id + " expects " + expects +
                                                         " on input '" + input.channel + "', the running one " +
                                                         expected + ": that input was checked for " + expected};
        }
    }
    for (std::size_t index = 0; index < channel_schemas_.size(); ++index) {
        if (validated.channels[index].schema != channel_schemas_[index]) {
            return Error{ErrorCode::InvalidArgument,
                         "component " + node.component.id + " would make channel '" + candidate.channels[index].name +
                             "' carry " + validated.channels[index].schema + " instead of " + channel_schemas_[index] +
                             ": its readers expect what it carries now"};
        }
    }
    // Validation loaded it already: only a file that vanished since fails here.
    auto loaded = loader_->load(swap.plugin);
    if (!loaded) return Error{ErrorCode::InvalidArgument, loaded.error().message};
    const dhub_component_descriptor* descriptor = loaded.value()->descriptor_of(node.component.id);
    if (descriptor == nullptr) {
        return Error{ErrorCode::InvalidArgument,
                     "plugin " + loaded.value()->path.string() + " has no component '" + node.component.id + "'"};
    }
    if (auto initialised = initialise(*loaded.value(), id); !initialised) return initialised.error();
    return SwapPlan{node.component, *descriptor, node.params, loaded.value()->path.string()};
}

Result<nlohmann::json> GraphRunner::swap_node(std::string_view id, const SwapSpec& swap) {
    if (loader_ == nullptr || !running_spec_) {
        return Error{ErrorCode::InvalidArgument, "this runner runs one node for its kernel: swaps go to the kernel"};
    }
    const std::lock_guard lock(edit_mutex_);
    if (stop_announced_.load()) {
        return Error{ErrorCode::InvalidArgument,
                     "the graph is stopping: node '" + std::string(id) + "' is not swapped"};
    }
    const auto found = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node->id() == id; });
    if (found == nodes_.end()) return Error{ErrorCode::NotFound, "the graph has no node '" + std::string(id) + "'"};
    auto* node = dynamic_cast<Node*>(found->get());
    if (node == nullptr) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + std::string(id) +
                         "' runs in a process of its own (isolation: process): swap it by editing the graph"};
    }
    if (!node->swappable()) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + std::string(id) +
                         "' runs its own loop (queue mode) or several ports: the kernel has no step boundary to "
                         "swap it at"};
    }
    const std::size_t index = static_cast<std::size_t>(found - nodes_.begin());
    auto plan = plan_swap(index, swap);
    if (!plan) return plan.error();
    const std::string component = plan.value().component.id;
    const plugin::ComponentInfo plan_component = plan.value().component;
    auto outcome = node->swap(std::move(plan.value()));
    if (!outcome) return outcome.error();
    running_components_[index] = plan_component;
    graph::NodeSpec& running = running_spec_->nodes[index];
    running.plugin = swap.plugin;
    running.component = component;
    if (!swap.params.is_null()) running.params = swap.params;
    nlohmann::json answer = to_json(outcome.value());
    answer["node"] = std::string(id);
    answer["to"] = component;
    answer["plugin"] = swap.plugin;
    return answer;
}

Result<nlohmann::json> GraphRunner::node_params(std::string_view id) {
    const std::lock_guard lock(edit_mutex_);  // nodes_ and running_spec_ stay as they are
    const auto found = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node->id() == id; });
    if (found == nodes_.end()) return Error{ErrorCode::NotFound, "the graph has no node '" + std::string(id) + "'"};
    if (const auto* node = dynamic_cast<const Node*>(found->get())) return node->params_view();
    const graph::NodeSpec& spec = running_spec_->nodes[static_cast<std::size_t>(found - nodes_.begin())];
    return nlohmann::json{{"node", spec.id},
                          {"component", spec.component.value_or("")},
                          {"params", spec.params},
                          {"live", nlohmann::json::array()},
                          {"isolation", "process"}};
}

Result<nlohmann::json> GraphRunner::set_node_param(std::string_view id,
                                                   const std::string& name,
                                                   const nlohmann::json& value) {
    if (stop_announced_.load()) {
        return Error{ErrorCode::InvalidArgument,
                     "the graph is stopping: node '" + std::string(id) + "' keeps its parameters"};
    }
    const std::lock_guard lock(edit_mutex_);
    const auto found = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node->id() == id; });
    if (found == nodes_.end()) return Error{ErrorCode::NotFound, "the graph has no node '" + std::string(id) + "'"};
    auto* node = dynamic_cast<Node*>(found->get());
    if (node == nullptr) {
        return Error{ErrorCode::InvalidArgument, "node '" + std::string(id) +
                                                     "' runs in a process of its own (isolation: process): its "
                                                     "parameters are not live-tunable there yet"};
    }
    auto changed = node->set_param(name, value);
    if (!changed) return changed.error();
    // The running graph says what the node runs with now: a later swap that keeps the params keeps this one too.
    running_spec_->nodes[static_cast<std::size_t>(found - nodes_.begin())].params[name] = value;
    return changed;
}

}  // namespace dhub::runtime
