// SPDX-License-Identifier: Apache-2.0
// A kernel's control endpoint (docs/control.md): a ZeroMQ ROUTER on a local ipc:// socket that only the kernel's
// user may open (its directory 0700, the socket 0600), served by one thread. Each request is decoded
// (control_protocol.hpp) and, when it is one, handed to the kernel's handler; whatever arrives, the thread
// answers or drops it and goes on: a client can refuse itself, never stop the kernel.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/control/control_protocol.hpp"
#include "event_feed.hpp"

namespace dhub::control {

/// The kernel's answer to a decoded request: a result object, or a refusal (not_found, refused).
struct Answer {
    nlohmann::json result = nlohmann::json::object();
    std::string error_code;  ///< "" when it succeeded
    std::string error_message;
};

class ControlServer {
public:
    using Handler = std::function<Answer(const Request&)>;

    /// socket_path: the ipc socket's file (its directory is created 0700 if missing, and must be the user's).
    /// Binds at once, so the error names the path; the thread starts serving right away.
    /// feed: the kernel's events, for "events" and "subscribe" (null: those commands are refused).
    static Result<std::unique_ptr<ControlServer>> start(const std::string& socket_path,
                                                        Handler handler,
                                                        std::shared_ptr<EventFeed> feed = nullptr);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    /// "ipc:///tmp/dhub-1000/demo-4242.ctl"
    const std::string& endpoint() const noexcept { return endpoint_; }

private:
    struct Sockets;
    /// A client that subscribed: where its pushes go (its envelope), until when.
    struct Subscriber {
        std::vector<std::string> envelope;
        std::uint64_t until_ns = 0;
    };
    ControlServer() = default;
    void serve();
    /// "events" and "subscribe": answered here, from the feed. envelope: the request's routing frames.
    std::string answer_events(const Request& request, const std::vector<std::string>& envelope);
    /// Sends what the feed has that subscribers have not had, and forgets subscribers that did not renew.
    void push_events();

    std::unique_ptr<Sockets> sockets_;
    Handler handler_;
    std::shared_ptr<EventFeed> feed_;
    std::map<std::string, Subscriber> subscribers_;  ///< by their envelope's bytes; the serving thread only
    std::uint64_t pushed_ = 0;                       ///< the feed's last seq pushed
    std::string endpoint_;
    std::string path_;
    std::atomic<bool> running_{true};
    std::thread thread_;
};

/// Where a kernel of this user puts its control socket by default: /tmp/dhub-<uid>/<name>.ctl, with name cut
/// (and made unique by the pid) when the path would not fit a Unix socket address.
std::string default_socket_path(const std::string& name);

}  // namespace dhub::control
