// SPDX-License-Identifier: Apache-2.0
// parse_graph and load_graph_file: the shape of the document, checked without any plugin.
#include <array>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>

#include "dhub/graph/graph_spec.hpp"
#include "export_parse.hpp"
#include "isolation_parse.hpp"
#include "json_fields.hpp"
#include "json_reader.hpp"
#include "pacing_parse.hpp"
#include "schema_declarations.hpp"
#include "validator_parse.hpp"
#include "wording.hpp"

namespace dhub::graph {
namespace {

using detail::Issues;
using Json = nlohmann::json;

// The kernel prefixes channel names (dhub1.<graph>.<channel>), so a graph channel leaves room for that
// within shm::MAX_CHANNEL_NAME.
constexpr std::size_t MAX_GRAPH_CHANNEL_NAME = 120;
constexpr std::size_t MAX_PLUGIN_NAME = 64;
// A graph document is configuration; anything larger is a wrong file, and reading it whole would hurt.
constexpr std::uintmax_t MAX_FILE_BYTES = std::uintmax_t{16} << 20;

const std::vector<std::string> TOP_KEYS = {"schema_version", "name",  "plugin_path", "schemas",
                                           "channels",       "nodes", "broker",      "isolation"};
const std::vector<std::string> BROKER_KEYS = {"endpoint",         "embedded", "server_key",   "client_key",
                                              "secret_key",       "allow",    "heartbeat_ms", "dead_after_ms",
                                              "on_producer_lost", "export"};
const std::vector<std::string> PRODUCER_LOST_NAMES = {"wait", "stop_node"};
constexpr std::array PRODUCER_LOST_VALUES = {BrokerSpec::OnProducerLost::Wait, BrokerSpec::OnProducerLost::StopNode};
const std::vector<std::string> CHANNEL_KEYS = {"name",     "slot_bytes",      "slot_count",    "ring",   "sync",
                                               "checksum", "flex_zone_bytes", "max_consumers", "schema", "validators"};
/// With detail::SUPERVISION_KEYS, every key a node may have.
const std::vector<std::string> NODE_BASE_KEYS = {"id",       "plugin", "component", "params", "inputs", "outputs",
                                                 "on_error", "cpu",    "burst",     "pacing", "fuse"};

std::vector<std::string> node_keys() {
    std::vector<std::string> keys = NODE_BASE_KEYS;
    keys.insert(keys.end(), detail::SUPERVISION_KEYS.begin(), detail::SUPERVISION_KEYS.end());
    return keys;
}
const std::vector<std::string> ON_ERROR_KEYS = {"action", "max_consecutive"};
const std::vector<std::string> BINDING_KEYS = {"channel", "delivery"};
const std::vector<std::string> DELIVERY_NAMES = {"channel", "latest"};
constexpr std::array DELIVERY_VALUES = {shm::Delivery::Channel, shm::Delivery::Latest};

const std::vector<std::string> RING_NAMES = {"single", "double", "ring"};
constexpr std::array RING_VALUES = {shm::RingPolicy::Single, shm::RingPolicy::Double, shm::RingPolicy::Ring};
const std::vector<std::string> SYNC_NAMES = {"latest_only", "single_reader", "every_reader"};
constexpr std::array SYNC_VALUES = {shm::SyncPolicy::LatestOnly, shm::SyncPolicy::SingleReader,
                                    shm::SyncPolicy::EveryReader};
const std::vector<std::string> CHECKSUM_NAMES = {"none", "compute", "verify"};
constexpr std::array CHECKSUM_VALUES = {shm::ChecksumPolicy::None, shm::ChecksumPolicy::Compute,
                                        shm::ChecksumPolicy::Verify};
const std::vector<std::string> ACTION_NAMES = {"continue", "stop_node", "stop_graph"};
constexpr std::array ACTION_VALUES = {ErrorPolicy::Action::Continue, ErrorPolicy::Action::StopNode,
                                      ErrorPolicy::Action::StopGraph};

const std::string CHANNEL_NAME_RULE = "a channel name of 1 to 120 letters, digits, '_', '-' or '.'";
const std::string NODE_ID_RULE = "a node id of 1 to 64 letters, digits, '_' or '-'";
const std::string PLUGIN_RULE = "a plugin name of 1 to 64 letters, digits, '_' or '-' (file dhub-<plugin>.so)";

void parse_schema_version(const Json& root, Issues& issues) {
    const Json* version = detail::require_member(
        root, "", "schema_version", "the document format version, " + std::to_string(GRAPH_SCHEMA_VERSION), issues);
    if (version == nullptr) return;
    if (version->is_number_integer() && version->get<std::int64_t>() == GRAPH_SCHEMA_VERSION) return;
    issues.push_back({"/schema_version", "this dhub reads schema_version " + std::to_string(GRAPH_SCHEMA_VERSION) +
                                             ", found " + detail::describe(*version) +
                                             "; convert the document or use a dhub that reads that version"});
}

std::string parse_name(const Json& root, const std::filesystem::path& source_file, Issues& issues) {
    if (const Json* name = detail::find_member(root, "name")) {
        if (auto text = detail::read_string(*name, "/name", "a non-empty string", issues)) return *text;
    }
    const std::string stem = source_file.stem().string();
    return stem.empty() ? std::string("graph") : stem;
}

std::vector<std::filesystem::path> parse_plugin_path(const Json& root,
                                                     const std::filesystem::path& source_file,
                                                     Issues& issues) {
    std::vector<std::filesystem::path> directories;
    const Json* list = detail::find_member(root, "plugin_path");
    if (list == nullptr) return directories;
    if (!detail::expect_array(*list, "/plugin_path", "an array of directory paths", issues)) return directories;
    for (std::size_t index = 0; index < list->size(); ++index) {
        const std::string path = detail::child_path("/plugin_path", index);
        const auto text = detail::read_string((*list)[index], path, "a directory path", issues);
        if (!text) continue;
        std::filesystem::path directory(*text);
        // Relative to the graph file, so a graph and its plugins can move together.
        if (directory.is_relative() && !source_file.empty()) directory = source_file.parent_path() / directory;
        directories.push_back(directory.lexically_normal());
    }
    return directories;
}

template <typename Enum, std::size_t N>
void read_policy(const Json& entry,
                 const std::string& path,
                 const char* key,
                 const std::vector<std::string>& names,
                 const std::array<Enum, N>& values,
                 Enum& target,
                 Issues& issues) {
    if (const Json* value = detail::find_member(entry, key)) {
        if (auto index = detail::read_choice(*value, detail::child_path(path, key), names, issues)) {
            target = values[*index];
        }
    }
}

template <typename Number>
void read_count(const Json& entry,
                const std::string& path,
                const char* key,
                std::uint64_t min,
                std::uint64_t max,
                Number& target,
                Issues& issues) {
    if (const Json* value = detail::find_member(entry, key)) {
        if (auto number = detail::read_unsigned(*value, detail::child_path(path, key), min, max, issues)) {
            target = static_cast<Number>(*number);
        }
    }
}

ChannelSpec parse_channel(const Json& entry, const std::string& path, Issues& issues) {
    ChannelSpec channel;
    channel.json_path = path;
    detail::check_known_keys(entry, path, CHANNEL_KEYS, issues);
    if (const Json* name = detail::require_member(entry, path, "name", CHANNEL_NAME_RULE, issues)) {
        if (name->is_string() && detail::is_identifier(name->get_ref<const std::string&>(), MAX_GRAPH_CHANNEL_NAME,
                                                       /*allow_dot=*/true)) {
            channel.name = name->get<std::string>();
        } else {
            issues.push_back({path + "/name", "expected " + CHANNEL_NAME_RULE + ", found " + detail::describe(*name)});
        }
    }
    if (const Json* slot_bytes = detail::find_member(entry, "slot_bytes")) {
        channel.slot_bytes = detail::read_unsigned(*slot_bytes, path + "/slot_bytes", 1, shm::MAX_SLOT_BYTES, issues);
    }
    read_count(entry, path, "slot_count", 1, shm::MAX_SLOT_COUNT, channel.slot_count, issues);
    read_policy(entry, path, "ring", RING_NAMES, RING_VALUES, channel.ring, issues);
    read_policy(entry, path, "sync", SYNC_NAMES, SYNC_VALUES, channel.sync, issues);
    read_policy(entry, path, "checksum", CHECKSUM_NAMES, CHECKSUM_VALUES, channel.checksum, issues);
    read_count(entry, path, "flex_zone_bytes", 0, shm::MAX_FLEX_ZONE_BYTES, channel.flex_zone_bytes, issues);
    read_count(entry, path, "max_consumers", 1, shm::MAX_CONSUMERS, channel.max_consumers, issues);
    if (const Json* schema = detail::find_member(entry, "schema")) {
        channel.schema =
            detail::read_string(*schema, path + "/schema", "a slot schema id such as \"dhub.waveform.f64@1\"", issues);
    }
    if (const Json* validators = detail::find_member(entry, "validators")) {
        channel.validators = detail::parse_validators(*validators, path + "/validators", issues);
    }
    return channel;
}

/// One channel of "inputs" / "outputs": its name, or (inputs) {"channel": name, "delivery": ...}. Unreadable:
/// channel "", so the entry keeps its place and the paths in later messages match the document.
PortBinding parse_binding(const Json& value,
                          const std::string& path,
                          const std::string& port,
                          bool input,
                          const std::string& expected,
                          Issues& issues) {
    PortBinding binding{port, {}, path};
    if (!value.is_object()) {
        binding.channel = detail::read_string(value, path, expected, issues).value_or(std::string());
        return binding;
    }
    if (!input) {
        issues.push_back({path, "expected a channel name, found " + detail::describe(value) +
                                    "; only inputs take an object ({\"channel\": ..., \"delivery\": ...})"});
        return binding;
    }
    detail::check_known_keys(value, path, BINDING_KEYS, issues);
    if (const Json* channel = detail::require_member(value, path, "channel", "a channel name", issues)) {
        binding.channel =
            detail::read_string(*channel, path + "/channel", "a channel name", issues).value_or(std::string());
    }
    read_policy(value, path, "delivery", DELIVERY_NAMES, DELIVERY_VALUES, binding.delivery, issues);
    return binding;
}

/// "inputs" / "outputs": a list of channels (bound in the component's port order), or a map from port name to
/// a channel, or to a list of them for a "many" port. Which port names exist is checked against the component
/// (node_check.cpp).
std::vector<PortBinding> parse_bindings(const Json& entry, const std::string& path, const char* key, Issues& issues) {
    std::vector<PortBinding> bindings;
    const Json* value = detail::find_member(entry, key);
    if (value == nullptr) return bindings;
    const std::string value_path = detail::child_path(path, key);
    const bool input = std::string_view(key) == "inputs";
    const auto read_list = [&](const Json& list, const std::string& list_path, const std::string& port) {
        for (std::size_t index = 0; index < list.size(); ++index) {
            bindings.push_back(parse_binding(list[index], detail::child_path(list_path, index), port, input,
                                             "a channel name", issues));
        }
    };
    if (value->is_array()) {
        read_list(*value, value_path, "");
        return bindings;
    }
    if (!value->is_object()) {
        issues.push_back({value_path,
                          "expected an array of channel names, or an object from port name to channel "
                          "name, found " +
                              detail::describe(*value)});
        return bindings;
    }
    for (const auto& [port, bound] : value->items()) {
        const std::string port_path = detail::child_path(value_path, port);
        if (port.empty()) {
            issues.push_back({port_path, "expected a port name as the key, found \"\""});
            continue;
        }
        if (bound.is_array()) {
            read_list(bound, port_path, port);
        } else {
            bindings.push_back(parse_binding(bound, port_path, port, input,
                                             "a channel name (or a list of them for a \"many\" port)", issues));
        }
    }
    return bindings;
}

ErrorPolicy parse_on_error(const Json& value, const std::string& path, Issues& issues) {
    ErrorPolicy policy;
    if (!detail::expect_object(value, path, "an object {\"action\": ..., \"max_consecutive\": ...}", issues)) {
        return policy;
    }
    detail::check_known_keys(value, path, ON_ERROR_KEYS, issues);
    read_policy(value, path, "action", ACTION_NAMES, ACTION_VALUES, policy.action, issues);
    read_count(value, path, "max_consecutive", 1, std::numeric_limits<std::uint32_t>::max(), policy.max_consecutive,
               issues);
    return policy;
}

}  // namespace

void detail::parse_component_choice(const Json& entry, const std::string& path, NodeSpec& node, Issues& issues) {
    if (const Json* plugin = detail::require_member(entry, path, "plugin", PLUGIN_RULE, issues)) {
        if (plugin->is_string() &&
            detail::is_identifier(plugin->get_ref<const std::string&>(), MAX_PLUGIN_NAME, false)) {
            node.plugin = plugin->get<std::string>();
        } else {
            issues.push_back({path + "/plugin", "expected " + PLUGIN_RULE + ", found " + detail::describe(*plugin)});
        }
    }
    if (const Json* component = detail::find_member(entry, "component")) {
        node.component =
            detail::read_string(*component, path + "/component",
                                "a component id such as \"dhub.source.sim\" (optionally \"@<version>\")", issues);
    }
    if (const Json* params = detail::find_member(entry, "params")) {
        if (detail::expect_object(*params, path + "/params", "an object of parameter values", issues)) {
            node.params = *params;
        }
    }
}

namespace {

NodeSpec parse_node(const Json& entry, const std::string& path, Isolation graph_isolation, Issues& issues) {
    static const std::vector<std::string> NODE_KEYS = node_keys();
    NodeSpec node;
    node.json_path = path;
    detail::check_known_keys(entry, path, NODE_KEYS, issues);
    if (const Json* id = detail::require_member(entry, path, "id", NODE_ID_RULE, issues)) {
        if (id->is_string() && detail::is_identifier(id->get_ref<const std::string&>(), MAX_NODE_ID, false)) {
            node.id = id->get<std::string>();
        } else {
            issues.push_back({path + "/id", "expected " + NODE_ID_RULE + ", found " + detail::describe(*id)});
        }
    }
    detail::parse_component_choice(entry, path, node, issues);
    node.inputs = parse_bindings(entry, path, "inputs", issues);
    node.outputs = parse_bindings(entry, path, "outputs", issues);
    if (const Json* on_error = detail::find_member(entry, "on_error")) {
        node.on_error = parse_on_error(*on_error, path + "/on_error", issues);
    }
    if (const Json* cpu = detail::find_member(entry, "cpu")) {
        constexpr std::uint64_t MAX_CPU = 1023;
        if (auto core = detail::read_unsigned(*cpu, detail::child_path(path, "cpu"), 0, MAX_CPU, issues)) {
            node.cpu = static_cast<std::uint32_t>(*core);
        }
    }
    if (const Json* burst = detail::find_member(entry, "burst")) {
        if (auto slots =
                detail::read_unsigned(*burst, detail::child_path(path, "burst"), 1, NodeSpec::MAX_BURST, issues)) {
            node.burst = static_cast<std::uint32_t>(*slots);
        }
    }
    // Python keeps a thread state per node thread: run on another node's thread, a Python stage would make and
    // drop one per call, and threading.local would see a stranger. It is fused only when its node says so.
    node.fuse = node.plugin != detail::PYTHON_PLUGIN;
    if (const Json* fuse = detail::find_member(entry, "fuse")) {
        if (fuse->is_boolean()) {
            node.fuse = fuse->get<bool>();
        } else {
            issues.push_back({path + "/fuse",
                              "expected true (the kernel may run this stage on its upstream node's thread) "
                              "or false (always a thread of its own), found " +
                                  detail::describe(*fuse)});
        }
    }
    node.pacing = detail::parse_pacing(entry, path, issues);
    detail::parse_node_isolation(entry, path, graph_isolation, node, issues);
    return node;
}

std::optional<BrokerSpec> parse_broker(const Json& root, const std::filesystem::path& source_file, Issues& issues) {
    const Json* entry = detail::find_member(root, "broker");
    if (entry == nullptr) return std::nullopt;
    BrokerSpec broker;
    if (!detail::expect_object(*entry, "/broker", "an object {\"endpoint\": ..., ...}", issues)) return broker;
    detail::check_known_keys(*entry, "/broker", BROKER_KEYS, issues);
    if (const Json* endpoint = detail::find_member(*entry, "endpoint")) {
        if (auto text = detail::read_string(*endpoint, "/broker/endpoint",
                                            "a ZeroMQ endpoint such as \"tcp://127.0.0.1:5570\"", issues)) {
            if (text->rfind("tcp://", 0) == 0 || text->rfind("ipc://", 0) == 0) {
                broker.endpoint = *text;
            } else {
                issues.push_back({"/broker/endpoint", "expected a tcp:// or ipc:// endpoint, found \"" + *text + "\""});
            }
        }
    }
    if (const Json* embedded = detail::find_member(*entry, "embedded")) {
        if (embedded->is_boolean()) {
            broker.embedded = embedded->get<bool>();
        } else {
            issues.push_back({"/broker/embedded", "expected true or false, found " + detail::describe(*embedded)});
        }
    }
    broker.server_key = detail::read_file_path(*entry, "/broker", "server_key", source_file,
                                               "the broker's public key file (dhub-keygen)", issues);
    broker.client_key = detail::read_file_path(*entry, "/broker", "client_key", source_file,
                                               "this kernel's secret key file (dhub-keygen)", issues);
    broker.secret_key = detail::read_file_path(*entry, "/broker", "secret_key", source_file,
                                               "the embedded broker's secret key file (dhub-keygen)", issues);
    broker.allow =
        detail::read_file_path(*entry, "/broker", "allow", source_file, "the embedded broker's allowlist file", issues);
    read_count(*entry, "/broker", "heartbeat_ms", 10, 60'000, broker.heartbeat_ms, issues);
    read_count(*entry, "/broker", "dead_after_ms", 50, 600'000, broker.dead_after_ms, issues);
    read_policy(*entry, "/broker", "on_producer_lost", PRODUCER_LOST_NAMES, PRODUCER_LOST_VALUES,
                broker.on_producer_lost, issues);
    broker.exported = detail::parse_export(*entry, source_file, issues);
    if (broker.server_key.has_value() != broker.client_key.has_value()) {
        issues.push_back({"/broker",
                          "CURVE needs both \"server_key\" (the broker's public key file) and \"client_key\" "
                          "(this kernel's secret key file); give both or neither"});
    }
    if (!broker.embedded && (broker.secret_key || broker.allow)) {
        issues.push_back({"/broker",
                          "\"secret_key\" and \"allow\" configure an embedded broker; set \"embedded\": true "
                          "or remove them (a standalone dhub-broker takes them on its command line)"});
    }
    if (broker.embedded && broker.server_key.has_value() != broker.secret_key.has_value()) {
        issues.push_back({"/broker",
                          "an embedded broker with CURVE needs \"secret_key\" (its own secret key file) "
                          "as well as \"server_key\" and \"client_key\""});
    }
    if (broker.heartbeat_ms * 2 > broker.dead_after_ms) {
        issues.push_back({"/broker/dead_after_ms", "dead_after_ms " + std::to_string(broker.dead_after_ms) +
                                                       " must be at least twice heartbeat_ms (" +
                                                       std::to_string(broker.heartbeat_ms) +
                                                       "), or a single late beat declares a live peer dead"});
    }
    return broker;
}

std::vector<ChannelSpec> parse_channels(const Json& root, Issues& issues) {
    std::vector<ChannelSpec> channels;
    const Json* list =
        detail::require_member(root, "", "channels", "an array of channel declarations; [] for none", issues);
    if (list == nullptr || !detail::expect_array(*list, "/channels", "an array of channel objects", issues)) {
        return channels;
    }
    std::map<std::string, std::string, std::less<>> first_path;
    for (std::size_t index = 0; index < list->size(); ++index) {
        const std::string path = detail::child_path("/channels", index);
        const Json& entry = (*list)[index];
        if (!detail::expect_object(entry, path, "a channel object {\"name\": ..., ...}", issues)) continue;
        ChannelSpec channel = parse_channel(entry, path, issues);
        if (!channel.name.empty()) {
            const auto [earlier, inserted] = first_path.emplace(channel.name, path);
            if (!inserted) {
                issues.push_back({path + "/name", "channel '" + channel.name + "' is already declared at " +
                                                      earlier->second + "; channel names must be unique"});
            }
        }
        channels.push_back(std::move(channel));
    }
    return channels;
}

std::vector<NodeSpec> parse_nodes(const Json& root, Issues& issues) {
    std::vector<NodeSpec> nodes;
    const Json* list = detail::require_member(root, "", "nodes", "a non-empty array of node declarations", issues);
    if (list == nullptr || !detail::expect_array(*list, "/nodes", "a non-empty array of node objects", issues)) {
        return nodes;
    }
    if (list->empty()) {
        issues.push_back({"/nodes", "expected at least one node, found an empty array; a graph needs a source"});
    }
    const Isolation graph_isolation = detail::parse_isolation(root, "", issues).value_or(Isolation::Thread);
    std::map<std::string, std::string, std::less<>> first_path;
    for (std::size_t index = 0; index < list->size(); ++index) {
        const std::string path = detail::child_path("/nodes", index);
        const Json& entry = (*list)[index];
        if (!detail::expect_object(entry, path, "a node object {\"id\": ..., \"plugin\": ..., ...}", issues)) continue;
        NodeSpec node = parse_node(entry, path, graph_isolation, issues);
        if (!node.id.empty()) {
            const auto [earlier, inserted] = first_path.emplace(node.id, path);
            if (!inserted) {
                issues.push_back({path + "/id", "node id '" + node.id + "' is already used by " + earlier->second +
                                                    "; node ids must be unique"});
            }
        }
        nodes.push_back(std::move(node));
    }
    return nodes;
}

std::optional<GraphSpec> parse_document(std::string_view text,
                                        const std::filesystem::path& source_file,
                                        Issues& issues) {
    const std::optional<Json> root = detail::read_json(text, issues);
    if (!root) return std::nullopt;
    if (!root->is_object()) {
        issues.push_back({"",
                          "expected a JSON object with \"schema_version\", \"channels\" and \"nodes\" at the top "
                          "level, found " +
                              detail::describe(*root) + " (nothing else was checked)"});
        return std::nullopt;
    }
    GraphSpec graph;
    graph.source_file = source_file;
    graph.source_text = std::string(text);
    detail::check_known_keys(*root, "", TOP_KEYS, issues);
    parse_schema_version(*root, issues);
    graph.name = parse_name(*root, source_file, issues);
    graph.plugin_path = parse_plugin_path(*root, source_file, issues);
    graph.schemas = detail::parse_schema_declarations(*root, source_file, issues);
    graph.channels = parse_channels(*root, issues);
    const Json* channels = detail::find_member(*root, "channels");
    graph.channels_listed = channels != nullptr && channels->is_array();
    graph.nodes = parse_nodes(*root, issues);
    graph.broker = parse_broker(*root, source_file, issues);
    detail::add_export_nodes(graph, issues);
    return graph;
}

}  // namespace

std::optional<GraphSpec> parse_graph(std::string_view text,
                                     const std::filesystem::path& source_file,
                                     std::vector<GraphIssue>& issues) {
    // Configuration-time code may throw (allocation, filesystem); the contract is issues, never exceptions.
    try {
        return parse_document(text, source_file, issues);
    } catch (const std::exception& error) {
        issues.push_back({"", std::string("internal error while parsing the graph: ") + error.what() +
                                  "; please report this with the document"});
    } catch (...) {
        issues.push_back({"", "internal error while parsing the graph; please report this with the document"});
    }
    return std::nullopt;
}

std::optional<GraphSpec> load_graph_file(const std::filesystem::path& file, std::vector<GraphIssue>& issues) {
    try {
        std::error_code error;
        const auto status = std::filesystem::status(file, error);
        if (error || !std::filesystem::exists(status)) {
            issues.push_back({"", "cannot read graph file '" + file.string() + "': " +
                                      (error ? error.message() : std::string("no such file")) + "; check the path"});
            return std::nullopt;
        }
        if (!std::filesystem::is_regular_file(status)) {
            issues.push_back({"", "cannot read graph file '" + file.string() + "': not a regular file"});
            return std::nullopt;
        }
        const std::uintmax_t size = std::filesystem::file_size(file, error);
        if (!error && size > MAX_FILE_BYTES) {
            issues.push_back({"", "graph file '" + file.string() + "' has " + std::to_string(size) +
                                      " bytes; a graph document is at most " + std::to_string(MAX_FILE_BYTES) +
                                      " bytes, check that this is the right file"});
            return std::nullopt;
        }
        std::ifstream stream(file, std::ios::binary);
        std::ostringstream content;
        if (stream) content << stream.rdbuf();
        if (!stream || stream.bad()) {
            issues.push_back({"", "cannot read graph file '" + file.string() + "'; check its permissions"});
            return std::nullopt;
        }
        return parse_graph(content.str(), file, issues);
    } catch (const std::exception& error) {
        issues.push_back({"", "cannot read graph file '" + file.string() + "': " + error.what()});
    }
    return std::nullopt;
}

}  // namespace dhub::graph
