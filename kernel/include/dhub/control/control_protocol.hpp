// SPDX-License-Identifier: Apache-2.0
// The control protocol (docs/control.md): what a client asks a running kernel, and what it answers. One JSON
// object per request and per reply, carried by ZeroMQ (REQ to the kernel's ROUTER). Decoding is total: any
// bytes give either a request or an error with a code and a message naming what is wrong, never an exception,
// so nothing a client sends can hurt the kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dhub::control {

inline constexpr int PROTOCOL_VERSION = 1;
/// A request larger than this is refused unread: no command needs more.
inline constexpr std::size_t MAX_REQUEST_BYTES = 64 * 1024;

enum class Command {
    Hello,      ///< who the kernel is: protocol version, graph, pid
    Status,     ///< the graph's state and its nodes' counts (the report, live)
    Pause,      ///< "node": pause it (docs/kernel.md, "A node's life")
    Resume,     ///< "node": resume it
    Stop,       ///< stop the graph gracefully, as SIGINT does
    Events,     ///< "since" (optional): the kernel's recent events after that seq
    Subscribe,  ///< have every new event pushed to this client (a DEALER) for the next 10 s; renew to go on
    Swap,       ///< "node", "plugin", "component" and "params" (optional): replace its component at a sequence fence
    Params,     ///< "node": its parameters as it runs with them, and which are live-tunable
    SetParam,   ///< "node", "name", "value": change a live-tunable parameter while the node runs
    Add,        ///< "spec", "channels" (optional): add a node (and the channels it writes) to the running graph
    Remove,     ///< "node": stop a node for good and take it (and the channels it wrote) out
};
const char* to_string(Command command) noexcept;
/// Whether the command changes the running graph (an event records each such action).
bool changes_graph(Command command) noexcept;

struct Request {
    Command command = Command::Hello;
    std::string node;         ///< pause, resume, swap
    std::uint64_t since = 0;  ///< events
    nlohmann::json id;        ///< the client's correlation id, echoed in the reply (null if none)
    std::string plugin;       ///< swap: the new component's plugin (as a graph names it)
    std::string component;    ///< swap: its component id; "" for the plugin's only one
    nlohmann::json params;    ///< swap: the new parameters (an object); null to keep the node's
    std::string name;         ///< set_param: the parameter
    nlohmann::json value;     ///< set_param: its new value
    nlohmann::json spec;      ///< add: the node, an object as a graph's "nodes" lists it
    nlohmann::json channels;  ///< add: the channels it writes, an array as a graph's "channels" lists them (or null)
    /// Who sent it, set by the endpoint (never read from the request): "local" for the ipc socket, the allowlist's
    /// name of a TCP client. The `control` event records it.
    std::string client = "local";
};

/// Why a request was refused: a stable code clients branch on, and words for people.
struct Refusal {
    /// malformed, unsupported_version, unknown_command, bad_argument, not_found, refused, forbidden
    std::string code;
    std::string message;
    nlohmann::json id = nullptr;  ///< the request's id when it could be read
};

/// A request or why it is not one.
class Decoded {
public:
    explicit Decoded(Request request) : request_(std::move(request)), ok_(true) {}
    explicit Decoded(Refusal refusal) : refusal_(std::move(refusal)), ok_(false) {}
    bool ok() const noexcept { return ok_; }
    const Request& request() const noexcept { return request_; }
    const Refusal& refusal() const noexcept { return refusal_; }

private:
    Request request_;
    Refusal refusal_;
    bool ok_;
};

/// {"v": 1, "cmd": "pause", "node": "scale", "id": 7}: every key checked (unknown keys are refused, so a typo
/// never silently does something else).
Decoded decode_request(std::string_view bytes) noexcept;

/// {"v": 1, "ok": true, "id": ..., ...result}
std::string encode_reply(const nlohmann::json& id, const nlohmann::json& result);
/// {"v": 1, "ok": false, "id": ..., "error": {"code": ..., "message": ...}}
std::string encode_refusal(const Refusal& refusal);

}  // namespace dhub::control
