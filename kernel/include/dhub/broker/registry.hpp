// SPDX-License-Identifier: Apache-2.0
// The broker's state and rules without any socket: client sessions, channels, consumers and parked
// DISCOVERs. The Broker feeds it decoded requests and the clock and sends what it returns, so every rule
// (authorization, schema checks, heartbeat expiry, limits, error rate limiting) is testable in-process.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dhub/broker/allowlist.hpp"
#include "dhub/broker/codec.hpp"
#include "dhub/broker/message.hpp"

namespace dhub::broker {

/// Bounds on what the broker keeps, so that no client can grow its memory without limit.
struct RegistryLimits {
    std::size_t max_sessions = 256;
    std::size_t max_channels = 1024;
    std::size_t max_consumers_per_channel = 64;
    std::size_t max_parked_per_session = 16;
    std::size_t max_parked_total = 1024;
    std::uint64_t max_wait_ms = 60'000;  ///< DISCOVER wait_ms is clamped to this
    /// A misbehaving peer gets at most one ERROR per interval; the rest are counted and dropped.
    std::uint64_t error_reply_interval_ms = 100;
    std::size_t max_sessionless_peers_tracked = 1024;
};

struct RegistryConfig {
    std::uint64_t heartbeat_ms = 500;    ///< told to clients in HELLO_ACK
    std::uint64_t dead_after_ms = 2000;  ///< a session silent this long is dead
    RegistryLimits limits;
};

/// Who sent a message: the ROUTER routing id and the CURVE public key the ZAP handler accepted ("" without
/// CURVE).
struct Peer {
    std::string routing_id;
    std::string public_key;
};

struct Outgoing {
    std::string routing_id;
    Message message;
};

struct RegistryStats {
    std::size_t sessions = 0;
    std::size_t channels = 0;
    std::size_t consumers = 0;
    std::size_t parked = 0;
    std::uint64_t malformed = 0;          ///< undecodable messages received
    std::uint64_t errors_suppressed = 0;  ///< ERROR replies dropped by the rate limit
    std::uint64_t sessions_expired = 0;
};

class Registry {
public:
    /// allowlist null: every peer may produce and consume every channel (no CURVE, or CURVE without --allow).
    Registry(RegistryConfig config, std::shared_ptr<const Allowlist> allowlist);

    void handle(const Peer& peer, const Message& message, std::uint64_t now_ns, std::vector<Outgoing>& out);
    void handle_malformed(const Peer& peer, const DecodeError& error, std::uint64_t now_ns, std::vector<Outgoing>& out);
    /// Ends silent sessions (with their notices) and answers expired parked DISCOVERs.
    void expire(std::uint64_t now_ns, std::vector<Outgoing>& out);
    /// The broker itself was not running for span_ns (descheduled, its host paused or overloaded): nobody
    /// could have been heard in that time, so every session's deadline moves on by it. Without this, a
    /// broker waking from a stall would declare every client dead at once.
    void forgive_stall(std::uint64_t span_ns);
    /// When expire() next has work to do.
    std::optional<std::uint64_t> next_deadline_ns() const;
    RegistryStats stats() const;

private:
    struct ConsumerRecord {
        std::string routing_id;
        nlohmann::json identity;
    };
    struct Channel {
        nlohmann::json record;  ///< the REGISTER_CHANNEL body as accepted (what DISCOVER returns)
        std::string owner;      ///< routing id of the producer's session
        std::map<std::string, ConsumerRecord> consumers;  ///< by consumer key
    };
    struct Session {
        std::uint64_t id = 0;
        std::string name;
        std::string public_key;
        std::uint64_t deadline_ns = 0;
        std::uint64_t last_error_ns = 0;
        bool errored = false;                                        ///< last_error_ns is valid
        std::set<std::string> channels;                              ///< owned
        std::set<std::pair<std::string, std::string>> consumptions;  ///< (channel, consumer key)
        std::size_t parked = 0;
    };
    struct Parked {
        std::string routing_id;
        std::uint64_t request_id = 0;
        std::string channel;
        std::uint64_t deadline_ns = 0;
    };

    void on_hello(const Peer& peer, const Message& message, std::uint64_t now_ns, std::vector<Outgoing>& out);
    void on_register_channel(Session& session, const Peer& peer, const Message& message, std::vector<Outgoing>& out);
    void on_discover(
        Session& session, const Peer& peer, const Message& message, std::uint64_t now_ns, std::vector<Outgoing>& out);
    void on_deregister_channel(const Peer& peer, const Message& message, std::vector<Outgoing>& out);
    void on_register_consumer(Session& session, const Peer& peer, const Message& message, std::vector<Outgoing>& out);
    void on_deregister_consumer(Session& session, const Peer& peer, const Message& message, std::vector<Outgoing>& out);
    void on_list(const Peer& peer, const Message& message, std::vector<Outgoing>& out) const;

    bool permits(const std::string& public_key, Role role, const std::string& channel) const;
    void touch(Session& session, const std::string& routing_id, std::uint64_t now_ns);
    void end_session(const std::string& routing_id, std::vector<Outgoing>& out);
    void remove_channel(const std::string& name, std::string_view event, std::vector<Outgoing>& out);
    void answer_parked(const std::string& channel, std::vector<Outgoing>& out);
    /// ERROR answering a well-formed request of a session: always sent (one request, one answer).
    void send_error(const Peer& peer,
                    std::uint64_t request_id,
                    std::string_view code,
                    const std::string& text,
                    std::vector<Outgoing>& out,
                    nlohmann::json extra = {});
    /// ERROR answering garbage or a peer without a session: at most one per error_reply_interval_ms per
    /// peer; false (and counted) when suppressed.
    bool send_limited_error(const Peer& peer,
                            std::uint64_t request_id,
                            std::string_view code,
                            const std::string& text,
                            std::uint64_t now_ns,
                            std::vector<Outgoing>& out);
    nlohmann::json discover_ack(const Channel& channel) const;

    RegistryConfig config_;
    std::shared_ptr<const Allowlist> allowlist_;
    std::unordered_map<std::string, Session> sessions_;  ///< by routing id
    std::set<std::pair<std::uint64_t, std::string>> session_deadlines_;
    std::map<std::string, Channel> channels_;
    std::map<std::uint64_t, Parked> parked_;  ///< by parked id
    std::set<std::pair<std::uint64_t, std::uint64_t>> parked_deadlines_;
    std::unordered_map<std::string, std::uint64_t> sessionless_last_error_ns_;
    std::uint64_t next_session_id_ = 1;
    std::uint64_t next_parked_id_ = 1;
    std::uint64_t now_ns_ = 0;
    RegistryStats counters_;
};

/// "pid/start_ticks/name": how a consumer identity is keyed inside a channel.
std::string consumer_key(const nlohmann::json& identity);

}  // namespace dhub::broker
