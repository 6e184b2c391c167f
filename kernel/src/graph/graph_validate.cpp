// SPDX-License-Identifier: Apache-2.0
// validate_graph: the document against what the plugins declare. The steps are independent enough that
// each one reports all it finds; a node whose plugin cannot be looked up is reported once and then left
// out of the checks that would only repeat that.
#include <algorithm>
#include <map>

#include "channel_check.hpp"
#include "dhub/graph/graph_spec.hpp"
#include "dhub/schema/compatibility.hpp"
#include "graph_order.hpp"
#include "isolation_check.hpp"
#include "node_check.hpp"
#include "port_binding.hpp"
#include "validation_state.hpp"
#include "validator_check.hpp"

namespace dhub::graph {
namespace {

using detail::NodeState;
using Components = Result<std::vector<plugin::ComponentInfo>>;

/// The lookup is plugin code behind a std::function: whatever it throws becomes its error.
Components look_up(const ComponentLookup& lookup, const std::string& plugin) {
    try {
        return lookup(plugin);
    } catch (const std::exception& error) {
        return Error{ErrorCode::Io, std::string("the plugin lookup failed: ") + error.what()};
    } catch (...) {
        return Error{ErrorCode::Io, "the plugin lookup failed with an unknown exception"};
    }
}

/// Each plugin looked up once, whoever names it first.
class PluginCache {
public:
    explicit PluginCache(const ComponentLookup& lookup) : lookup_(lookup) {}
    /// The plugin's components; first() says whether this was the first time it was asked for.
    const Components& components(const std::string& plugin, bool* first = nullptr) {
        auto found = by_plugin_.find(plugin);
        if (first != nullptr) *first = found == by_plugin_.end();
        if (found == by_plugin_.end()) found = by_plugin_.emplace(plugin, look_up(lookup_, plugin)).first;
        return found->second;
    }

private:
    const ComponentLookup& lookup_;
    std::map<std::string, Components, std::less<>> by_plugin_;
};

std::vector<NodeState> resolve_nodes(const GraphSpec& graph, PluginCache& plugins, std::vector<GraphIssue>& issues) {
    std::vector<NodeState> nodes;
    for (const NodeSpec& spec : graph.nodes) {
        NodeState& node = nodes.emplace_back();
        node.spec = &spec;
        if (spec.plugin.empty()) continue;  // parse_graph reported it
        bool first = false;
        const Components& found = plugins.components(spec.plugin, &first);
        if (!found && first) {
            issues.push_back({spec.json_path + "/plugin",
                              "plugin '" + spec.plugin + "' could not be loaded: " + found.error().message +
                                  " (the parameters and ports of the nodes using it are checked once it loads)",
                              IssueKind::Plugin});
        }
        if (!found) {
            node.reportable = false;
            continue;
        }
        node.component = detail::pick_component(spec, found.value(), issues);
        if (!node.component) continue;
        node.params = detail::apply_params(spec, *node.component, graph.source_file.parent_path(), issues);
        detail::check_pacing(spec, *node.component, issues);
        detail::bind_ports(node, issues);
    }
    return nodes;
}

/// Producer to consumer along every channel; a quarantine channel's consumers hang off the producer of the
/// channel it serves (that node writes it).
detail::Adjacency connect_nodes(const std::vector<detail::ChannelWiring>& wiring,
                                const std::vector<ValidatedChannel>& channels,
                                std::size_t node_count) {
    detail::Adjacency edges(node_count);
    for (std::size_t channel = 0; channel < wiring.size(); ++channel) {
        const std::size_t writes = channels[channel].quarantine_of.value_or(channel);
        if (wiring[writes].producers.empty()) continue;
        const detail::Port& producer = wiring[writes].producers.front();
        for (const detail::Port& consumer : wiring[channel].consumers) {
            edges[producer.node].push_back({producer.node, consumer.node, channel, producer.index});
        }
    }
    return edges;
}

void report_cycles(const GraphSpec& graph, const detail::Adjacency& edges, std::vector<GraphIssue>& issues) {
    for (const std::vector<detail::Edge>& cycle : detail::find_cycles(edges)) {
        if (cycle.empty()) continue;
        const auto name = [&graph](std::size_t node) {
            const NodeSpec& spec = graph.nodes[node];
            return spec.id.empty() ? spec.json_path : spec.id;
        };
        std::string path_text = name(cycle.front().from);
        std::string channels;
        for (const detail::Edge& edge : cycle) {
            path_text += " -> " + name(edge.to);
            channels += (channels.empty() ? "" : ", ") + graph.channels[edge.channel].name;
        }
        const detail::Edge& first = cycle.front();
        issues.push_back({graph.nodes[first.from].outputs[first.output].json_path,
                          "nodes form a cycle: " + path_text + " (through channels " + channels +
                              "); data must flow one way, remove one of these channels from a node's inputs "
                              "or outputs"});
    }
}

/// The graph's declared schemas, then those the nodes' components declare. A plugin's document for an id the
/// graph (or an earlier plugin) already knows must be the same schema: a difference is an issue at the node.
void collect_schemas(const GraphSpec& graph,
                     const std::vector<NodeState>& nodes,
                     ValidatedGraph& result,
                     std::vector<GraphIssue>& issues) {
    for (const schema::Schema& declared : graph.schemas) {
        result.schemas.push_back(declared);
        result.schema_sources.push_back("graph");
    }
    for (const NodeState& node : nodes) {
        if (!node.component) continue;
        const std::string source = "plugin " + node.component->plugin + " (component " + node.component->id + ")";
        for (const schema::Schema& declared : node.component->schemas) {
            const auto known = std::find_if(result.schemas.begin(), result.schemas.end(),
                                            [&](const schema::Schema& s) { return s.id() == declared.id(); });
            if (known == result.schemas.end()) {
                result.schemas.push_back(declared);
                result.schema_sources.push_back(source);
                continue;
            }
            if (schema::fingerprint(*known) == schema::fingerprint(declared)) continue;
            const std::size_t index = static_cast<std::size_t>(known - result.schemas.begin());
            const schema::Verdict verdict = schema::check_readable(*known, declared);
            issues.push_back({node.spec->json_path + "/plugin",
                              source + " declares " + declared.id() + " unlike " + result.schema_sources[index] +
                                  (verdict.why.empty() ? std::string() : " (" + verdict.why + ")") +
                                  "; one id must name one schema: give the changed one a new version"});
        }
    }
}

ValidatedGraph check_graph(const GraphSpec& graph, const ComponentLookup& lookup, std::vector<GraphIssue>& issues) {
    ValidatedGraph result;
    result.spec = &graph;
    PluginCache plugins(lookup);
    std::vector<NodeState> nodes = resolve_nodes(graph, plugins, issues);
    detail::check_isolation(graph, result.warnings, issues);
    collect_schemas(graph, nodes, result, issues);
    const std::vector<detail::ChannelWiring> wiring = detail::wire_channels(graph, nodes, issues);
    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        result.channels.push_back(detail::check_channel(graph.channels[index], wiring[index], nodes, result.schemas,
                                                        graph.broker.has_value(), issues));
    }
    detail::check_validators(
        graph, [&plugins](const std::string& plugin) -> const Components& { return plugins.components(plugin); },
        wiring, nodes, result.schemas, result.channels, issues);
    const detail::Adjacency edges = connect_nodes(wiring, result.channels, nodes.size());
    report_cycles(graph, edges, issues);
    result.start_order = detail::start_order(edges);
    for (NodeState& node : nodes) {
        ValidatedNode& validated = result.nodes.emplace_back();
        validated.spec = node.spec;
        if (node.component) {
            // The host API's port order: bound channels per port, in the component's declaration order.
            for (const std::size_t entry : node.input_order) {
                const PortBinding& binding = node.spec->inputs[entry];
                validated.inputs.push_back(
                    {binding.channel, node.input_ports[entry], binding.json_path, binding.delivery});
            }
            for (const std::size_t entry : node.output_order) {
                const PortBinding& binding = node.spec->outputs[entry];
                validated.outputs.push_back(
                    {binding.channel, node.output_ports[entry], binding.json_path, binding.delivery});
            }
            validated.component = std::move(*node.component);
        }
        validated.params = std::move(node.params);
    }
    return result;
}

}  // namespace

ValidatedGraph validate_graph(const GraphSpec& graph, const ComponentLookup& lookup, std::vector<GraphIssue>& issues) {
    // Configuration-time code may throw (allocation, nlohmann on odd values); the contract is issues only.
    try {
        return check_graph(graph, lookup, issues);
    } catch (const std::exception& error) {
        issues.push_back({"", std::string("internal error while validating the graph: ") + error.what() +
                                  "; please report this with the document"});
    } catch (...) {
        issues.push_back({"", "internal error while validating the graph; please report this with the document"});
    }
    ValidatedGraph empty;
    empty.spec = &graph;
    return empty;
}

}  // namespace dhub::graph
