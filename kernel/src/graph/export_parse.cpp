// SPDX-License-Identifier: Apache-2.0
#include "export_parse.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <string>

#include "wording.hpp"

namespace dhub::graph::detail {
namespace {

using Json = nlohmann::json;

const std::vector<std::string> EXPORT_KEYS = {"host",   "bind_host",        "port",      "channels",
                                              "window", "curve_secret_key", "allowlist", "insecure"};
constexpr std::uint64_t MAX_PORT = 65535;
constexpr std::uint64_t MAX_WINDOW = 65536;
// The zmq plugin's sender (plugins/transports/zmq/sender.hpp); a name, so that the graph names no file.
constexpr const char* SENDER_PLUGIN = "zmq";
constexpr const char* SENDER_COMPONENT = "dhub.transport.zmq_send";

bool is_loopback(const std::string& host) {
    return host.starts_with("127.") || host == "::1" || host == "[::1]";
}

bool is_numeric(const std::string& host) {
    std::array<unsigned char, sizeof(in6_addr)> address{};
    const std::string bare = host.starts_with("[") && host.ends_with("]") ? host.substr(1, host.size() - 2) : host;
    return ::inet_pton(AF_INET, bare.c_str(), address.data()) == 1 ||
           ::inet_pton(AF_INET6, bare.c_str(), address.data()) == 1;
}

std::optional<std::string> read_host(const Json& entry, const char* key, Issues& issues) {
    const Json* value = find_member(entry, key);
    if (value == nullptr) return std::nullopt;
    auto host = read_string(*value, child_path("/broker/export", key), "a host name or address", issues);
    if (host && host->find_first_of(" /:") != std::string::npos && !host->starts_with("[")) {
        issues.push_back({child_path("/broker/export", key),
                          "expected a host name or address without a scheme or port (\"detector-pc\", "
                          "\"10.0.0.5\"), found \"" +
                              *host + "\""});
        return std::nullopt;
    }
    return host;
}

}  // namespace

std::optional<ExportSpec> parse_export(const Json& broker, const std::filesystem::path& source_file, Issues& issues) {
    const Json* entry = find_member(broker, "export");
    if (entry == nullptr) return std::nullopt;
    const std::string path = "/broker/export";
    if (!expect_object(*entry, path, "an object {\"host\": ..., \"port\": ...}", issues)) return std::nullopt;
    check_known_keys(*entry, path, EXPORT_KEYS, issues);
    ExportSpec exported;
    if (!require_member(*entry, path, "host", "the name or address other hosts reach this machine by", issues) ||
        !require_member(*entry, path, "port", "the first exported channel's TCP port", issues)) {
        return std::nullopt;
    }
    auto host = read_host(*entry, "host", issues);
    if (!host) return std::nullopt;
    exported.host = *host;
    // ZeroMQ binds numeric addresses and interface names, never a DNS name: a named host binds every interface.
    exported.bind_host =
        read_host(*entry, "bind_host", issues).value_or(is_numeric(exported.host) ? exported.host : "0.0.0.0");
    if (auto port = read_unsigned((*entry)["port"], path + "/port", 1, MAX_PORT, issues)) {
        exported.port = static_cast<std::uint32_t>(*port);
    } else {
        return std::nullopt;
    }
    if (const Json* channels = find_member(*entry, "channels")) {
        if (expect_array(*channels, path + "/channels", "an array of channel names", issues)) {
            for (std::size_t index = 0; index < channels->size(); ++index) {
                if (auto name = read_string((*channels)[index], child_path(path + "/channels", index), "a channel name",
                                            issues)) {
                    exported.channels.push_back(*name);
                }
            }
        }
    }
    if (const Json* window = find_member(*entry, "window")) {
        if (auto slots = read_unsigned(*window, path + "/window", 1, MAX_WINDOW, issues)) {
            exported.window = static_cast<std::uint32_t>(*slots);
        }
    }
    exported.curve_secret_key = read_file_path(*entry, path, "curve_secret_key", source_file,
                                               "the senders' secret key file (dhub-keygen)", issues);
    exported.allowlist = read_file_path(*entry, path, "allowlist", source_file,
                                        "an allowlist file of receivers' keys (the broker's format)", issues);
    if (const Json* insecure = find_member(*entry, "insecure")) {
        if (insecure->is_boolean()) {
            exported.insecure = insecure->get<bool>();
        } else {
            issues.push_back({path + "/insecure", "expected true or false, found " + describe(*insecure)});
        }
    }
    return exported;
}

/// "export-" and the channel's name with its dots as '_' (node ids have none); "-2", "-3", ... appended while
/// the graph has a node of that id ("cam.0" and "cam_0" would both be "export-cam_0").
std::string export_sender_id(const std::string& channel, const std::vector<NodeSpec>& nodes) {
    std::string base = "export-" + channel;
    std::replace(base.begin(), base.end(), '.', '_');
    const auto taken = [&](const std::string& id) {
        return std::any_of(nodes.begin(), nodes.end(), [&](const NodeSpec& node) { return node.id == id; });
    };
    std::string id = base;
    for (std::size_t suffix = 2; taken(id); ++suffix)
        id = base + "-" + std::to_string(suffix);
    return id;
}

bool exported_by_default(const ChannelSpec& channel) {
    return channel.sync != shm::SyncPolicy::SingleReader;
}

NodeSpec export_sender_node(const GraphSpec& graph,
                            const ChannelSpec& channel,
                            std::uint64_t port,
                            const std::string& id) {
    const ExportSpec& exported = *graph.broker->exported;
    const auto secret_key = exported.curve_secret_key ? exported.curve_secret_key : graph.broker->client_key;
    NodeSpec sender;
    sender.id = id;
    sender.plugin = SENDER_PLUGIN;
    sender.component = SENDER_COMPONENT;
    sender.params = {{"bind", "tcp://" + exported.bind_host + ":" + std::to_string(port)},
                     {"delivery", channel.sync == shm::SyncPolicy::LatestOnly ? "latest" : "lossless"},
                     {"window", exported.window},
                     // With nobody receiving, a lossless sender must not hold the producer back.
                     {"without_receivers", "discard"},
                     {"insecure", exported.insecure}};
    if (secret_key) sender.params["curve_secret_key"] = secret_key->string();
    if (exported.allowlist) sender.params["allowlist"] = exported.allowlist->string();
    sender.inputs.push_back({"", channel.name, exported.json_path, shm::Delivery::Channel});
    sender.isolation = Isolation::Thread;
    sender.json_path = exported.json_path;
    return sender;
}

void add_export_nodes(GraphSpec& graph, Issues& issues) {
    if (!graph.broker || !graph.broker->exported) return;
    ExportSpec& exported = *graph.broker->exported;
    const std::string path = exported.json_path;
    const auto secret_key = exported.curve_secret_key ? exported.curve_secret_key : graph.broker->client_key;
    if (!secret_key && !exported.insecure && !is_loopback(exported.bind_host)) {
        issues.push_back({path, "serving channels on " + exported.bind_host +
                                    " without CURVE keys would let anyone on the network read them: give the broker "
                                    "section keys (or \"curve_secret_key\" here), bind a loopback address, or set "
                                    "\"insecure\": true"});
        return;
    }
    std::vector<const ChannelSpec*> served;
    if (exported.channels.empty()) {
        for (const ChannelSpec& channel : graph.channels) {
            if (exported_by_default(channel)) served.push_back(&channel);
        }
    }
    for (std::size_t index = 0; index < exported.channels.size(); ++index) {
        const std::string& name = exported.channels[index];
        const auto found = std::find_if(graph.channels.begin(), graph.channels.end(),
                                        [&](const ChannelSpec& channel) { return channel.name == name; });
        const std::string at = child_path(path + "/channels", index);
        if (found == graph.channels.end()) {
            issues.push_back({at, "the graph has no channel '" + name + "' to export"});
        } else if (found->sync == shm::SyncPolicy::SingleReader) {
            issues.push_back({at, "channel '" + name +
                                      "' is single_reader: its one reader is in this graph, so "
                                      "nothing can serve it to another host; make it every_reader or latest_only"});
        } else {
            served.push_back(&*found);
        }
    }
    for (std::size_t index = 0; index < served.size(); ++index) {
        const ChannelSpec& channel = *served[index];
        const std::uint64_t port = std::uint64_t{exported.port} + index;
        const std::string id = export_sender_id(channel.name, graph.nodes);
        if (port > MAX_PORT) {
            issues.push_back({path + "/port", "channel '" + channel.name + "' would be served on port " +
                                                  std::to_string(port) + ", past 65535: choose a lower \"port\""});
            continue;
        }
        if (id.size() > MAX_NODE_ID) {
            issues.push_back({path, "channel '" + channel.name + "' has a name too long for its sender's node id '" +
                                        id + "' (at most 64 characters): list shorter ones in \"channels\""});
            continue;
        }
        NodeSpec sender = export_sender_node(graph, channel, port, id);
        const std::string bind = sender.params["bind"].get<std::string>();
        graph.nodes.push_back(std::move(sender));
        exported.endpoints.push_back({channel.name, "tcp://" + exported.host + ":" + std::to_string(port), bind, id});
    }
}

}  // namespace dhub::graph::detail
