// SPDX-License-Identifier: Apache-2.0
// Channels of other hosts (docs/transports.md, "Across hosts through the broker"). A "broker:<name>" input whose
// producer registered another shared-memory domain cannot map its segment; its kernel exported the channel over
// the zmq transport instead, and registered the endpoint. Here this kernel adds, as a live add would, a local
// channel "import.<name>" of the same geometry and schema and a zmq_receive node "import-<name>" that writes it.
// The input then attaches to that channel like to any local one.
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "broker_link.hpp"
#include "dhub/broker/broker_client.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "graph_node.hpp"
#include "runner_channel.hpp"

namespace dhub::runtime {
namespace {

constexpr const char* IMPORT_CHANNEL_PREFIX = "import.";
constexpr const char* IMPORT_NODE_PREFIX = "import-";
constexpr const char* RECEIVER_PLUGIN = "zmq";
constexpr const char* RECEIVER_COMPONENT = "dhub.transport.zmq_receive";
constexpr auto LOCK_RETRY = std::chrono::milliseconds(5);
constexpr std::size_t MAX_ENDPOINT = 256;
constexpr const char* SHM_DIRECTORY = "/dev/shm";

/// Locks mutex unless cancelled() says stop first. A node thread must not block on a lock whose holder may be
/// waiting for that very thread to end (a remove of its node holds edit_mutex_ and joins it).
template <typename Mutex>
bool lock_unless(std::unique_lock<Mutex>& lock, const std::function<bool()>& cancelled) {
    while (!lock.try_lock()) {
        if (cancelled()) return false;
        std::this_thread::sleep_for(LOCK_RETRY);
    }
    return true;
}

/// What is wrong with a registration's "transport" for this kernel ("" when it is a zmq one it can use).
std::string transport_problem(const nlohmann::json& transport) {
    const auto kind = transport.find("kind");
    if (kind == transport.end() || !kind->is_string() || *kind != "zmq") return "this kernel reads \"kind\": \"zmq\"";
    const auto endpoint = transport.find("endpoint");
    if (endpoint == transport.end() || !endpoint->is_string() ||
        !endpoint->get_ref<const std::string&>().starts_with("tcp://") ||
        endpoint->get_ref<const std::string&>().size() > MAX_ENDPOINT) {
        return "\"endpoint\" must be a tcp:// endpoint";
    }
    // A key, never a file name: the receiver would read a path given here as a key file.
    if (const auto key = transport.find("server_key");
        key != transport.end() && (!key->is_string() || !broker::is_z85_key(key->get<std::string>()))) {
        return "\"server_key\" must be a CURVE public key, 40 Z85 characters";
    }
    if (const auto schema = transport.find("schema_id");
        schema != transport.end() && (!schema->is_string() || schema->get_ref<const std::string&>().size() > 128)) {
        return "\"schema_id\" must be a schema id";
    }
    return {};
}

/// Whether /dev/shm has room for a ring of this geometry ("" when it has): the geometry comes from another
/// host, whose machine may have far more memory than this one.
std::string shm_room_problem(std::uint64_t slot_bytes, std::uint64_t slot_count) {
    struct statvfs room {};
    if (::statvfs(SHM_DIRECTORY, &room) != 0) return {};
    std::uint64_t available = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(room.f_bavail), static_cast<std::uint64_t>(room.f_frsize),
                               &available)) {
        return {};  // more room than 64 bits count
    }
    std::uint64_t needed = 0;
    if (!__builtin_mul_overflow(slot_bytes, slot_count, &needed) && needed <= available) return {};
    return "its ring (" + std::to_string(slot_count) + " slots of " + std::to_string(slot_bytes) +
           " bytes) does not fit in this host's " + SHM_DIRECTORY + " (" + std::to_string(available >> 20) +
           " MiB free): make /dev/shm larger, or give the producer's channel fewer or smaller slots";
}

/// add_locked names what it refuses by the paths of a dhub-ctl add request; an import made no request, so they
/// become the receiver node and its channel.
std::string without_request_paths(std::string message, const std::string& node, const std::string& channel) {
    const auto replace_all = [&](std::string_view from, const std::string& to) {
        for (std::size_t at = message.find(from); at != std::string::npos; at = message.find(from, at + to.size()))
            message.replace(at, from.size(), to);
    };
    replace_all(
        " (/request/spec is the node, /request/channels/<k> its k-th new channel, other paths are in the "
        "graph file)",
        "");
    replace_all("/request/spec", "receiver '" + node + "' ");
    replace_all("/request/channels/0", "channel '" + channel + "' ");
    return message;
}

/// "import-" and the channel's name with its dots as '_' (node ids have none): "cam.0" and "cam_0" meet here,
/// and unused_node_id tells them apart.
std::string receiver_id(const std::string& remote) {
    std::string id = IMPORT_NODE_PREFIX + remote;
    std::replace(id.begin(), id.end(), '.', '_');
    return id;
}

}  // namespace

Result<GraphRunner::ImportedChannel> GraphRunner::import_channel(const broker::ChannelRegistration& remote,
                                                                 const std::function<bool()>& cancelled) {
    const Error cancelled_error{ErrorCode::Cancelled, "cancelled"};
    if (hosted_ != nullptr) {
        return Error{ErrorCode::InvalidArgument,
                     "a node isolated in a process of its own cannot read a channel of another host yet: run it as "
                     "a thread of the kernel (\"isolation\": \"thread\")"};
    }
    const std::string local = IMPORT_CHANNEL_PREFIX + remote.name;
    // The registration came over the network: every field is checked before any of it is used.
    if (auto problem = transport_problem(remote.transport); !problem.empty()) {
        return Error{ErrorCode::Incompatible, "its producer registered a transport this kernel cannot use (" + problem +
                                                  "): " + remote.transport.dump().substr(0, 300)};
    }
    if (auto room = shm_room_problem(remote.slot_bytes, remote.slot_count); !room.empty()) {
        return Error{ErrorCode::Io, room};
    }
    const auto endpoint = remote.transport.find("endpoint");
    std::unique_lock imports(imports_mutex_, std::defer_lock);
    if (!lock_unless(imports, cancelled)) return cancelled_error;
    const auto found = imports_.find(remote.name);
    const bool same = found != imports_.end() && found->second.transport == remote.transport &&
                      found->second.slot_bytes == remote.slot_bytes && found->second.slot_count == remote.slot_count &&
                      found->second.schema_hash == remote.schema_hash;
    if (same && node_alive(found->second.node)) {
        // A restarted producer is served on the same endpoint: the running receiver greets it by itself.
        found->second.producer_pid = remote.producer.pid;
        found->second.producer_start_ticks = remote.producer.start_ticks;
        return locate_import(local, endpoint->get<std::string>());
    }
    if (same && found->second.producer_pid == remote.producer.pid &&
        found->second.producer_start_ticks == remote.producer.start_ticks) {
        // Its receiver ended while this producer still runs (it refused the receiver, or the receiver failed):
        // receiving again from the same producer would end the same way.
        return Error{ErrorCode::NotFound, "its receiver for " + endpoint->get<std::string>() +
                                              " ended (see its node's end in the report); waiting for the producer "
                                              "to publish the channel again"};
    }

    std::unique_lock edit(edit_mutex_, std::defer_lock);
    if (!lock_unless(edit, cancelled)) return cancelled_error;
    if (found != imports_.end()) {
        // Another endpoint, geometry or schema (the producer restarted with another graph), or a receiver that
        // ended: the old one goes, with its channel.
        (void)remove_locked(found->second.node);
        {
            const std::unique_lock topology(topology_mutex_);
            import_nodes_.erase(found->second.node);
        }
        imports_.erase(found);
    }
    const std::string id = unused_node_id(receiver_id(remote.name));
    if (id.size() > graph::MAX_NODE_ID) {
        return Error{ErrorCode::InvalidArgument,
                     "its name is too long for the receiver's node id '" + id + "' (at most 64 characters)"};
    }
    // after_end wait: a producer that ends and starts again is followed by the same receiver and channel.
    nlohmann::json params = {{"connect", *endpoint}, {"channel", remote.name}, {"after_end", "wait"}};
    if (const auto key = remote.transport.find("server_key"); key != remote.transport.end()) {
        params["curve_server_key"] = *key;
        // The key this kernel has on the broker, which the producer's allowlist may name (else one made per run).
        if (broker_link_ && broker_link_->spec().client_key) {
            params["curve_secret_key"] = broker_link_->spec().client_key->string();
        }
    }
    const nlohmann::json spec = {
        {"id", id},           {"plugin", RECEIVER_PLUGIN}, {"component", RECEIVER_COMPONENT}, {"isolation", "thread"},
        {"outputs", {local}}, {"params", params}};
    nlohmann::json channel = {{"name", local},
                              {"slot_bytes", remote.slot_bytes},
                              {"slot_count", remote.slot_count},
                              {"sync", "every_reader"}};
    // The producer's ring and checksum policies (a single-slot ring has one slot), as far as they are readable.
    for (const char* policy : {"ring", "checksum"}) {
        const auto value = remote.policies.find(policy);
        if (value != remote.policies.end() && value->is_string()) channel[policy] = *value;
    }
    if (const auto seats = remote.policies.find("max_consumers");
        seats != remote.policies.end() && seats->is_number_unsigned()) {
        channel["max_consumers"] = *seats;
    }
    if (const auto schema = remote.transport.find("schema_id"); schema != remote.transport.end()) {
        channel["schema"] = *schema;
    }
    unpublished_channels_.insert(local);
    auto added = add_locked(spec, nlohmann::json::array({channel}));
    if (!added) {
        unpublished_channels_.erase(local);
        return Error{added.error().code,
                     "its receiver '" + id + "' for " + endpoint->get<std::string>() +
                         " could not be added: " + without_request_paths(added.error().message, id, local)};
    }
    {
        const std::unique_lock topology(topology_mutex_);
        import_nodes_.insert(id);
    }
    imports_[remote.name] = Import{id,
                                   remote.transport,
                                   remote.slot_bytes,
                                   remote.slot_count,
                                   remote.schema_hash,
                                   remote.producer.pid,
                                   remote.producer.start_ticks};
    events_->emit("channel_imported", {{"channel", remote.name},
                                       {"local_channel", local},
                                       {"node", id},
                                       {"endpoint", *endpoint},
                                       {"shm_domain", remote.shm_domain}});
    return locate_import(local, endpoint->get<std::string>());
}

std::string GraphRunner::unused_node_id(const std::string& base) const {
    const std::shared_lock topology(topology_mutex_);
    const auto taken = [&](const std::string& id) {
        return std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node->id() == id; });
    };
    std::string id = base;
    for (std::size_t suffix = 2; taken(id); ++suffix)
        id = base + "-" + std::to_string(suffix);
    return id;
}

bool GraphRunner::node_alive(const std::string& id) const {
    const std::shared_lock topology(topology_mutex_);
    const auto found = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node->id() == id; });
    return found != nodes_.end() && !(*found)->finished() && !(*found)->stop_requested();
}

Result<GraphRunner::ImportedChannel> GraphRunner::locate_import(const std::string& channel,
                                                                const std::string& endpoint) const {
    const std::shared_lock topology(topology_mutex_);
    for (const auto& candidate : channels_) {
        if (candidate->name == channel) {
            return ImportedChannel{channel, candidate->segment, candidate->attach_secret, endpoint};
        }
    }
    return Error{ErrorCode::NotFound, "its local channel '" + channel + "' is gone (the graph is ending)"};
}

void GraphRunner::stop_idle_imports() {
    // wait() holds the topology lock.
    if (import_nodes_.empty()) return;
    const bool others_ended = std::all_of(nodes_.begin(), nodes_.end(), [&](const auto& node) {
        return import_nodes_.contains(node->id()) || node->finished();
    });
    if (!others_ended) return;
    for (const auto& node : nodes_) {
        if (import_nodes_.contains(node->id()) && !node->stop_requested()) node->request_stop();
    }
}

}  // namespace dhub::runtime
