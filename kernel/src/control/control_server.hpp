// SPDX-License-Identifier: Apache-2.0
// A kernel's control endpoint (docs/control.md): a ZeroMQ ROUTER on a local ipc:// socket that only the kernel's
// user may open (its directory 0700, the socket 0600), and optionally one on TCP that only CURVE clients of its
// allowlist may reach, each with a role; one thread serves both. Each request is decoded (control_protocol.hpp)
// and, when it is one its client may send, handed to the kernel's handler; whatever arrives, the thread answers
// or drops it and goes on: a client can refuse itself, never stop the kernel.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/control/control_access.hpp"
#include "dhub/control/control_protocol.hpp"
#include "event_feed.hpp"

namespace dhub::control {

/// The kernel's answer to a decoded request: a result object, or a refusal (not_found, refused).
struct Answer {
    nlohmann::json result = nlohmann::json::object();
    std::string error_code;  ///< "" when it succeeded
    std::string error_message;
};

/// The TCP endpoint: CurveZMQ only, for the clients of an allowlist.
struct TcpControl {
    std::string endpoint;    ///< "tcp://HOST:PORT"; port 0 picks a free one
    std::string secret_key;  ///< the kernel's CURVE secret key, Z85 (clients name its public key)
    std::shared_ptr<const ControlAccess> access;
};

class ControlServer {
public:
    using Handler = std::function<Answer(const Request&)>;

    /// socket_path: the ipc socket's file (its directory is created 0700 if missing, and must be the user's).
    /// Binds at once, so the error names the path; the thread starts serving right away.
    /// feed: the kernel's events, for "events" and "subscribe" (null: those commands are refused).
    /// tcp: also serve that TCP endpoint (bound here too, so its error names it).
    static Result<std::unique_ptr<ControlServer>> start(const std::string& socket_path,
                                                        Handler handler,
                                                        std::shared_ptr<EventFeed> feed = nullptr,
                                                        std::optional<TcpControl> tcp = std::nullopt);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    /// "ipc:///tmp/dhub-1000/demo-4242.ctl"
    const std::string& endpoint() const noexcept { return endpoint_; }
    /// "tcp://127.0.0.1:40123" as bound (the port picked for 0); "" without TCP.
    const std::string& tcp_endpoint() const noexcept { return tcp_endpoint_; }

private:
    struct Sockets;
    /// A client that subscribed: where its pushes go (its envelope), until when.
    struct Subscriber {
        std::vector<std::string> envelope;
        std::uint64_t until_ns = 0;
        bool remote = false;  ///< on the TCP socket
    };
    ControlServer() = default;
    void serve();
    /// One message waiting on the local socket or (remote) the TCP one: decoded, checked against the client's
    /// role, answered.
    void serve_message(bool remote);
    /// The ZAP requests of CURVE handshakes on the TCP socket: the allowlist's keys pass.
    void answer_handshakes();
    /// "events" and "subscribe": answered here, from the feed. envelope: the request's routing frames.
    std::string answer_events(const Request& request, const std::vector<std::string>& envelope, bool remote);
    /// Sends what the feed has that subscribers have not had, and forgets subscribers that did not renew.
    void push_events();

    std::unique_ptr<Sockets> sockets_;
    Handler handler_;
    std::shared_ptr<EventFeed> feed_;
    std::map<std::string, Subscriber> subscribers_;  ///< by their envelope's bytes; the serving thread only
    std::uint64_t pushed_ = 0;                       ///< the feed's last seq pushed
    std::string endpoint_;
    std::string tcp_endpoint_;
    std::shared_ptr<const ControlAccess> access_;  ///< the TCP clients and their roles
    std::uint64_t refused_handshakes_ = 0;
    std::string path_;
    std::atomic<bool> running_{true};
    std::thread thread_;
};

/// Where a kernel of this user puts its control socket by default: /tmp/dhub-<uid>/<name>.ctl, with name cut
/// (and made unique by the pid) when the path would not fit a Unix socket address.
std::string default_socket_path(const std::string& name);

}  // namespace dhub::control
