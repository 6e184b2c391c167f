// SPDX-License-Identifier: Apache-2.0
#include "sender.hpp"

#include "handshake.hpp"

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
/// Messages a sender queues for one receiver at most (credits keep a well-behaved one far below).
constexpr int SEND_HWM = 100'000;
/// Messages handled in one look at the socket.
constexpr int MESSAGE_BUDGET = 1024;
/// Latest: local slots read in one go at most.
constexpr int NEWEST_DRAIN = 1024;
/// Slots up to this size go several to a message, up to BATCH_BYTES in all: one ZeroMQ message and one wake-up of
/// each end per batch, where single 4 KiB slots would cost one each.
constexpr std::size_t BATCH_SLOT_BYTES = 64 * 1024;
constexpr std::size_t BATCH_BYTES = 256 * 1024;
/// Small slots are copied one after the other into arenas of this size (larger ones get a buffer each), which
/// live as long as a slot in them is in the window or in a message ZeroMQ has not sent.
constexpr std::size_t ARENA_BYTES = 4 * BATCH_BYTES;
/// The default window: at least this many slots, and as many as make WINDOW_BYTES (small slots need many in flight to
/// keep a link busy: 64 of 4 KiB kept loopback TCP at half its rate).
constexpr std::size_t WINDOW_SLOTS = 64;
constexpr std::size_t WINDOW_BYTES = 2 * 1024 * 1024;
constexpr std::size_t MAX_WINDOW_SLOTS = 65536;  ///< the window parameter's own maximum
/// How long a sender whose input ended waits for its receivers to confirm the end, and how often it says it.
constexpr std::uint64_t END_WAIT_NS = 2'000 * MS;
constexpr std::uint64_t END_REPEAT_NS = 200 * MS;

std::uint64_t random_session() {
    std::random_device device;
    const std::uint64_t session = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    return session != 0 ? session : 1;
}

}  // namespace

ZmqSender::ZmqSender(sdk::NodeContext& context)
    : bind_(context.params().string("bind")),
      delivery_(context.params().string("delivery") == "latest" ? Delivery::Latest : Delivery::Lossless),
      discard_without_receivers_(context.params().string("without_receivers") == "discard"),
      window_param_(static_cast<std::size_t>(context.params().integer("window"))),
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
    // Credits bound what is queued for a receiver that plays by the rules; the HWM bounds it for one that does not
    // (a send that finds it full is tried again later: nothing is lost).
    socket_->set(zmq::sockopt::sndhwm, SEND_HWM);
    // ZeroMQ's own heartbeats close a connection whose peer stopped answering (a crashed host, a cut network, a
    // stopped process) within peer_timeout_ms, which frees what was queued on it: a slot sent in place is handed
    // back only then, so without them a dead receiver would pin it until TCP gives up, minutes later.
    socket_->set(zmq::sockopt::heartbeat_ivl, static_cast<int>(heartbeat_ns_ / MS));
    socket_->set(zmq::sockopt::heartbeat_timeout, static_cast<int>(peer_timeout_ns_ / MS));
    if (!secret_key_.empty()) make_curve_server(*socket_, secret_key_);
    socket_->bind(bind_);
    if (!secret_key_.empty() && !allowlist_ && !is_loopback_endpoint(bind_)) {
        context.log().warn(
            "CURVE without an allowlist encrypts, but lets any client key in; give the sender the "
            "broker's allowlist to name who may receive '" +
            channel_.name + "'");
    }
    context.log().info(
        "serving channel " + sdk::describe(info_of(channel_)) + " on " + bind_ + " (" +
        (delivery_ == Delivery::Lossless ? (in_place_ ? "lossless, sent in place" : "lossless") : "latest") +
        (secret_key_.empty() ? ", no CURVE" : ", CURVE") + ")");
}

dhub_status ZmqSender::run(sdk::NodeContext& context) {
    const std::optional<sdk::ChannelInfo> input = sdk::wait_for_channel(context, sdk::Direction::Input);
    if (!input) return DHUB_OK;
    channel_ = describe_channel(*input);
    const bool reads_lossless = input->lossless() && !input->latest_reader;
    if (delivery_ == Delivery::Lossless && !reads_lossless) {
        context.log().warn(
            "lossless delivery of a channel this sender reads latest-only: receivers get the slots it reads, and "
            "count those it skips as lost");
    }
    // In place where ZeroMQ sends a slot without copying it: slots too large to go in a batch (ZeroMQ copies
    // small messages into its own buffers). A kept slot holds its producer back, so the window is the ring at most.
    in_place_ = delivery_ == Delivery::Lossless && reads_lossless && input->slot_bytes > BATCH_SLOT_BYTES &&
                context.input<sdk::Bytes>(0).can_peek();
    const std::size_t slot_bytes = std::max<std::size_t>(1, input->slot_bytes);
    window_capacity_ = window_param_ != 0
                           ? window_param_
                           : std::clamp((WINDOW_BYTES + slot_bytes - 1) / slot_bytes, WINDOW_SLOTS, MAX_WINDOW_SLOTS);
    if (in_place_) {
        window_capacity_ = std::min<std::size_t>(window_capacity_, input->slot_count);
        peeked_.resize(window_capacity_);
    }
    // Whichever way run() ends, ZeroMQ lets go of the slots it sends in place before the kernel hands them back.
    struct CloseZmq {
        ZmqSender& sender;
        ~CloseZmq() { sender.close_zmq(); }
    } close_at_exit{*this};
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
        serve_peers(context, room && !input_trouble_ ? 0 : SOCKET_WAIT_MS);
        bool arrived = false;
        if (room) {
            if (delivery_ == Delivery::Latest) {
                arrived = take_newest(context, LOCAL_WAIT_NS);
            } else {
                arrived = in_place_ ? peek_window(context, LOCAL_WAIT_NS) : fill_window(context, LOCAL_WAIT_NS);
            }
        }
        if (arrived) serve_peers(context, 0);
        send_slots();
        if (const dhub_status failed = retire_acknowledged(context); failed != DHUB_OK) return failed;
        keep_alive(context, now);
        if (input_closed_ && delivered_all()) {
            context.log().info(
                "the input closed and every receiver has its slots: sent " + std::to_string(sent_) + " slots (" +
                std::to_string(resent_) + " again after a loss" +
                (discarded_ != 0 ? ", " + std::to_string(discarded_) + " discarded with no receiver" : std::string()) +
                ")");
            say_end(context);
            return DHUB_END_OF_STREAM;
        }
    }
    for (const auto& [identity, peer] : peers_)
        refuse(identity, RefuseCode::UnknownPeer, "sender stopping");
    context.log().info("sent " + std::to_string(sent_) + " slots (" + std::to_string(resent_) +
                       " again after a loss), " + std::to_string(refused_) + " messages refused");
    return DHUB_OK;
}

void ZmqSender::close_zmq() noexcept {
    socket_.reset();
    zap_.reset();
    // Terminating the context waits for its I/O thread, which drops what the closed socket still queued: after it,
    // ZeroMQ holds no message of a slot kept in place.
    zmq_context_.close();
}

void ZmqSender::serve_peers(sdk::NodeContext& context, int timeout_ms) {
    if (timeout_ms > 0 && !wait_readable(*socket_, timeout_ms)) return;
    // A budget, so that a peer flooding the socket cannot keep the sender from its channel and its other peers.
    for (int budget = 0; budget < MESSAGE_BUDGET; ++budget) {
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
        // A receiver cannot have committed what was never sent to it: a claim beyond that is not believed, or a
        // peer could make every slot look in flight to no one, and have them all queued for it.
        const std::uint64_t sent_next = delivery_ == Delivery::Lossless ? peer.next_send : peer.latest_sent;
        const std::uint64_t next = std::min(credit->next, sent_next);
        if ((credit->flags & CREDIT_REWIND) != 0) {
            // The receiver missed slots (a dropped connection loses what was queued on it): send from its next.
            const std::uint64_t from = std::max(next, window_base());
            if (from < peer.next_send) resent_ += peer.next_send - from;
            peer.next_send = std::min(peer.next_send, from);
            if (delivery_ == Delivery::Latest) peer.latest_sent = 0;
        }
        peer.acked = std::max(peer.acked, next);
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
    // (or the oldest kept, if that is gone: it counts the gap). Latest: the newest slot read is the first it can
    // get. Before the first slot is read, the first to come: the receiver takes whatever arrives first.
    const bool read_any = last_read_ != RESUME_NONE;
    const std::uint64_t base = delivery_ == Delivery::Latest && newest_ ? newest_->sequence : window_base();
    // Sequence numbers of another session (this sender restarted since) mean nothing here.
    const bool resumes = hello.resume_next != RESUME_NONE && hello.session == session_;
    peer.next_send = resumes ? std::max(hello.resume_next, base) : (read_any ? base : 0);
    peer.acked = peer.next_send;
    const std::uint64_t first = read_any || resumes ? peer.next_send : RESUME_NONE;
    Welcome answer{channel_, session_, first, static_cast<std::uint32_t>(chunk_bytes_), delivery_};
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

dhub_status ZmqSender::read_slot(sdk::NodeContext& context, std::int64_t timeout_ns, Entry& entry) {
    Entry copy;
    const dhub_status status = context.input<sdk::Bytes>(0).pull(
        [&](const sdk::InputSlot<sdk::Bytes>& slot) {
            const auto bytes = slot.bytes();
            copy.sequence = slot.sequence();
            copy.timestamp_ns = slot.timestamp_ns();
            copy.bytes = copy_out(bytes, copy.copy);
            copy.previous = last_read_;
        },
        timeout_ns);
    if (status == DHUB_OK) {
        // Kept only now: a slot found rewritten when it was handed back (latest-only reads) is not sent.
        entry = std::move(copy);
        last_read_ = entry.sequence;
        next_local_ = entry.sequence + 1;
    }
    note_read_status(context, status);
    return status;
}

std::span<const std::byte> ZmqSender::copy_out(std::span<const std::byte> bytes, SharedBytes& owner) {
    if (bytes.size() > BATCH_SLOT_BYTES) {
        auto own = std::make_shared_for_overwrite<std::byte[]>(bytes.size());
        std::memcpy(own.get(), bytes.data(), bytes.size());
        owner = own;
        return {own.get(), bytes.size()};
    }
    if (!arena_ || arena_used_ + bytes.size() > ARENA_BYTES) {
        arena_ = std::make_shared_for_overwrite<std::byte[]>(ARENA_BYTES);  // the old one lives on in its slots
        arena_used_ = 0;
    }
    std::byte* at = arena_.get() + arena_used_;
    if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
    arena_used_ += bytes.size();
    owner = arena_;
    return {at, bytes.size()};
}

bool ZmqSender::peek_window(sdk::NodeContext& context, std::int64_t timeout_ns) {
    const std::size_t room = window_capacity_ - window_.size();
    std::uint32_t count = 0;
    const dhub_status status = context.input<sdk::Bytes>(0).peek(static_cast<std::uint32_t>(window_.size()),
                                                                 std::span(peeked_.data(), room), count, timeout_ns);
    note_read_status(context, status);
    if (status != DHUB_OK) return false;
    for (std::uint32_t i = 0; i < count; ++i) {
        const dhub_slot& slot = peeked_[i];
        Entry entry;
        entry.sequence = slot.sequence;
        entry.timestamp_ns = slot.timestamp_ns;
        entry.bytes = {static_cast<const std::byte*>(slot.data), static_cast<std::size_t>(slot.bytes)};
        entry.in_zmq = std::make_unique<InZmq>(0);
        entry.previous = last_read_;
        last_read_ = entry.sequence;
        next_local_ = entry.sequence + 1;
        window_.push_back(std::move(entry));
    }
    return count > 0;
}

void ZmqSender::note_read_status(sdk::NodeContext& context, dhub_status status) {
    input_trouble_ = false;
    if (status == DHUB_END_OF_STREAM) {
        input_closed_ = true;
    } else if (dhub_status_is_error(status)) {
        // A torn or unreadable slot, or a remote input gone for now: the loop waits on its socket a while.
        input_trouble_ = true;
        const std::uint64_t now = context.now_ns();
        if (now - trouble_log_ns_ >= REFUSAL_LOG_EVERY_NS) {
            trouble_log_ns_ = now;
            context.log().warn(std::string("reading the input failed: ") + dhub_status_name(status));
        }
    }
}

bool ZmqSender::fill_window(sdk::NodeContext& context, std::int64_t timeout_ns) {
    bool arrived = false;
    while (!window_full()) {
        Entry entry;
        if (read_slot(context, arrived ? 0 : timeout_ns, entry) != DHUB_OK) break;
        window_.push_back(std::move(entry));
        arrived = true;
    }
    return arrived;
}

bool ZmqSender::take_newest(sdk::NodeContext& context, std::int64_t timeout_ns) {
    // Every waiting slot is read, so that a lossless input never holds its producer back, but a bounded number
    // per call: a producer faster than the copies must not keep the sender from its receivers.
    bool arrived = false;
    for (int read = 0; read < NEWEST_DRAIN && !context.stop_requested(); ++read) {
        Entry entry;
        if (read_slot(context, arrived ? 0 : timeout_ns, entry) != DHUB_OK) break;
        newest_ = std::move(entry);
        arrived = true;
    }
    return arrived;
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

void ZmqSender::send_slots() {
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
            // Small slots go several to a message (BATCH); a large one alone, in chunks (DATA). A batch is at most a
            // quarter of what may be in flight, so that several are on their way at once: one that takes all the
            // credits would leave the link idle while the receiver commits it and its credit comes back.
            const std::size_t batch_limit = std::min<std::size_t>(
                MAX_BATCH_SLOTS, std::max<std::size_t>(1, std::min<std::size_t>(peer.credits, window_capacity_) / 4));
            auto end = next;
            std::size_t bytes = 0;
            while (end != window_.end() && flying + static_cast<std::size_t>(end - next) < peer.credits &&
                   static_cast<std::size_t>(end - next) < batch_limit && small(*end) &&
                   bytes + end->bytes.size() <= BATCH_BYTES) {
                bytes += end->bytes.size();
                ++end;
            }
            const auto count = static_cast<std::size_t>(end - next);
            if (count > 1) {
                if (!send_batch(identity, peer, next, end, bytes)) break;
                peer.next_send = std::prev(end)->sequence + 1;
                next = end;
                flying += count;
                continue;
            }
            if (!send_slot(identity, peer, *next)) break;
            peer.next_send = next->sequence + 1;
            ++next;
            ++flying;
        }
    }
}

bool ZmqSender::small(const Entry& entry) const {
    return entry.bytes.size() <= BATCH_SLOT_BYTES && entry.bytes.size() <= chunk_bytes_;
}

bool ZmqSender::send_batch(const std::string& identity,
                           Peer& peer,
                           std::deque<Entry>::const_iterator first,
                           std::deque<Entry>::const_iterator end,
                           std::size_t bytes) {
    Batch batch{session_, {}, {}};
    for (auto entry = first; entry != end; ++entry)
        batch.slots.push_back({entry->sequence, entry->timestamp_ns, entry->bytes.size(), entry->previous});
    zmq::message_t payload = batch_payload(first, end, bytes);
    try {
        if (!socket_->send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
        socket_->send(message_of(encode(batch)), zmq::send_flags::sndmore);
        socket_->send(payload, zmq::send_flags::none);
    } catch (const zmq::error_t&) {
        peer.reachable = false;
        return false;
    }
    sent_ += batch.slots.size();
    return true;
}

zmq::message_t ZmqSender::batch_payload(std::deque<Entry>::const_iterator first,
                                        std::deque<Entry>::const_iterator end,
                                        std::size_t bytes) const {
    bool contiguous = first->copy != nullptr;
    const std::byte* next = first->bytes.data();
    for (auto entry = first; contiguous && entry != end; ++entry) {
        contiguous = entry->copy == first->copy && entry->bytes.data() == next;
        next += entry->bytes.size();
    }
    if (contiguous) return message_viewing(first->copy, {first->bytes.data(), bytes});
    zmq::message_t payload(bytes);
    auto* out = static_cast<std::byte*>(payload.data());
    for (auto entry = first; entry != end; ++entry) {
        if (!entry->bytes.empty()) std::memcpy(out, entry->bytes.data(), entry->bytes.size());
        out += entry->bytes.size();
    }
    return payload;
}

bool ZmqSender::send_slot(const std::string& identity, Peer& peer, const Entry& entry) {
    const std::size_t size = entry.bytes.size();
    std::size_t offset = 0;
    do {
        const std::size_t chunk = std::min(chunk_bytes_, size - offset);
        const bool last = offset + chunk == size;
        Data header{session_,
                    entry.sequence,
                    entry.timestamp_ns,
                    size,
                    offset,
                    entry.previous,
                    last ? DATA_LAST_CHUNK : std::uint8_t{0}};
        try {
            if (!socket_->send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                // ZeroMQ cannot take it now. A slot cut after a chunk is sent again whole later: a chunk at
                // offset 0 makes the receiver drop the part it has.
                return false;
            }
            socket_->send(message_of(encode(header)), zmq::send_flags::sndmore);
            socket_->send(payload_of(entry, offset, chunk), zmq::send_flags::none);
        } catch (const zmq::error_t&) {
            peer.reachable = false;  // EHOSTUNREACH: the connection is gone; it says hello when it is back
            return false;
        }
        offset += chunk;
    } while (offset < size);
    ++sent_;
    return true;
}

zmq::message_t ZmqSender::payload_of(const Entry& entry, std::size_t offset, std::size_t size) const {
    if (entry.in_zmq) return message_in_place(entry.bytes.subspan(offset, size), *entry.in_zmq);
    return message_viewing(entry.copy, entry.bytes.subspan(offset, size));
}

dhub_status ZmqSender::retire_acknowledged(sdk::NodeContext& context) {
    if (delivery_ != Delivery::Lossless) return DHUB_OK;
    // A receiver that was connected is a peer until its peer_timeout_ms passed: what it has not committed stays for
    // its return until then. Without peers, a sender that discards lets everything go.
    if (peers_.empty() && !discard_without_receivers_) return DHUB_OK;
    std::uint64_t committed = ~std::uint64_t{0};
    for (const auto& [identity, peer] : peers_)
        committed = std::min(committed, peer.acked);
    std::uint32_t retired = 0;
    while (!window_.empty() && window_.front().sequence < committed) {
        // A slot kept in place goes back only once ZeroMQ let go of it too (acquire: after its last read of it).
        if (window_.front().in_zmq && window_.front().in_zmq->load(std::memory_order_acquire) != 0) break;
        if (peers_.empty()) ++discarded_;
        window_.pop_front();
        ++retired;
    }
    if (!in_place_ || retired == 0) return DHUB_OK;
    const dhub_status status = context.input<sdk::Bytes>(0).release_oldest(retired);
    if (status != DHUB_OK) {
        // The kernel's count of kept slots and the window no longer agree: a next peek would offer slots again.
        context.log().error("handing back " + std::to_string(retired) +
                            " slots kept in place failed: " + dhub_status_name(status) + "; the sender stops");
    }
    return status;
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
            context.log().warn("receiver '" + peer.label + "' silent for " +
                               std::to_string((now - peer.heard_ns) / MS) + " ms: forgotten" +
                               (delivery_ == Delivery::Lossless
                                    ? " (it had committed every slot below " + std::to_string(peer.acked) +
                                          "); the slots it had not stay for the next receiver"
                                    : ""));
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
