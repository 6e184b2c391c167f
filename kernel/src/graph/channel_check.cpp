// SPDX-License-Identifier: Apache-2.0
#include "channel_check.hpp"

#include <algorithm>
#include <map>

#include "dhub/schema/compatibility.hpp"
#include "json_fields.hpp"
#include "node_check.hpp"
#include "wording.hpp"

namespace dhub::graph::detail {
namespace {

using plugin::ComponentInfo;

/// The broker's limit for channel names (message.hpp, FieldKind::Name).
constexpr std::size_t MAX_REMOTE_CHANNEL_NAME = 128;

/// Whether the node's schema and slot declarations are compared with its channels. A transport carries
/// whatever its channel holds to or from elsewhere, so only its channels' existence is checked.
bool compared(const NodeState& node) {
    return node.component && node.reportable && node.component->kind != plugin::ComponentKind::Transport;
}

std::string describe_writer(const NodeState& node) {
    return describe_node(*node.spec) + " (component " + node.component->id + ")";
}

void connect(const NodeState& node,
             std::size_t node_index,
             const std::vector<PortBinding>& entries,
             const char* key,
             const std::map<std::string, std::size_t, std::less<>>& by_name,
             const std::vector<std::string>& declared,
             std::vector<ChannelWiring>& wiring,
             bool has_broker,
             Issues& issues) {
    for (std::size_t index = 0; index < entries.size(); ++index) {
        const std::string& name = entries[index].channel;
        const std::string& path = entries[index].json_path;
        if (name.empty()) continue;  // unreadable; parse_graph said so
        if (name.starts_with(REMOTE_INPUT_PREFIX)) {
            // Another kernel's channel: it is found, checked and attached at run time through the broker.
            const std::string remote = name.substr(REMOTE_INPUT_PREFIX.size());
            if (std::string_view(key) != "inputs") {
                issues.push_back({path, "'" + name +
                                            "' names another kernel's channel; only inputs can, an output "
                                            "is always a channel of this graph"});
            } else if (!has_broker) {
                issues.push_back({path, "input '" + name +
                                            "' reads a channel through the broker, but the graph has no \"broker\" "
                                            "section; add one (docs/graph.md)"});
            } else if (!is_identifier(remote, MAX_REMOTE_CHANNEL_NAME, /*allow_dot=*/true)) {
                issues.push_back({path,
                                  "expected 'broker:' followed by a channel name of 1 to 128 letters, digits, "
                                  "'_', '-' or '.', found '" +
                                      name + "'"});
            }
            continue;
        }
        const auto found = by_name.find(name);
        if (found != by_name.end()) {
            ChannelWiring& channel = wiring[found->second];
            (std::string_view(key) == "inputs" ? channel.consumers : channel.producers).push_back({node_index, index});
            continue;
        }
        if (!node.reportable) continue;
        issues.push_back({path, "no channel '" + name + "' is declared" +
                                    (declared.empty() ? std::string() : "; declared channels: " + join(declared)) +
                                    did_you_mean(name, declared) + "; declare it in \"channels\" or fix the name"});
    }
}

/// The port of a compared node that an entry binds; nullptr when there is nothing to compare.
const plugin::PortInfo* compared_port(const NodeState& node, bool input, std::size_t entry) {
    return compared(node) ? node.port_of(input, entry) : nullptr;
}

/// The slot size the channel gets: its own, or the producer's fixed size when it declares none.
std::optional<std::uint64_t> slot_size(const ChannelSpec& channel,
                                       const NodeState* producer,
                                       const plugin::PortInfo* port,
                                       Issues& issues) {
    if (channel.slot_bytes) return channel.slot_bytes;
    if (producer == nullptr || !producer->component) return std::nullopt;
    if (port != nullptr && port->min_slot_bytes > 0) return port->min_slot_bytes;
    issues.push_back({channel.json_path, "slot_bytes is required: producer " + describe_writer(*producer) +
                                             " declares no fixed slot size; add \"slot_bytes\" with the largest "
                                             "payload in bytes"});
    return std::nullopt;
}

void check_slot_size(const ChannelSpec& channel,
                     std::uint64_t slot_bytes,
                     const NodeState& node,
                     std::uint64_t needed,
                     const char* role,
                     Issues& issues) {
    if (slot_bytes >= needed) return;
    const std::string where = channel.slot_bytes ? channel.json_path + "/slot_bytes" : channel.json_path;
    const std::string what = channel.slot_bytes ? "slot_bytes " : "slot_bytes (taken from the producer) ";
    issues.push_back({where, what + std::to_string(slot_bytes) + " is smaller than the " + std::to_string(needed) +
                                 " bytes its " + role + " " + describe_writer(node) +
                                 " needs; set \"slot_bytes\" to at least " + std::to_string(needed)});
}

}  // namespace

bool is_concrete(const std::optional<std::string>& schema) {
    return schema && !schema->empty() && *schema != "*";
}

const schema::Schema* find_declared(const std::vector<schema::Schema>& declared, std::string_view id) {
    for (const schema::Schema& candidate : declared) {
        if (candidate.id() == id) return &candidate;
    }
    return nullptr;
}

/// Whether a consumer expecting `expected` may read a channel carrying `carried` although the ids differ:
/// only when both are declared and the evolution rule allows it. Sets `why` when the rule refuses.
bool readable_by_evolution(const std::vector<schema::Schema>& declared,
                           const std::string& expected,
                           const std::string& carried,
                           std::string& why) {
    const auto expected_ref = schema::parse_schema_id(expected);
    const auto carried_ref = schema::parse_schema_id(carried);
    if (!expected_ref || !carried_ref || expected_ref->name != carried_ref->name) return false;
    const schema::Schema* reader = find_declared(declared, expected);
    const schema::Schema* writer = find_declared(declared, carried);
    if (reader == nullptr || writer == nullptr) {
        why =
            "; declare both versions (in \"schemas\", or by the plugins) for the evolution rule (docs/schemas.md) "
            "to decide";
        return false;
    }
    const schema::Verdict verdict = schema::check_readable(*reader, *writer);
    if (!verdict.accepted) why = " (" + verdict.why + ")";
    return verdict.accepted;
}

void check_reader_schemas(const ChannelSpec& channel,
                          const ChannelWiring& wiring,
                          const std::vector<NodeState>& nodes,
                          const std::string& writer,
                          const std::vector<schema::Schema>& declared,
                          const std::string& effective,
                          Issues& issues) {
    if (effective == "*") return;
    for (const Port& port : wiring.consumers) {
        const NodeState& consumer = nodes[port.node];
        const plugin::PortInfo* reading = compared_port(consumer, true, port.index);
        if (reading == nullptr) continue;
        const std::optional<std::string> expected = reading->schema;
        if (!is_concrete(expected) || *expected == effective) continue;
        std::string why;
        if (readable_by_evolution(declared, *expected, effective, why)) continue;
        issues.push_back({consumer.spec->inputs[port.index].json_path,
                          "channel '" + channel.name + "' carries " + effective + " (written by " + writer + ") but " +
                              describe_writer(consumer) + " expects " + *expected + why +
                              "; connect it to a channel of " + *expected + " or put a converting stage in between"});
    }
}

namespace {

void check_schemas(const ChannelSpec& channel,
                   const ChannelWiring& wiring,
                   const std::vector<NodeState>& nodes,
                   const NodeState& producer,
                   const plugin::PortInfo* producer_port,
                   const std::vector<schema::Schema>& declared,
                   std::string& effective,
                   Issues& issues) {
    const std::optional<std::string> written =
        producer_port != nullptr ? std::optional<std::string>(producer_port->schema) : std::optional<std::string>();
    if (is_concrete(written)) {
        effective = *written;
        if (channel.schema && *channel.schema != "*" && *channel.schema != *written) {
            issues.push_back({channel.json_path + "/schema", "channel '" + channel.name + "' declares schema " +
                                                                 *channel.schema + " but its producer " +
                                                                 describe_writer(producer) + " writes " + *written +
                                                                 "; change \"schema\" or the producer"});
        }
    } else if (channel.schema) {
        // A producer that writes anything (a transport, a pass-through) leaves the channel's own schema.
        effective = *channel.schema;
    }
    check_reader_schemas(channel, wiring, nodes, describe_node(*producer.spec), declared, effective, issues);
}

/// The seats a channel's readers need. A latest reader (input "delivery": "latest") never holds the producer
/// back, so it does not count as single_reader's one reader; but it takes a seat, and on single_reader not
/// seat 0, which stays the reader's.
void check_readers(const ChannelSpec& channel,
                   const std::vector<Port>& ports,
                   const std::vector<std::size_t>& consumers,
                   const std::vector<NodeState>& nodes,
                   bool published,
                   Issues& issues) {
    std::vector<std::string> readers;
    std::vector<std::string> lossless;
    for (const std::size_t node : consumers) {
        readers.push_back(describe_node(*nodes[node].spec));
        const bool latest = std::any_of(ports.begin(), ports.end(), [&](const Port& port) {
            return port.node == node && nodes[node].spec->inputs[port.index].delivery == shm::Delivery::Latest;
        });
        if (!latest) lossless.push_back(readers.back());
    }
    if (channel.sync == shm::SyncPolicy::SingleReader && lossless.size() > 1) {
        issues.push_back({channel.json_path + "/sync",
                          "single_reader allows one consumer, but " + std::to_string(lossless.size()) +
                              " read channel '" + channel.name + "' (" + join(lossless) +
                              "); use \"every_reader\" or \"latest_only\", or give the inputs that only need "
                              "the newest slot \"delivery\": \"latest\""});
    }
    // Published through a broker, the lossless reader may be another kernel's.
    if (channel.sync == shm::SyncPolicy::SingleReader && lossless.empty() && !consumers.empty() && !published) {
        issues.push_back({channel.json_path + "/sync",
                          "single_reader channel '" + channel.name + "' is read only with \"delivery\": \"latest\" (" +
                              join(readers) +
                              "): its producer would wait for a lossless reader that never comes and stop after " +
                              "the first ring; use \"every_reader\" or \"latest_only\""});
    }
    const bool seat_zero_kept = channel.sync == shm::SyncPolicy::SingleReader && lossless.size() < consumers.size();
    const std::size_t seats = consumers.size() + (seat_zero_kept && lossless.empty() ? 1 : 0);
    if (seats > channel.max_consumers) {
        issues.push_back(
            {channel.json_path + "/max_consumers",
             "max_consumers " + std::to_string(channel.max_consumers) + " is smaller than the " +
                 std::to_string(consumers.size()) + " nodes reading channel '" + channel.name + "' (" + join(readers) +
                 ")" + (seats > consumers.size() ? " plus seat 0, which single_reader keeps for its reader" : "") +
                 "; raise it to at least " + std::to_string(seats)});
    }
}

/// A node that binds one channel to two of its entries: two readers' seats for one node (the second attach
/// fails), a slot paired with itself, or every slot written twice through one producer.
void report_twice_bound(const std::vector<NodeState>& nodes,
                        const std::vector<ChannelWiring>& wiring,
                        const GraphSpec& graph,
                        Issues& issues) {
    const auto check = [&](const std::vector<Port>& ports, bool input, const std::string& channel) {
        for (std::size_t later = 1; later < ports.size(); ++later) {
            for (std::size_t earlier = 0; earlier < later; ++earlier) {
                if (ports[earlier].node != ports[later].node) continue;
                const NodeSpec& spec = *nodes[ports[later].node].spec;
                const auto& entries = input ? spec.inputs : spec.outputs;
                issues.push_back({entries[ports[later].index].json_path,
                                  describe_node(spec) + (input ? " reads" : " writes") + " channel '" + channel +
                                      "' twice (also at " + entries[ports[earlier].index].json_path +
                                      "); bind a channel once per node" +
                                      (input ? "" : ", and copy a stream to several channels with dhub.stage.tee")});
                break;
            }
        }
    };
    for (std::size_t index = 0; index < wiring.size(); ++index) {
        check(wiring[index].consumers, true, graph.channels[index].name);
        check(wiring[index].producers, false, graph.channels[index].name);
    }
}

}  // namespace

std::vector<ChannelWiring> wire_channels(const GraphSpec& graph, const std::vector<NodeState>& nodes, Issues& issues) {
    std::map<std::string, std::size_t, std::less<>> by_name;
    std::vector<std::string> declared;
    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        const std::string& name = graph.channels[index].name;
        if (name.empty() || !by_name.emplace(name, index).second) continue;
        declared.push_back(name);
    }
    std::vector<ChannelWiring> wiring(graph.channels.size());
    if (!graph.channels_listed) {
        // Every port would be "no such channel": one line says what was not checked instead.
        issues.push_back({"/channels",
                          "skipped: the channel names in the nodes' \"inputs\" and \"outputs\" are checked once "
                          "\"channels\" is an array"});
        return wiring;
    }
    for (std::size_t node = 0; node < nodes.size(); ++node) {
        const bool has_broker = graph.broker.has_value();
        connect(nodes[node], node, nodes[node].spec->outputs, "outputs", by_name, declared, wiring, has_broker, issues);
        connect(nodes[node], node, nodes[node].spec->inputs, "inputs", by_name, declared, wiring, has_broker, issues);
    }
    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        const ChannelSpec& channel = graph.channels[index];
        const auto found = by_name.find(channel.name);
        if (found == by_name.end() || found->second != index) continue;  // unnamed or a duplicate (parse said so)
        const std::vector<Port>& producers = wiring[index].producers;
        const bool quarantine =
            std::any_of(graph.channels.begin(), graph.channels.end(), [&](const ChannelSpec& other) {
                return std::any_of(other.validators.begin(), other.validators.end(),
                                   [&](const ChannelValidatorSpec& v) { return v.quarantine == channel.name; });
            });
        if (producers.empty() && quarantine) continue;  // its validators write it (validator_check.cpp)
        if (producers.empty()) {
            issues.push_back({channel.json_path, "channel '" + channel.name +
                                                     "' has no producer: no node lists it in "
                                                     "\"outputs\"; add a producer or remove the channel"});
            continue;
        }
        const NodeSpec& first = *nodes[producers.front().node].spec;
        for (std::size_t extra = 1; extra < producers.size(); ++extra) {
            const NodeState& other = nodes[producers[extra].node];
            if (producers[extra].node == producers.front().node || !other.reportable) continue;
            issues.push_back({other.spec->outputs[producers[extra].index].json_path,
                              describe_node(*other.spec) + " writes channel '" + channel.name + "', which " +
                                  describe_node(first) + " (" + first.json_path +
                                  ") already writes; a channel has one producer, give each its own channel"});
        }
    }
    report_twice_bound(nodes, wiring, graph, issues);
    return wiring;
}

ValidatedChannel check_channel(const ChannelSpec& channel,
                               const ChannelWiring& wiring,
                               const std::vector<NodeState>& nodes,
                               const std::vector<schema::Schema>& declared,
                               bool published,
                               Issues& issues) {
    ValidatedChannel result;
    result.spec = &channel;
    result.schema = channel.schema.value_or("*");
    if (channel.name.empty()) return result;  // parse_graph reported it; anything more would repeat that
    for (const Port& port : wiring.consumers) {
        if (std::find(result.consumers.begin(), result.consumers.end(), port.node) == result.consumers.end()) {
            result.consumers.push_back(port.node);
        }
    }
    check_readers(channel, wiring.consumers, result.consumers, nodes, published, issues);

    const NodeState* producer = wiring.producers.empty() ? nullptr : &nodes[wiring.producers.front().node];
    const plugin::PortInfo* producer_port =
        producer != nullptr ? compared_port(*producer, false, wiring.producers.front().index) : nullptr;
    if (producer != nullptr) result.producer = wiring.producers.front().node;
    if (producer != nullptr && producer->component) {
        result.schema = "*";
        check_schemas(channel, wiring, nodes, *producer, producer_port, declared, result.schema, issues);
    }
    if (const schema::Schema* typed = find_declared(declared, result.schema)) result.descriptor = *typed;

    const std::optional<std::uint64_t> slot_bytes = producer != nullptr && producer->reportable
                                                        ? slot_size(channel, producer, producer_port, issues)
                                                        : channel.slot_bytes;
    if (!slot_bytes) return result;
    if (producer_port != nullptr) {
        check_slot_size(channel, *slot_bytes, *producer, producer_port->min_slot_bytes, "producer", issues);
    }
    for (const Port& port : wiring.consumers) {
        const NodeState& consumer = nodes[port.node];
        const plugin::PortInfo* reading = compared_port(consumer, true, port.index);
        if (reading == nullptr) continue;
        check_slot_size(channel, *slot_bytes, consumer, reading->min_slot_bytes, "consumer", issues);
    }
    if (result.descriptor && *slot_bytes < result.descriptor->size) {
        const std::string where = channel.slot_bytes ? channel.json_path + "/slot_bytes" : channel.json_path;
        issues.push_back({where, "slot_bytes " + std::to_string(*slot_bytes) + " is smaller than the " +
                                     std::to_string(result.descriptor->size) + " bytes of schema " + result.schema +
                                     "; set \"slot_bytes\" to at least " + std::to_string(result.descriptor->size)});
    }

    shm::ChannelConfig& config = result.config;
    config.name = channel.name;
    config.slot_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(*slot_bytes, shm::MAX_SLOT_BYTES + 1));
    config.slot_count = channel.slot_count;
    config.ring = channel.ring;
    config.sync = channel.sync;
    config.checksum = channel.checksum;
    config.flex_zone_bytes = channel.flex_zone_bytes;
    config.max_consumers = channel.max_consumers;
    config.schema_hash = schema::id_hash(result.schema);
    // Stored in the segment, docs included, so that inspection and other languages read the fields.
    if (result.descriptor) config.schema_descriptor = schema::to_json(*result.descriptor).dump();
    if (auto valid = shm::validate(config); !valid) {
        issues.push_back({channel.json_path, valid.error().message});
    }
    return result;
}

}  // namespace dhub::graph::detail
