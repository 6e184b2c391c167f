// SPDX-License-Identifier: Apache-2.0
// The broker: a ZeroMQ ROUTER (CURVE server when given a secret key, with a ZAP handler that admits only
// allowlisted client keys) served by one thread that owns the Registry. Embedded in a process as a
// BrokerServer, or run standalone by dhub-broker.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/broker/allowlist.hpp"
#include "dhub/broker/registry.hpp"

namespace dhub::broker {

inline constexpr const char* DEFAULT_ENDPOINT = "tcp://127.0.0.1:5570";

/// A CURVE handshake the ZAP handler refused (a key not in the allowlist, or not allowed to connect).
struct RefusedClient {
    std::string public_key;  ///< Z85
    std::string address;     ///< the peer's IP address
    std::string reason;
    std::uint64_t unreported = 0;  ///< refusals since the last one reported (at most ten are reported a second)
};

/// {"key", "address", "reason", "unreported"}: a refusal as the `client_refused` event reports it.
nlohmann::json event_fields(const RefusedClient& refused);

struct BrokerConfig {
    /// Where the ROUTER binds; port 0 ("tcp://127.0.0.1:0") binds an ephemeral port, see bound_endpoint().
    std::string endpoint = DEFAULT_ENDPOINT;
    /// Z85 CURVE secret key of the broker. Empty: no encryption and no authentication (tests, one host).
    std::string secret_key;
    /// Client keys allowed to connect and what they may do; null with CURVE: any key may connect.
    std::shared_ptr<const Allowlist> allowlist;
    RegistryConfig registry;
    /// Called on the broker thread for a refused handshake, at most ten times a second (a scan must not flood
    /// whoever listens), with how many went unreported since; dhub-broker writes them to --events.
    std::function<void(const RefusedClient&)> on_refused;
};

class BrokerServer {
public:
    explicit BrokerServer(BrokerConfig config);
    ~BrokerServer();
    BrokerServer(const BrokerServer&) = delete;
    BrokerServer& operator=(const BrokerServer&) = delete;

    /// Binds (errors name the endpoint) and starts the broker thread.
    VoidResult start();
    /// Stops the thread and closes the sockets; idempotent.
    void stop();

    /// The endpoint actually bound (ZMQ_LAST_ENDPOINT), e.g. "tcp://127.0.0.1:40123"; "" before start().
    std::string bound_endpoint() const;
    /// The broker's public key (Z85); "" without CURVE.
    std::string public_key() const;
    /// A snapshot, refreshed by the broker thread after every loop iteration.
    RegistryStats stats() const;
    std::uint64_t refused_handshakes() const noexcept { return refused_.load(); }

private:
    struct Sockets;
    void run() noexcept;

    BrokerConfig config_;
    std::unique_ptr<Sockets> sockets_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> refused_{0};
    mutable std::mutex stats_mutex_;
    RegistryStats stats_;
    std::string bound_endpoint_;
    std::string public_key_;
};

}  // namespace dhub::broker
