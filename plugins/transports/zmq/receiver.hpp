// SPDX-License-Identifier: Apache-2.0
// dhub.transport.zmq_receive: connects to a zmq_send node and writes what it serves into the local channel
// on its output, with the far producer's timestamps (docs/transports.md). A DEALER socket connects and
// reconnects by itself; the receiver grants credits for the slots it can take, commits a slot only once every
// chunk of it arrived, drops duplicates after a resend and counts every far sequence number that never
// arrived (upstream_lost in --report and dhub-shm inspect).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "dhub/sdk/plugin.hpp"
#include "sockets.hpp"
#include "wire.hpp"

namespace dhub::zmq_transport {

class ZmqReceiver : public sdk::TransportReceiver {
public:
    static constexpr const char* id = "dhub.transport.zmq_receive";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Receives a channel a zmq_send node serves and writes it into the local channel of the same name";
    static constexpr const char* params_schema = R"json([
{"name":"connect","type":"string","doc":"the sender's endpoint, e.g. tcp://detector-pc:5600"},
{"name":"channel","type":"string","default":"","doc":"the sender's channel name; empty: the same as the local output channel's"},
{"name":"curve_server_key","type":"string","default":"","doc":"the sender's CURVE public key (a .pub file or its 40 Z85 characters); empty: no encryption"},
{"name":"curve_secret_key","type":"string","default":"","doc":"this receiver's CURVE secret key file (dhub-keygen), the key the sender's allowlist knows; empty with a server key: a key made for this run"},
{"name":"credits","type":"integer","default":0,"min":0,"max":65536,"doc":"slots it lets the sender have in flight; 0: the local channel's ring, or 1 MiB of slots if more (those beyond the free slots wait in the socket's queue)"},
{"name":"peer_timeout_ms","type":"integer","default":3000,"min":100,"doc":"a sender silent this long is greeted again (it may have restarted, or the connection dropped)"},
{"name":"label","type":"string","default":"","doc":"how the sender's log names this receiver; empty: the channel and this process's pid"},
{"name":"after_end","type":"string","default":"close","enum":["close","wait"],"doc":"when the sender's channel ends: close the local channel and end (close), or keep it open and wait for a sender to serve the channel again, e.g. its restarted producer (wait; the kernel's receivers for broker inputs)"}
])json";

    explicit ZmqReceiver(sdk::NodeContext& context);
    dhub_status run(sdk::NodeContext& context);

private:
    /// The slot being assembled from chunks.
    struct Assembly {
        std::uint64_t sequence = 0;
        std::uint64_t timestamp_ns = 0;
        std::uint64_t slot_bytes = 0;
        std::uint64_t received = 0;
        dhub_slot slot{};
    };
    enum class Outcome { Continue, Stop, Fail, End };

    void open_socket();
    Outcome serve(sdk::NodeContext& context);
    Outcome handle(sdk::NodeContext& context, const Message& message);
    Outcome on_welcome(sdk::NodeContext& context, const Welcome& welcome);
    Outcome on_data(sdk::NodeContext& context, const Data& data);
    /// Waits for a free local slot, keeping the sender posted meanwhile (Continue: it has one).
    Outcome acquire_local(sdk::NodeContext& context, dhub_slot& slot);
    void drop_assembly(sdk::NodeContext& context, const std::string& why);
    void send_hello(sdk::NodeContext& context);
    void send_credit(sdk::NodeContext& context, std::uint8_t flags);
    void ask_resend(sdk::NodeContext& context, const std::string& why);
    void send(const std::vector<std::byte>& header);
    void tick(sdk::NodeContext& context);
    /// Tells the sender this receiver is leaving (a lost BYE only costs the sender its peer timeout).
    void send_bye();

    std::string connect_;
    std::string remote_channel_;
    std::string server_key_;
    std::string public_key_;
    std::string secret_key_;
    std::uint32_t credits_param_;
    std::uint64_t peer_timeout_ns_;
    std::string label_;
    bool wait_after_end_;
    /// after_end wait: the session whose end arrived; its sender is ending, so it is not followed again.
    std::optional<std::uint64_t> ended_session_;

    ChannelDescription local_;
    std::uint32_t credits_ = 0;
    std::uint32_t acknowledge_every_ = 1;  ///< commits between two credits while slots keep arriving
    zmq::context_t zmq_context_;
    std::optional<zmq::socket_t> socket_;
    sdk::SequenceLedger ledger_;
    std::optional<Assembly> assembly_;
    bool welcomed_ = false;
    Delivery delivery_ = Delivery::Lossless;
    std::uint64_t session_ = 0;
    std::uint64_t heard_ns_ = 0;
    std::uint64_t hello_ns_ = 0;
    std::uint64_t credit_ns_ = 0;
    std::uint64_t data_ns_ = 0;
    std::uint64_t rewind_ns_ = 0;
    std::uint64_t complaint_ns_ = 0;
    std::uint64_t sender_sent_next_ = 0;  ///< the last heartbeat's word on what the sender sent
    std::uint32_t committed_since_credit_ = 0;
    std::uint64_t lost_reported_ = 0;
    std::uint64_t committed_ = 0;
    std::uint64_t truncated_ = 0;
    std::optional<std::uint64_t> first_;       ///< the first far sequence number this receiver accounts from
    dhub_status failure_ = DHUB_ERR_INTERNAL;  ///< what run() returns after Outcome::Fail
};

}  // namespace dhub::zmq_transport
