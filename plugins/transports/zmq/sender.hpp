// SPDX-License-Identifier: Apache-2.0
// dhub.transport.zmq_send: serves the local channel on its input to zmq_receive nodes in other kernels, on
// this host or others (docs/transports.md). A ROUTER socket binds; each receiver is a peer with its own credits.
//
// Lossless: slots are kept in a resend window (as many as `window`); a peer gets a slot when it has credit, and a
// slot leaves the window once every peer committed it. A full window stops the reads, so a slow receiver holds the
// local producer back through the lossless local channel, and nothing is dropped. Slots larger than a batch stay in
// shared memory (SDK 1.6 peek), ZeroMQ sends them from there, and each is handed back once every peer committed it
// and ZeroMQ let go of it; smaller ones are copied, as ZeroMQ would copy them into its batches anyway. Latest: the
// newest slot is kept, one in flight per peer; older ones are replaced, and the receiver counts them as skipped.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "curve.hpp"
#include "dhub/sdk/plugin.hpp"
#include "sockets.hpp"
#include "wire.hpp"

namespace dhub::zmq_transport {

class ZmqSender : public sdk::TransportSender {
public:
    static constexpr const char* id = "dhub.transport.zmq_send";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Serves its input channel over ZeroMQ (CurveZMQ optional) to zmq_receive nodes in other kernels";
    static constexpr const char* params_schema = R"json([
{"name":"bind","type":"string","doc":"endpoint to serve on, e.g. tcp://0.0.0.0:5600; without CURVE keys only a loopback one unless insecure"},
{"name":"delivery","type":"string","default":"lossless","enum":["lossless","latest"],"doc":"lossless: every slot to every receiver, with back-pressure; latest: the newest, never holding the producer back"},
{"name":"without_receivers","type":"string","default":"hold","enum":["hold","discard"],"doc":"lossless, while no receiver is connected: hold the window for the first one (a full window holds the producer back), or discard the slots (counted); a broker export discards"},
{"name":"window","type":"integer","default":0,"min":0,"max":65536,"doc":"lossless: slots kept for resending until every receiver committed them; 0: 64, or 2 MiB of slots if more, and at most the input's ring for slots sent in place"},
{"name":"chunk_bytes","type":"integer","default":1048576,"min":1024,"max":1073741824,"doc":"a slot larger than this is sent in chunks of this size"},
{"name":"curve_secret_key","type":"string","default":"","doc":"this sender's CURVE secret key file (dhub-keygen); empty: no encryption"},
{"name":"allowlist","type":"string","default":"","doc":"with a key: the broker's allowlist file; only keys whose consume globs match the channel get in"},
{"name":"insecure","type":"boolean","default":false,"doc":"allow binding a non-loopback endpoint without CURVE keys"},
{"name":"peer_timeout_ms","type":"integer","default":3000,"min":100,"doc":"a receiver silent this long is forgotten (lossless: its unacknowledged slots stay for the next)"},
{"name":"heartbeat_ms","type":"integer","default":250,"min":10,"doc":"how often an idle sender tells its receivers it is alive"}
])json";

    explicit ZmqSender(sdk::NodeContext& context);
    ~ZmqSender() { close_zmq(); }
    ZmqSender(const ZmqSender&) = delete;
    ZmqSender& operator=(const ZmqSender&) = delete;
    dhub_status run(sdk::NodeContext& context);

private:
    struct Entry {
        std::uint64_t sequence = 0;
        std::uint64_t timestamp_ns = 0;
        std::span<const std::byte> bytes;      ///< in `copy`, or in place in the input's shared memory
        SharedBytes copy;                      ///< a slot copied out of shared memory: the buffer `bytes` is in
        std::unique_ptr<InZmq> in_zmq;         ///< a slot kept in place: messages ZeroMQ still has of it
        std::uint64_t previous = RESUME_NONE;  ///< the sequence number read before it (RESUME_NONE: none)
    };
    struct Peer {
        std::string label;
        std::uint64_t next_send = 0;  ///< lossless: the next sequence number to send
        std::uint64_t acked = 0;      ///< every sequence number below it is committed there
        std::uint32_t credits = 0;
        std::uint64_t latest_sent = 0;  ///< latest: one past the last sequence number sent (0: none)
        std::uint64_t heard_ns = 0;
        std::uint64_t heartbeat_ns = 0;
        bool reachable = true;  ///< false after a send found no connection, until it is heard again
    };

    void open_socket(sdk::NodeContext& context);
    /// Handles every waiting message; waits up to timeout_ms for the first.
    void serve_peers(sdk::NodeContext& context, int timeout_ms);
    void handle(sdk::NodeContext& context, const std::string& identity, const Message& message);
    void welcome(sdk::NodeContext& context, const std::string& identity, const Hello& hello);
    void refuse(const std::string& identity, RefuseCode code, const std::string& text);
    /// Reads the next local slot into entry (only if it was whole when handed back).
    dhub_status read_slot(sdk::NodeContext& context, std::int64_t timeout_ns, Entry& entry);
    /// Lossless: reads local slots into the window while it has room; true if any arrived.
    bool fill_window(sdk::NodeContext& context, std::int64_t timeout_ns);
    /// Lossless, in place: adds the input's next committed slots to the window, kept in shared memory.
    bool peek_window(sdk::NodeContext& context, std::int64_t timeout_ns);
    /// Copies a slot's bytes out of shared memory: small ones one after the other into a shared arena, so that the
    /// slots of a batch are one range ZeroMQ sends without copying them again.
    std::span<const std::byte> copy_out(std::span<const std::byte> bytes, SharedBytes& owner);
    /// The slots [first, end) as one BATCH payload: in place when they lie one after the other in one arena.
    zmq::message_t batch_payload(std::deque<Entry>::const_iterator first,
                                 std::deque<Entry>::const_iterator end,
                                 std::size_t bytes) const;
    /// After an input read: the status's consequences (closed, trouble logged).
    void note_read_status(sdk::NodeContext& context, dhub_status status);
    /// ZeroMQ's message of part of a slot: in place, or viewing its copy.
    zmq::message_t payload_of(const Entry& entry, std::size_t offset, std::size_t size) const;
    /// Closes the socket and the ZeroMQ context: once it returns ZeroMQ holds no slot kept in place.
    void close_zmq() noexcept;
    /// Latest: reads every waiting local slot, keeping the newest; true if any arrived.
    bool take_newest(sdk::NodeContext& context, std::int64_t timeout_ns);
    void send_slots();
    /// Sends one slot (in chunks); false when ZeroMQ cannot take it now or the peer is gone.
    bool send_slot(const std::string& identity, Peer& peer, const Entry& entry);
    /// Sends the slots [first, end) in one BATCH message (bytes: their sizes' sum); false as send_slot.
    bool send_batch(const std::string& identity,
                    Peer& peer,
                    std::deque<Entry>::const_iterator first,
                    std::deque<Entry>::const_iterator end,
                    std::size_t bytes);
    /// Whether a slot goes in a batch rather than alone.
    bool small(const Entry& entry) const;
    /// Lets go of the slots every receiver committed (in place: hands them back to the input).
    dhub_status retire_acknowledged(sdk::NodeContext& context);
    void keep_alive(sdk::NodeContext& context, std::uint64_t now);
    /// The input closed and every receiver has everything (lossless: the window is empty; latest: each has
    /// the newest): time to tell them the stream ended.
    bool delivered_all() const;
    void send_end();
    /// Says END until every receiver answered BYE (or a while passed).
    void say_end(sdk::NodeContext& context);
    std::size_t in_flight(const Peer& peer) const;
    std::uint64_t window_base() const;
    bool window_full() const { return window_.size() >= window_capacity_; }

    std::string bind_;
    Delivery delivery_;
    bool discard_without_receivers_;
    std::size_t window_param_;
    std::size_t window_capacity_ = 0;  ///< window_param_ or, for 0, the default for the input
    bool in_place_ = false;            ///< lossless slots are kept in the input's shared memory (peek), not copied
    std::vector<dhub_slot> peeked_;    ///< in place: the slots one peek hands over
    std::size_t chunk_bytes_;
    std::string secret_key_;
    std::string allowlist_path_;
    bool insecure_;
    std::uint64_t peer_timeout_ns_;
    std::uint64_t heartbeat_ns_;

    std::uint64_t session_ = 0;
    ChannelDescription channel_;
    zmq::context_t zmq_context_;
    std::optional<Allowlist> allowlist_;
    std::unique_ptr<ZapHandler> zap_;
    std::optional<zmq::socket_t> socket_;
    std::deque<Entry> window_;            ///< lossless: the slots not yet committed everywhere
    std::shared_ptr<std::byte[]> arena_;  ///< where small slots are copied to, one after the other
    std::size_t arena_used_ = 0;
    std::optional<Entry> newest_;        ///< latest: the newest slot read
    std::map<std::string, Peer> peers_;  ///< by routing id
    std::uint64_t next_local_ = 0;       ///< one past the newest local sequence number read
    bool input_closed_ = false;
    bool input_trouble_ = false;             ///< the last read failed: the loop waits on its socket a while
    std::uint64_t last_read_ = RESUME_NONE;  ///< the newest local sequence number read (RESUME_NONE: none)
    std::uint64_t trouble_log_ns_ = 0;       ///< the local producer closed the channel and every slot was read
    std::uint64_t sent_ = 0;
    std::uint64_t resent_ = 0;
    std::uint64_t refused_ = 0;
    std::uint64_t discarded_ = 0;       ///< lossless, without_receivers discard: slots read while nobody was connected
    std::uint64_t refusal_log_ns_ = 0;  ///< refusals are logged at most once a second
};

}  // namespace dhub::zmq_transport
