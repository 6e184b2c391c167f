// SPDX-License-Identifier: Apache-2.0
#include "validator_check.hpp"

#include <algorithm>

#include "channel_check.hpp"
#include "node_check.hpp"
#include "wording.hpp"

namespace dhub::graph::detail {
namespace {

using OnReject = ChannelValidatorSpec::OnReject;

std::optional<std::size_t> channel_index(const GraphSpec& graph, const std::string& name) {
    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        if (graph.channels[index].name == name) return index;
    }
    return std::nullopt;
}

/// The validator's component, kind and parameters; nullopt when it cannot be used (an issue said why).
std::optional<ValidatedNode> resolve(const ChannelValidatorSpec& spec,
                                     const GraphSpec& graph,
                                     const ComponentsOf& components_of,
                                     std::vector<GraphIssue>& issues) {
    const NodeSpec& node = spec.node;
    if (node.plugin.empty()) return std::nullopt;  // parse_graph reported it
    const auto& components = components_of(node.plugin);
    if (!components) {
        issues.push_back({node.json_path + "/plugin",
                          "plugin '" + node.plugin + "' could not be loaded: " + components.error().message +
                              " (the validator's parameters are checked once it loads)",
                          IssueKind::Plugin});
        return std::nullopt;
    }
    std::optional<plugin::ComponentInfo> component = pick_component(node, components.value(), issues);
    if (!component) return std::nullopt;
    if (component->kind != plugin::ComponentKind::Validator) {
        issues.push_back({node.json_path + (node.component ? "/component" : "/plugin"),
                          describe_component(*component) +
                              " is not a validator; a channel's \"validators\" run validator components "
                              "(kind validator, a validate handler)"});
        return std::nullopt;
    }
    if (component->mode != plugin::ComponentMode::Realtime) {
        issues.push_back({node.json_path + (node.component ? "/component" : "/plugin"),
                          describe_component(*component) +
                              " is a queue-mode validator (it drives itself with run()); a channel's validators are "
                              "called on each slot (validate), so use a realtime validator here, or run this one "
                              "as a node"});
        return std::nullopt;
    }
    ValidatedNode validated;
    validated.spec = &node;
    validated.params = apply_params(node, *component, graph.source_file.parent_path(), issues);
    validated.component = std::move(*component);
    return validated;
}

/// The channel's schema and slot size against what the validator's input port declares.
void check_fit(const ValidatedChannel& channel,
               const ValidatedNode& validator,
               const std::vector<schema::Schema>& declared,
               std::vector<GraphIssue>& issues) {
    const auto port =
        std::find_if(validator.component.ports.begin(), validator.component.ports.end(),
                     [](const plugin::PortInfo& p) { return p.direction == plugin::PortDirection::Input; });
    if (port == validator.component.ports.end()) return;
    const std::string& carried = channel.schema;
    if (carried != "*" && is_concrete(port->schema) && port->schema != carried) {
        std::string why;
        if (!readable_by_evolution(declared, port->schema, carried, why)) {
            issues.push_back({validator.spec->json_path, "channel '" + channel.spec->name + "' carries " + carried +
                                                             " but its validator " +
                                                             describe_component(validator.component) + " judges " +
                                                             port->schema + why + "; use a validator for " + carried});
        }
    }
    if (port->min_slot_bytes > 0 && channel.config.slot_bytes > 0 && channel.config.slot_bytes < port->min_slot_bytes) {
        issues.push_back({validator.spec->json_path, "channel '" + channel.spec->name + "' has slots of " +
                                                         std::to_string(channel.config.slot_bytes) + " bytes, but " +
                                                         describe_component(validator.component) + " needs " +
                                                         std::to_string(port->min_slot_bytes) +
                                                         "; set the channel's \"slot_bytes\" to at least that"});
    }
}

/// The quarantine channel a validator names: declared, not the channel itself, written by no node, and the
/// quarantine of one channel only (its writer is that channel's producer).
std::optional<std::size_t> check_quarantine(const GraphSpec& graph,
                                            std::size_t guarded,
                                            const ChannelValidatorSpec& spec,
                                            const std::vector<ChannelWiring>& wiring,
                                            const std::vector<NodeState>& nodes,
                                            std::vector<ValidatedChannel>& channels,
                                            std::vector<GraphIssue>& issues) {
    if (spec.on_reject != OnReject::Quarantine || spec.quarantine.empty()) return std::nullopt;
    const std::string path = spec.node.json_path + "/quarantine";
    const std::string& guarded_name = graph.channels[guarded].name;
    const std::optional<std::size_t> found = channel_index(graph, spec.quarantine);
    if (!found) {
        std::vector<std::string> names;
        for (const ChannelSpec& channel : graph.channels)
            names.push_back(channel.name);
        issues.push_back({path, "no channel '" + spec.quarantine + "' is declared" +
                                    did_you_mean(spec.quarantine, names) +
                                    "; declare the quarantine channel in \"channels\" (no node writes it)"});
        return std::nullopt;
    }
    const std::size_t quarantine = *found;
    if (quarantine == guarded) {
        issues.push_back({path, "channel '" + guarded_name +
                                    "' cannot be its own quarantine: its rejected slots must go elsewhere"});
        return std::nullopt;
    }
    if (!wiring[quarantine].producers.empty()) {
        const NodeSpec& writer = *nodes[wiring[quarantine].producers.front().node].spec;
        issues.push_back({path, "channel '" + spec.quarantine + "' is written by " + describe_node(writer) +
                                    "; a quarantine channel is written only by the validators that send it the "
                                    "slots they reject, so give it a channel of its own"});
        return std::nullopt;
    }
    if (!graph.channels[quarantine].validators.empty()) {
        issues.push_back({path, "channel '" + spec.quarantine +
                                    "' has validators of its own; a quarantine channel keeps rejected slots as they "
                                    "were, so it cannot be guarded"});
        return std::nullopt;
    }
    ValidatedChannel& target = channels[quarantine];
    if (target.quarantine_of && *target.quarantine_of != guarded) {
        issues.push_back({path, "channel '" + spec.quarantine + "' is already the quarantine of channel '" +
                                    graph.channels[*target.quarantine_of].name +
                                    "'; each guarded channel needs its own quarantine channel"});
        return std::nullopt;
    }
    target.quarantine_of = guarded;
    return quarantine;
}

/// A quarantine channel carries what its guarded channel does: the same schema and slots at least as large.
void configure_quarantine(ValidatedChannel& target,
                          const ValidatedChannel& guarded,
                          const ChannelWiring& wiring,
                          const std::vector<NodeState>& nodes,
                          const std::vector<schema::Schema>& declared,
                          std::vector<GraphIssue>& issues) {
    const ChannelSpec& spec = *target.spec;
    if (spec.schema && *spec.schema != "*" && *spec.schema != guarded.schema) {
        issues.push_back({spec.json_path + "/schema", "channel '" + spec.name + "' declares schema " + *spec.schema +
                                                          " but keeps the rejected slots of channel '" +
                                                          guarded.spec->name + "', which carries " + guarded.schema +
                                                          "; change \"schema\" or leave it out"});
    }
    target.producer = guarded.producer;
    target.schema = guarded.schema;
    target.descriptor = guarded.descriptor;
    const std::uint64_t needed = guarded.config.slot_bytes;
    if (spec.slot_bytes && *spec.slot_bytes < needed) {
        issues.push_back({spec.json_path + "/slot_bytes",
                          "slot_bytes " + std::to_string(*spec.slot_bytes) + " is smaller than the " +
                              std::to_string(needed) + "-byte slots of channel '" + guarded.spec->name +
                              "', whose rejected slots it keeps whole; set it to at least " + std::to_string(needed) +
                              " or leave it out"});
    }
    shm::ChannelConfig& config = target.config;
    config = guarded.config;
    config.name = spec.name;
    config.slot_bytes = static_cast<std::size_t>(spec.slot_bytes.value_or(needed));
    config.slot_count = spec.slot_count;
    config.ring = spec.ring;
    config.sync = spec.sync;
    config.checksum = spec.checksum;
    config.flex_zone_bytes = spec.flex_zone_bytes;
    config.max_consumers = spec.max_consumers;
    config.gate_entries = 0;
    if (auto valid = shm::validate(config); !valid) issues.push_back({spec.json_path, valid.error().message});
    check_reader_schemas(spec, wiring, nodes, "the validators of channel '" + guarded.spec->name + "'", declared,
                         target.schema, issues);
}

}  // namespace

void check_validators(const GraphSpec& graph,
                      const ComponentsOf& components_of,
                      const std::vector<ChannelWiring>& wiring,
                      const std::vector<NodeState>& nodes,
                      const std::vector<schema::Schema>& declared,
                      std::vector<ValidatedChannel>& channels,
                      std::vector<GraphIssue>& issues) {
    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        const ChannelSpec& spec = graph.channels[index];
        for (const ChannelValidatorSpec& validator : spec.validators) {
            ValidatedValidator& result = channels[index].validators.emplace_back();
            result.spec = &validator;
            result.node.spec = &validator.node;
            if (auto resolved = resolve(validator, graph, components_of, issues)) {
                check_fit(channels[index], *resolved, declared, issues);
                result.node = std::move(*resolved);
            }
            result.quarantine = check_quarantine(graph, index, validator, wiring, nodes, channels, issues);
        }
        if (!spec.validators.empty()) {
            channels[index].config.gate_entries =
                static_cast<std::uint32_t>(spec.validators.size()) * ChannelValidatorSpec::GATE_ROWS;
        }
    }
    for (std::size_t index = 0; index < channels.size(); ++index) {
        if (const auto guarded = channels[index].quarantine_of) {
            configure_quarantine(channels[index], channels[*guarded], wiring[index], nodes, declared, issues);
        }
    }
}

}  // namespace dhub::graph::detail
