// SPDX-License-Identifier: Apache-2.0
#include "sender.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

namespace dhub::zmq_transport {
namespace {

constexpr std::uint64_t MS = 1'000'000;
/// How long an idle sender waits on its local channel before it looks at its socket again.
constexpr std::int64_t LOCAL_WAIT_NS = 1'000'000;
/// How long it waits on its socket when it cannot read locally (the window is full).
constexpr int SOCKET_WAIT_MS = 10;
constexpr std::uint64_t REFUSAL_LOG_EVERY_NS = 1'000 * MS;
/// How long a sender whose input ended waits for its receivers to confirm the end, and how often it says it.
constexpr std::uint64_t END_WAIT_NS = 2'000 * MS;
constexpr std::uint64_t END_REPEAT_NS = 200 * MS;

std::uint64_t random_session() {
    std::random_device device;
    const std::uint64_t session = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    return session != 0 ? session : 1;
}

ChannelDescription describe_channel(const sdk::ChannelInfo& info) {
    return {info.name, info.slot_bytes, info.slot_count, info.schema_hash};
}

sdk::ChannelInfo info_of(const ChannelDescription& channel) {
    sdk::ChannelInfo info;
    info.name = channel.name;
    info.slot_bytes = channel.slot_bytes;
    info.slot_count = channel.slot_count;
    info.schema_hash = channel.schema_hash;
    return info;
}

}  // namespace

ZmqSender::ZmqSender(sdk::NodeContext& context)
    : bind_(context.params().string("bind")),
      delivery_(context.params().string("delivery") == "latest" ? Delivery::Latest : Delivery::Lossless),
      window_capacity_(static_cast<std::size_t>(context.params().integer("window"))),
      chunk_bytes_(static_cast<std::size_t>(context.params().integer("chunk_bytes"))),
      secret_key_(context.params().string("curve_secret_key")),
      allowlist_path_(context.params().string("allowlist")),
      insecure_(context.params().boolean("insecure")),
      peer_timeout_ns_(static_cast<std::uint64_t>(context.params().integer("peer_timeout_ms")) * MS),
      heartbeat_ns_(static_cast<std::uint64_t>(context.params().integer("heartbeat_ms")) * MS),
      session_(random_session()),
      zmq_context_(1) {
    if (secret_key_.empty() && !insecure_ && !is_loopback_endpoint(bind_)) {
        throw std::runtime_error("bind '" + bind_ +
                                 "' reaches other hosts, and no curve_secret_key is set: give the sender a key "
                                 "(dhub-keygen) or, on a trusted network only, set \"insecure\": true");
    }
    if (!allowlist_path_.empty() && secret_key_.empty()) {
        throw std::runtime_error("an allowlist needs CURVE: set curve_secret_key too");
    }
    if (!secret_key_.empty()) secret_key_ = read_curve_key("curve_secret_key", secret_key_, true);
    if (!allowlist_path_.empty()) allowlist_ = Allowlist::load(allowlist_path_);
}

void ZmqSender::open_socket(sdk::NodeContext& context) {
    if (allowlist_) {
        const std::string channel = channel_.name;
        zap_ = std::make_unique<ZapHandler>(
            zmq_context_, [this, channel](const std::string& key) { return allowlist_->permits(key, channel); },
            [&context](const std::string& key, const std::string& address) {
                context.log().warn("refused CURVE client key " + key + " from " + address +
                                   ": not allowed to consume this channel by the allowlist");
            });
    }
    socket_.emplace(zmq_context_, zmq::socket_type::router);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::router_mandatory, 1);  // a send to a gone peer fails instead of vanishing
    socket_->set(zmq::sockopt::router_handover, 1);   // a receiver that reconnects takes its routing id back
    socket_->set(zmq::sockopt::sndhwm, 0);            // credits bound what is queued, not the HWM
    if (!secret_key_.empty()) make_curve_server(*socket_, secret_key_);
    socket_->bind(bind_);
    context.log().info("serving channel " + sdk::describe(info_of(channel_)) + " on " + bind_ + " (" +
                       (delivery_ == Delivery::Lossless ? "lossless" : "latest") +
                       (secret_key_.empty() ? ", no CURVE" : ", CURVE") + ")");
}

dhub_status ZmqSender::run(sdk::NodeContext& context) {
    channel_ = describe_channel(context.channel(sdk::Direction::Input));
    try {
        open_socket(context);
    } catch (const zmq::error_t& error) {
        context.log().error("cannot bind '" + bind_ + "': " + error.what());
        return DHUB_ERR_IO;
    }
    while (!context.stop_requested()) {
        const std::uint64_t now = context.now_ns();
        // Wait where the next event comes from: the local channel while there is room to read into, the socket
        // (credits) when there is none.
        const bool room = !input_closed_ && (delivery_ == Delivery::Latest || !window_full());
        serve_peers(context, room ? 0 : SOCKET_WAIT_MS);
        bool arrived = false;
        if (room) {
            arrived = delivery_ == Delivery::Lossless ? fill_window(context, LOCAL_WAIT_NS)
                                                      : take_newest(context, LOCAL_WAIT_NS);
        }
        if (arrived) serve_peers(context, 0);
        send_slots(context);
        retire_acknowledged();
        keep_alive(context, now);
        if (input_closed_ && delivered_all()) {
            context.log().info("the input closed and every receiver has its slots: sent " + std::to_string(sent_) +
                               " slots (" + std::to_string(resent_) + " again after a loss)");
            say_end(context);
            socket_.reset();
            zap_.reset();
            return DHUB_END_OF_STREAM;
        }
    }
    for (const auto& [identity, peer] : peers_)
        refuse(identity, RefuseCode::UnknownPeer, "sender stopping");
    context.log().info("sent " + std::to_string(sent_) + " slots (" + std::to_string(resent_) +
                       " again after a loss), " + std::to_string(refused_) + " messages refused");
    socket_.reset();
    zap_.reset();
    return DHUB_OK;
}

void ZmqSender::serve_peers(sdk::NodeContext& context, int timeout_ms) {
    if (timeout_ms > 0) {
        zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return;
    }
    for (;;) {
        Incoming incoming = receive(*socket_);
        if (incoming.frames.empty()) return;
        const std::string identity = incoming.frames[0].to_string();
        const auto spans = spans_of(incoming.frames, 1);
        auto decoded =
            incoming.dropped == 0
                ? decode(spans)
                : std::variant<Message, DecodeError>(DecodeError{
                      RefuseCode::Malformed, "a message of more than " + std::to_string(MAX_FRAMES) + " frames"});
        if (auto* error = std::get_if<DecodeError>(&decoded)) {
            refuse(identity, error->code, error->what);
            const std::uint64_t now = context.now_ns();
            if (now - refusal_log_ns_ >= REFUSAL_LOG_EVERY_NS) {
                refusal_log_ns_ = now;
                context.log().warn("refused a message from peer " + printable(identity) + ": " + error->what + " (" +
                                   std::to_string(refused_) + " refused so far)");
            }
            continue;
        }
        handle(context, identity, std::get<Message>(decoded));
    }
}

void ZmqSender::handle(sdk::NodeContext& context, const std::string& identity, const Message& message) {
    if (const auto* hello = std::get_if<Hello>(&message)) {
        welcome(context, identity, *hello);
        return;
    }
    if (const auto* credit = std::get_if<Credit>(&message)) {
        const auto found = peers_.find(identity);
        if (found == peers_.end() || credit->session != session_) {
            // This sender restarted, or forgot the receiver: it says hello again and resumes.
            refuse(identity, RefuseCode::UnknownPeer, "unknown receiver: say HELLO");
            return;
        }
        Peer& peer = found->second;
        peer.heard_ns = context.now_ns();
        peer.reachable = true;
        peer.credits = credit->credits;
        if ((credit->flags & CREDIT_REWIND) != 0) {
            // The receiver missed slots (a dropped connection loses what was queued on it): send from its next.
            const std::uint64_t from = std::max(credit->next, window_base());
            if (from < peer.next_send) resent_ += peer.next_send - from;
            peer.next_send = std::min(peer.next_send, from);
            peer.acked = std::max(peer.acked, credit->next);
            if (delivery_ == Delivery::Latest) peer.latest_sent = 0;
        } else {
            peer.acked = std::max(peer.acked, credit->next);
        }
        return;
    }
    if (std::holds_alternative<Bye>(message)) {
        const auto found = peers_.find(identity);
        if (found != peers_.end()) {
            context.log().info("receiver '" + found->second.label + "' left");
            peers_.erase(found);
        }
        return;
    }
    refuse(identity, RefuseCode::Malformed, "a sender takes HELLO, CREDIT and BYE only");
}

void ZmqSender::welcome(sdk::NodeContext& context, const std::string& identity, const Hello& hello) {
    const std::string mismatch = sdk::channel_mismatch(info_of(channel_), info_of(hello.channel));
    if (!mismatch.empty()) {
        refuse(identity, RefuseCode::Mismatch, mismatch);
        context.log().warn("refused receiver '" + hello.label + "': " + mismatch);
        return;
    }
    Peer& peer = peers_[identity];
    peer.label = hello.label;
    peer.credits = hello.credits;
    peer.heard_ns = context.now_ns();
    peer.reachable = true;
    peer.latest_sent = 0;
    // A receiver that has nothing starts with the oldest slot still kept; one that resumes, where it left off
    // (or the oldest kept, if that is gone: it counts the gap).
    // Latest: the newest slot read is the first it can get.
    const std::uint64_t base = delivery_ == Delivery::Latest && newest_ ? newest_->sequence : window_base();
    // Sequence numbers of another session (this sender restarted since) mean nothing here.
    const bool resumes = hello.resume_next != RESUME_NONE && hello.session == session_;
    peer.next_send = resumes ? std::max(hello.resume_next, base) : base;
    peer.acked = peer.next_send;
    Welcome answer{channel_, session_, peer.next_send, static_cast<std::uint32_t>(chunk_bytes_), delivery_};
    try {
        socket_->send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        socket_->send(message_of(encode(answer)), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
        peer.reachable = false;
    }
    context.log().info("receiver '" + hello.label + "' joined from sequence " + std::to_string(peer.next_send) +
                       (resumes ? " (resuming)" : ""));
}

void ZmqSender::refuse(const std::string& identity, RefuseCode code, const std::string& text) {
    ++refused_;
    try {
        if (!socket_->send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return;
        (void)socket_->send(message_of(encode(Refuse{code, text})), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
        // A peer that is gone cannot be told.
    }
}

bool ZmqSender::fill_window(sdk::NodeContext& context, std::int64_t timeout_ns) {
    bool arrived = false;
    auto input = context.input<sdk::Bytes>(0);
    while (!window_full()) {
        const dhub_status status = input.pull(
            [&](const sdk::InputSlot<sdk::Bytes>& slot) {
                const auto bytes = slot.bytes();
                auto copy = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
                window_.push_back({slot.sequence(), slot.timestamp_ns(), std::move(copy)});
                next_local_ = slot.sequence() + 1;
            },
            arrived ? 0 : timeout_ns);
        if (status == DHUB_END_OF_STREAM) input_closed_ = true;
        if (status != DHUB_OK) break;
        arrived = true;
    }
    return arrived;
}

bool ZmqSender::take_newest(sdk::NodeContext& context, std::int64_t timeout_ns) {
    bool arrived = false;
    auto input = context.input<sdk::Bytes>(0);
    for (;;) {
        const dhub_status status = input.pull(
            [&](const sdk::InputSlot<sdk::Bytes>& slot) {
                const auto bytes = slot.bytes();
                newest_ = Entry{slot.sequence(), slot.timestamp_ns(),
                                std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end())};
                next_local_ = slot.sequence() + 1;
            },
            arrived ? 0 : timeout_ns);
        if (status == DHUB_END_OF_STREAM) input_closed_ = true;
        if (status != DHUB_OK) return arrived;
        arrived = true;
    }
}

std::uint64_t ZmqSender::window_base() const {
    return window_.empty() ? next_local_ : window_.front().sequence;
}

std::size_t ZmqSender::in_flight(const Peer& peer) const {
    const auto by_sequence = [](const Entry& entry, std::uint64_t sequence) { return entry.sequence < sequence; };
    const auto acked = std::lower_bound(window_.begin(), window_.end(), peer.acked, by_sequence);
    const auto next = std::lower_bound(window_.begin(), window_.end(), peer.next_send, by_sequence);
    return next > acked ? static_cast<std::size_t>(next - acked) : 0;
}

void ZmqSender::send_slots(sdk::NodeContext& context) {
    (void)context;
    for (auto& [identity, peer] : peers_) {
        if (!peer.reachable) continue;
        if (delivery_ == Delivery::Latest) {
            // One in flight: the next goes once the receiver committed the last one.
            const bool idle = peer.latest_sent == 0 || peer.acked >= peer.latest_sent;
            if (newest_ && idle && peer.credits > 0 && newest_->sequence >= peer.latest_sent) {
                if (send_slot(identity, peer, *newest_)) peer.latest_sent = newest_->sequence + 1;
            }
            continue;
        }
        const auto by_sequence = [](const Entry& entry, std::uint64_t sequence) { return entry.sequence < sequence; };
        auto next = std::lower_bound(window_.begin(), window_.end(), peer.next_send, by_sequence);
        std::size_t flying = in_flight(peer);
        while (next != window_.end() && flying < peer.credits) {
            if (!send_slot(identity, peer, *next)) break;
            peer.next_send = next->sequence + 1;
            ++next;
            ++flying;
        }
    }
}

bool ZmqSender::send_slot(const std::string& identity, Peer& peer, const Entry& entry) {
    const std::size_t size = entry.bytes->size();
    std::size_t offset = 0;
    do {
        const std::size_t chunk = std::min(chunk_bytes_, size - offset);
        const bool last = offset + chunk == size;
        Data header{session_, entry.sequence, entry.timestamp_ns,
                    size,     offset,         last ? DATA_LAST_CHUNK : std::uint8_t{0}};
        try {
            if (!socket_->send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                // ZeroMQ cannot take it now. A slot cut after a chunk is sent again whole later: a chunk at
                // offset 0 makes the receiver drop the part it has.
                return false;
            }
            socket_->send(message_of(encode(header)), zmq::send_flags::sndmore);
            socket_->send(message_viewing(entry.bytes, offset, chunk), zmq::send_flags::none);
        } catch (const zmq::error_t&) {
            peer.reachable = false;  // EHOSTUNREACH: the connection is gone; it says hello when it is back
            return false;
        }
        offset += chunk;
    } while (offset < size);
    ++sent_;
    return true;
}

void ZmqSender::retire_acknowledged() {
    if (delivery_ != Delivery::Lossless || peers_.empty()) return;
    std::uint64_t committed = ~std::uint64_t{0};
    for (const auto& [identity, peer] : peers_)
        committed = std::min(committed, peer.acked);
    while (!window_.empty() && window_.front().sequence < committed)
        window_.pop_front();
}

bool ZmqSender::delivered_all() const {
    if (delivery_ == Delivery::Lossless) return window_.empty();
    if (!newest_) return true;
    return std::all_of(peers_.begin(), peers_.end(),
                       [&](const auto& entry) { return entry.second.acked > newest_->sequence; });
}

void ZmqSender::say_end(sdk::NodeContext& context) {
    // Each receiver answers END with BYE as it closes its channel. Until then END is said again, in case a
    // connection dropped it, for END_WAIT_NS at most: a receiver that is away now never hears of the end.
    const std::uint64_t deadline = context.now_ns() + END_WAIT_NS;
    std::uint64_t said = 0;
    while (!peers_.empty() && !context.stop_requested() && context.now_ns() < deadline) {
        if (context.now_ns() - said >= END_REPEAT_NS) {
            send_end();
            said = context.now_ns();
        }
        serve_peers(context, SOCKET_WAIT_MS);
    }
    if (!peers_.empty()) {
        context.log().warn(std::to_string(peers_.size()) + " receiver(s) did not confirm the end of the stream");
    }
}

void ZmqSender::send_end() {
    const auto header = encode(End{session_, next_local_});
    for (const auto& [identity, peer] : peers_) {
        try {
            if (socket_->send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                socket_->send(message_of(header), zmq::send_flags::dontwait);
            }
        } catch (const zmq::error_t&) {
            // A receiver that is not connected now never hears of the end; it waits for the sender to come back.
        }
    }
}

void ZmqSender::keep_alive(sdk::NodeContext& context, std::uint64_t now) {
    for (auto found = peers_.begin(); found != peers_.end();) {
        Peer& peer = found->second;
        if (now > peer.heard_ns && now - peer.heard_ns > peer_timeout_ns_) {
            context.log().warn(
                "receiver '" + peer.label + "' silent for " + std::to_string((now - peer.heard_ns) / MS) +
                " ms: forgotten" +
                (delivery_ == Delivery::Lossless ? "; the slots it had not committed stay for the next receiver" : ""));
            found = peers_.erase(found);
            continue;
        }
        if (now - peer.heartbeat_ns >= heartbeat_ns_) {
            peer.heartbeat_ns = now;
            const std::uint64_t sent_next = delivery_ == Delivery::Lossless ? peer.next_send : peer.latest_sent;
            try {
                if (socket_->send(zmq::buffer(found->first), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                    socket_->send(message_of(encode(Heartbeat{session_, sent_next})), zmq::send_flags::dontwait);
                }
            } catch (const zmq::error_t&) {
                peer.reachable = false;
            }
        }
        ++found;
    }
}

}  // namespace dhub::zmq_transport
