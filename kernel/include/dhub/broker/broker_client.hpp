// SPDX-License-Identifier: Apache-2.0
// BrokerClient: the process side of the control plane. A background thread owns a DEALER socket (CURVE
// client when given the broker's public key), says HELLO, beats, routes replies to the waiting call by
// request id and notices to a callback, and when the broker goes away (silent for dead_after, or it
// answers HELLO_REQUIRED after a restart) reconnects and registers everything again on its own.
//
// Thread safety: every public member may be called from any thread; the notice handler runs on the
// client's thread and must not call back into the client synchronously.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/broker/message.hpp"

namespace dhub::broker {

struct ClientConfig {
    std::string endpoint = "tcp://127.0.0.1:5570";
    std::string server_public_key;  ///< Z85; empty: no CURVE (the broker must run without it too)
    CurveKeyPair client_keys;       ///< required with CURVE; its public key must be in the broker's allowlist
    std::string name = "client";    ///< shown in the broker's log
    std::string role = "client";    ///< informational ("kernel", "tool", ...)
    std::chrono::milliseconds heartbeat_interval{500};
    std::chrono::milliseconds dead_after{2000};       ///< broker silent this long: reconnect and re-register
    std::chrono::milliseconds request_timeout{2000};  ///< for calls that take no explicit timeout
    /// Called (on the client's thread; record and return) when the broker confirms a registration the client
    /// re-sent on its own after reconnecting: kind is "channel" (key: the channel) or "consumer" (key:
    /// "<channel>|<consumer identity>"). Lets a kernel report it without reading log text.
    std::function<void(std::string_view kind, const std::string& key)> on_restored;
};

/// Who a producer or consumer is: pid + process start time (pids are reused), and a readable name.
struct ProcessTag {
    std::uint32_t pid = 0;
    std::uint64_t start_ticks = 0;
    std::string name;
};

struct ChannelRegistration {
    std::string name;
    std::string segment;
    std::uint64_t layout_version = 0;
    std::string schema_hash;  ///< hex
    nlohmann::json policies = nlohmann::json::object();
    ProcessTag producer;
    std::uint64_t slot_bytes = 0;
    std::uint64_t slot_count = 0;
    std::string attach_secret;  ///< 64 hex digits, see generate_attach_secret()
    /// The typed schema document of the slots (docs/schemas.md), as the segment stores it; null when the
    /// channel's schema is an opaque id. Lets a consumer expecting an older version be accepted by the
    /// evolution rule instead of refused by the hash.
    nlohmann::json schema{};
    /// The producer's shared-memory domain (shm::domain_id()); empty from a kernel older than protocol 1.2. A
    /// consumer in another domain cannot map the segment: it reads the channel through `transport`.
    std::string shm_domain;
    /// Where the producer's kernel serves the channel to other hosts (docs/transports.md, "Across hosts through
    /// the broker"): {"kind": "zmq", "endpoint", "server_key"?, "schema_id"?}; null when it serves none.
    nlohmann::json transport{};
};

struct ChannelInfo {
    ChannelRegistration registration;
    std::uint64_t consumer_count = 0;
};

struct ConsumerRegistration {
    std::string channel;
    ProcessTag consumer;
    std::string expected_schema_hash;
    /// The typed schema document the consumer reads, or null: with both documents the broker applies the
    /// evolution rule when the hashes differ.
    nlohmann::json expected_schema{};
};

struct ChannelSummary {
    std::string name;
    std::string segment;
    std::string schema_hash;
    ProcessTag producer;
    std::uint64_t consumer_count = 0;
};

struct Notice {
    std::string event;  ///< notice_event::*
    std::string channel;
    std::string message;  ///< for humans
    nlohmann::json body;  ///< everything the broker sent (producer / consumer identity, ...)
};

using NoticeHandler = std::function<void(const Notice&)>;

class BrokerClient {
public:
    explicit BrokerClient(ClientConfig config, NoticeHandler on_notice = {});
    ~BrokerClient();
    BrokerClient(const BrokerClient&) = delete;
    BrokerClient& operator=(const BrokerClient&) = delete;

    /// Creates the socket and starts the thread; the broker need not be up yet (HELLO is retried).
    VoidResult start();
    void stop();
    /// True once the broker answered HELLO (and until it is lost).
    bool connected() const noexcept { return session_ready_.load(); }
    bool wait_connected(std::chrono::milliseconds timeout) const;
    /// How many times the client said HELLO again after losing the broker (and re-sent registrations).
    std::uint64_t resync_count() const noexcept { return resyncs_.load(); }

    /// Registered channels and consumers are remembered and re-registered after a broker restart.
    VoidResult register_channel(const ChannelRegistration& registration);
    /// Forgets a channel without telling the broker (it is away): a resync does not register it again, and the
    /// broker drops it with this client's other registrations if the session is gone for good.
    void forget_channel(const std::string& name);
    VoidResult deregister_channel(const std::string& name);
    /// wait > 0: the broker answers as soon as the channel registers, or NOT_FOUND after wait. `cancelled`
    /// is asked every few milliseconds while the answer is awaited: true ends the call with
    /// ErrorCode::Cancelled (a kernel node being stopped does not wait out a parked DISCOVER).
    Result<ChannelInfo> discover(const std::string& name,
                                 std::chrono::milliseconds wait = std::chrono::milliseconds(0),
                                 const std::function<bool()>& cancelled = {});
    VoidResult register_consumer(const ConsumerRegistration& registration);
    VoidResult deregister_consumer(const std::string& channel, const ProcessTag& consumer);
    Result<std::vector<ChannelSummary>> list();

    /// Any request; an ERROR reply becomes an Error whose message starts with the broker's code.
    Result<Message> request(MessageType type,
                            nlohmann::json body,
                            std::chrono::milliseconds timeout,
                            const std::function<bool()>& cancelled = {});

private:
    struct Pending;
    enum class Internal : std::uint8_t { Hello = 1, Heartbeat, ResyncChannel, ResyncConsumer };
    struct InternalRequest {
        Internal kind;
        std::string key;  ///< channel name or consumer key
    };

    void run() noexcept;
    bool open_socket();
    void send_hello(std::uint64_t now_ns);
    /// False if the message could not be handed to the socket (then nothing waits for a reply).
    bool send_internal(Internal kind, MessageType type, nlohmann::json body, const std::string& key);
    bool send_message(const Message& message);
    void on_message(Message message, std::uint64_t now_ns);
    void on_internal_reply(const InternalRequest& request, const Message& message, std::uint64_t now_ns);
    void begin_resync(std::uint64_t now_ns);
    void resend_registrations();
    void flush_outbox();
    void retry_orphan_consumers();

    ClientConfig config_;
    NoticeHandler on_notice_;
    struct Socket;
    std::unique_ptr<Socket> socket_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<bool> session_ready_{false};
    std::atomic<std::uint64_t> resyncs_{0};
    std::atomic<std::uint64_t> next_request_id_{1};

    mutable std::mutex mutex_;
    mutable std::condition_variable connected_changed_;
    std::deque<std::uint64_t> outbox_;                           ///< request ids waiting for a session
    std::map<std::uint64_t, std::shared_ptr<Pending>> pending_;  ///< user calls awaiting a reply
    std::map<std::string, nlohmann::json> channels_;             ///< REGISTER_CHANNEL bodies, by name
    std::map<std::string, nlohmann::json> consumers_;            ///< REGISTER_CONSUMER bodies, by key

    // Owned by the client thread only.
    std::map<std::uint64_t, InternalRequest> internal_;
    std::map<std::string, bool> orphan_consumers_;  ///< keys whose channel was not (yet) back after a resync
    std::uint64_t last_heard_ns_ = 0;
    std::uint64_t last_hello_ns_ = 0;
    std::int64_t hello_retry_ms_ = 0;  ///< > 0: the last HELLO never left (no connection yet); retry after this
    std::uint64_t last_beat_ns_ = 0;
    std::uint64_t beat_ns_ = 0;  ///< the configured interval, or the broker's if that is shorter
    bool had_session_ = false;
};

nlohmann::json to_json(const ProcessTag& tag);
ProcessTag process_tag_from_json(const nlohmann::json& json);

}  // namespace dhub::broker
