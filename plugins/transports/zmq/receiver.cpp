// SPDX-License-Identifier: Apache-2.0
#include "receiver.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include "curve.hpp"
#include "handshake.hpp"

namespace dhub::zmq_transport {
namespace {

constexpr std::uint64_t MS = 1'000'000;
constexpr int POLL_MS = 50;
/// A hello unanswered this long is said again (the sender may not be up yet).
constexpr std::uint64_t HELLO_RETRY_NS = 250 * MS;
/// Credits go out at least this often, also as the receiver's keep-alive.
constexpr std::uint64_t CREDIT_EVERY_NS = 50 * MS;
constexpr std::uint64_t DRAIN_CREDIT_EVERY_NS = 1 * MS;
/// At most one resend request per this long: one is enough until the resent slots can have arrived.
constexpr std::uint64_t REWIND_EVERY_NS = 100 * MS;
constexpr std::uint64_t COMPLAINT_EVERY_NS = 1000 * MS;
/// The default credits cover at least this much in flight (64 slots of 4 KiB kept loopback TCP at half its rate).
constexpr std::uint64_t IN_FLIGHT_BYTES = 1024 * 1024;
constexpr std::uint64_t MAX_CREDITS = 65536;
/// How long a free local slot is waited for before the sender is posted again.
constexpr std::int64_t LOCAL_WAIT_NS = 50 * static_cast<std::int64_t>(MS);

std::string random_routing_id() {
    std::random_device device;
    std::string id = "dhub-rx-";
    for (int i = 0; i < 4; ++i) {
        const std::uint32_t word = device();
        id.append(reinterpret_cast<const char*>(&word), sizeof word);
    }
    return id;
}

}  // namespace

ZmqReceiver::ZmqReceiver(sdk::NodeContext& context)
    : connect_(context.params().string("connect")),
      remote_channel_(context.params().string("channel")),
      credits_param_(static_cast<std::uint32_t>(context.params().integer("credits"))),
      peer_timeout_ns_(static_cast<std::uint64_t>(context.params().integer("peer_timeout_ms")) * MS),
      label_(context.params().string("label")),
      wait_after_end_(context.params().string("after_end") == "wait"),
      zmq_context_(1) {
    const std::string server_key(context.params().string("curve_server_key"));
    const std::string secret_key(context.params().string("curve_secret_key"));
    if (!secret_key.empty() && server_key.empty()) {
        throw std::runtime_error("curve_secret_key needs curve_server_key: the sender's public key");
    }
    if (!server_key.empty()) {
        server_key_ = read_curve_key("curve_server_key", server_key, false);
        if (!secret_key.empty()) {
            secret_key_ = read_curve_key("curve_secret_key", secret_key, true);
            public_key_ = public_key_of(secret_key_);
        } else {
            std::array<char, Z85_KEY_CHARS + 1> public_key{}, secret{};
            if (zmq_curve_keypair(public_key.data(), secret.data()) != 0) {
                throw std::runtime_error("cannot make a CURVE key pair: " + std::string(zmq_strerror(zmq_errno())));
            }
            public_key_ = public_key.data();
            secret_key_ = secret.data();
        }
    }
}

void ZmqReceiver::open_socket() {
    socket_.emplace(zmq_context_, zmq::socket_type::dealer);
    socket_->set(zmq::sockopt::routing_id, random_routing_id());
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::immediate, 1);  // nothing queues for a connection that is not up
    socket_->set(zmq::sockopt::reconnect_ivl, 100);
    socket_->set(zmq::sockopt::reconnect_ivl_max, 1000);
    socket_->set(zmq::sockopt::rcvhwm, 0);  // credits bound what the sender queues here
    if (!server_key_.empty()) make_curve_client(*socket_, server_key_, public_key_, secret_key_);
    socket_->connect(connect_);
}

dhub_status ZmqReceiver::run(sdk::NodeContext& context) {
    const sdk::ChannelInfo local = context.channel(sdk::Direction::Output);
    local_ = describe_channel(local, remote_channel_.empty() ? local.name : remote_channel_);
    // By default at least the ring, and enough slots for IN_FLIGHT_BYTES: the sender needs that many on their way to
    // keep the link busy while credits come back. Those beyond the free local slots wait in this socket's queue.
    const std::uint64_t slot_bytes = std::max<std::uint64_t>(1, local.slot_bytes);
    const std::uint64_t enough = (IN_FLIGHT_BYTES + slot_bytes - 1) / slot_bytes;
    credits_ = credits_param_ != 0 ? credits_param_
                                   : static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                         MAX_CREDITS, std::max<std::uint64_t>(local.slot_count, enough)));
    // A quarter of what may be in flight, or of the ring if that is less: a sender whose own window is smaller than
    // the credits must still hear of commits before its window fills.
    acknowledge_every_ = std::max<std::uint32_t>(1, std::min(credits_, local.slot_count) / 4);
    if (label_.empty()) label_ = local.name + " receiver, pid " + std::to_string(::getpid());
    try {
        open_socket();
    } catch (const zmq::error_t& error) {
        context.log().error("cannot connect to '" + connect_ + "': " + error.what());
        return DHUB_ERR_IO;
    }
    context.log().info("receiving channel '" + local_.name + "' from " + connect_ +
                       (server_key_.empty() ? " (no CURVE)" : " (CURVE)"));
    send_hello(context);
    Outcome outcome = Outcome::Continue;
    while (outcome == Outcome::Continue && !context.stop_requested()) {
        outcome = serve(context);
        if (outcome == Outcome::Continue) tick(context);
    }
    if (assembly_) drop_assembly(context, "the receiver is stopping");
    send_bye();
    try {
        socket_->set(zmq::sockopt::linger, 500);  // the BYE is queued: let ZeroMQ hand it over
    } catch (const zmq::error_t&) {
    }
    const std::string span =
        first_ ? "far sequences " + std::to_string(*first_) + " to " + std::to_string(ledger_.next() - 1) + ": "
               : std::string("no far sequence: ");
    context.log().info(span + "committed " + std::to_string(committed_) + " slots; " + std::to_string(ledger_.lost()) +
                       " never arrived, " + std::to_string(ledger_.duplicates()) + " duplicates dropped, " +
                       std::to_string(truncated_) + " cut slots dropped");
    socket_.reset();
    if (outcome == Outcome::End) return DHUB_END_OF_STREAM;
    return outcome == Outcome::Fail ? failure_ : DHUB_OK;
}

ZmqReceiver::Outcome ZmqReceiver::serve(sdk::NodeContext& context) {
    // A credit owed is paid within a millisecond, even if nothing more arrives.
    const bool owed = welcomed_ && committed_since_credit_ > 0;
    if (owed && context.now_ns() - credit_ns_ >= DRAIN_CREDIT_EVERY_NS) send_credit(context, 0);
    if (!wait_readable(*socket_, welcomed_ && committed_since_credit_ > 0 ? 1 : POLL_MS)) {
        if (welcomed_ && committed_since_credit_ > 0) send_credit(context, 0);
        return Outcome::Continue;
    }
    for (int budget = 0; budget < 1024; ++budget) {  // then the timers get a look
        Incoming incoming = receive(*socket_);
        if (incoming.frames.empty()) {
            // Nothing more waiting: say what was committed, so the sender never waits on a credit in a lull, but
            // not more than once a millisecond: each credit costs both ends a message and a wake-up.
            if (committed_since_credit_ > 0 && context.now_ns() - credit_ns_ >= DRAIN_CREDIT_EVERY_NS) {
                send_credit(context, 0);
            }
            break;
        }
        auto decoded = incoming.dropped == 0 ? decode(spans_of(incoming.frames, 0))
                                             : std::variant<Message, DecodeError>(
                                                   DecodeError{RefuseCode::Malformed, "a message of too many frames"});
        if (auto* error = std::get_if<DecodeError>(&decoded)) {
            const std::uint64_t now = context.now_ns();
            if (now - complaint_ns_ >= COMPLAINT_EVERY_NS) {
                complaint_ns_ = now;
                context.log().warn("dropped a message from " + connect_ +
                                   " that is not the zmq transport's: " + error->what);
            }
            continue;
        }
        const Outcome outcome = handle(context, std::get<Message>(decoded));
        if (outcome != Outcome::Continue) return outcome;
    }
    return Outcome::Continue;
}

ZmqReceiver::Outcome ZmqReceiver::handle(sdk::NodeContext& context, const Message& message) {
    if (const auto* welcome = std::get_if<Welcome>(&message)) return on_welcome(context, *welcome);
    if (const auto* data = std::get_if<Data>(&message)) return on_data(context, *data);
    if (const auto* batch = std::get_if<Batch>(&message)) {
        for (const Data& data : batch->as_data()) {
            if (const Outcome outcome = on_data(context, data); outcome != Outcome::Continue) return outcome;
        }
        return Outcome::Continue;
    }
    if (const auto* heartbeat = std::get_if<Heartbeat>(&message)) {
        if (welcomed_ && heartbeat->session == session_) {
            heard_ns_ = context.now_ns();
            sender_sent_next_ = heartbeat->sent_next;
        }
        return Outcome::Continue;
    }
    if (const auto* end = std::get_if<End>(&message)) {
        if (!welcomed_ || end->session != session_) return Outcome::Continue;
        if (delivery_ == Delivery::Lossless && ledger_.next() < end->end_next) {
            ask_resend(context, "the channel ended at " + std::to_string(end->end_next) + ", " +
                                    std::to_string(ledger_.next()) + " arrived");
            return Outcome::Continue;
        }
        if (wait_after_end_) {
            // The local channel stays open for the next sender on this endpoint (its producer restarted): its
            // readers see a new session, as after a producer that was killed.
            context.log().info("the sender's channel ended after sequence " + std::to_string(end->end_next) +
                               ": waiting for it to be served again");
            ended_session_ = session_;
            welcomed_ = false;
            send_bye();
            return Outcome::Continue;
        }
        context.log().info("the sender's channel closed after sequence " + std::to_string(end->end_next) +
                           ": closing the local channel");
        return Outcome::End;
    }
    if (const auto* refuse = std::get_if<Refuse>(&message)) {
        heard_ns_ = context.now_ns();
        switch (refuse->code) {
            case RefuseCode::Mismatch:
                context.log().error("the sender at " + connect_ + " refused this receiver: " + refuse->text);
                failure_ = DHUB_ERR_SCHEMA_MISMATCH;
                return Outcome::Fail;
            case RefuseCode::UnknownPeer:
                // The sender restarted or forgot this receiver: greet it again (resuming where this one is).
                if (welcomed_)
                    context.log().info("the sender at " + connect_ + " does not know this receiver (" + refuse->text +
                                       "): greeting it again");
                welcomed_ = false;
                send_hello(context);
                return Outcome::Continue;
            case RefuseCode::Version:
            case RefuseCode::Malformed:
                context.log().error("the sender at " + connect_ +
                                    " could not read this receiver's message: " + refuse->text);
                return Outcome::Continue;
        }
    }
    return Outcome::Continue;  // HELLO, CREDIT, BYE are a sender's to receive; a receiver ignores them
}

ZmqReceiver::Outcome ZmqReceiver::on_welcome(sdk::NodeContext& context, const Welcome& welcome) {
    if (ended_session_ && welcome.session == *ended_session_) {
        // The ended sender answered a greeting before it went away: let it go, and greet again later.
        send_bye();
        return Outcome::Continue;
    }
    if (const std::string mismatch = sdk::channel_mismatch(info_of(welcome.channel), info_of(local_));
        !mismatch.empty()) {
        context.log().error("the sender at " + connect_ + " serves another channel: " + mismatch);
        failure_ = DHUB_ERR_SCHEMA_MISMATCH;
        return Outcome::Fail;
    }
    if (ledger_.started() && welcome.session != session_) {
        context.log().warn("the sender at " + connect_ +
                           " restarted: its sequence numbers start over, and what it had not sent is gone with it");
    }
    if (welcome.session != session_) {
        // A new sender (or the first): its numbers start where it says, or with whatever arrives first.
        ledger_.restart();
        if (welcome.first != RESUME_NONE) ledger_.expect(welcome.first);
    } else if (welcome.first != RESUME_NONE) {
        // The same sender, greeted again: what it no longer has before `first` is lost to this receiver.
        ledger_.skip_to(welcome.first);
    }
    if (assembly_ && welcome.session != session_) drop_assembly(context, "the sender restarted");
    session_ = welcome.session;
    delivery_ = welcome.delivery;
    welcomed_ = true;
    heard_ns_ = context.now_ns();
    sender_sent_next_ = 0;
    context.log().info(
        "welcomed by the sender at " + connect_ + ": " + (delivery_ == Delivery::Lossless ? "lossless" : "latest") +
        ", from " +
        (welcome.first == RESUME_NONE ? std::string("its first slot") : "sequence " + std::to_string(welcome.first)));
    if (!first_ && welcome.first != RESUME_NONE) first_ = welcome.first;
    send_credit(context, 0);
    return Outcome::Continue;
}

ZmqReceiver::Outcome ZmqReceiver::on_data(sdk::NodeContext& context, const Data& data) {
    if (!welcomed_ || data.session != session_) return Outcome::Continue;  // from before a restart: stale
    const std::uint64_t now = context.now_ns();
    heard_ns_ = now;
    data_ns_ = now;
    if (data.offset == 0) {
        if (assembly_) drop_assembly(context, "a new slot began before its last chunk");
        const bool started = ledger_.started();
        if (started && data.sequence < ledger_.next()) return Outcome::Continue;  // a duplicate after a resend
        // Lossless, welcomed with no first slot named: the first to come is the sender's very first (previous
        // none); anything else means that one was lost on the way.
        if (!started && delivery_ == Delivery::Lossless && data.previous != RESUME_NONE) {
            ask_resend(context, "sequence " + std::to_string(data.sequence) + " arrived before the sender's first");
            return Outcome::Continue;
        }
        // Lossless: a jump is either slots this receiver missed (ask for them again), or numbers that never reached
        // the sender (the slot before this one in its stream is one this receiver has: count them lost).
        const bool never_sent = data.previous == RESUME_NONE || data.previous < ledger_.next();
        if (started && data.sequence > ledger_.next() && delivery_ == Delivery::Lossless && !never_sent) {
            ask_resend(context, "sequence " + std::to_string(data.sequence) + " arrived, " +
                                    std::to_string(ledger_.next()) + " expected");
            return Outcome::Continue;
        }
        if (data.slot_bytes > local_.slot_bytes) {
            context.report_error(DHUB_ERR_INVALID_ARGUMENT, "sequence " + std::to_string(data.sequence) + " holds " +
                                                                std::to_string(data.slot_bytes) +
                                                                " bytes, more than the local slot's " +
                                                                std::to_string(local_.slot_bytes) + ": dropped");
            return Outcome::Continue;
        }
        Assembly assembly{data.sequence, data.timestamp_ns, data.slot_bytes, 0, {}};
        if (const Outcome acquired = acquire_local(context, assembly.slot); acquired != Outcome::Continue) {
            return acquired;
        }
        assembly_ = assembly;
    } else if (!assembly_ || data.sequence != assembly_->sequence || data.offset != assembly_->received ||
               data.slot_bytes != assembly_->slot_bytes || data.timestamp_ns != assembly_->timestamp_ns) {
        // A chunk out of place: its slot is incomplete. Nothing of it is committed.
        if (assembly_) {
            drop_assembly(context, "chunk at offset " + std::to_string(data.offset) + " of sequence " +
                                       std::to_string(data.sequence) + ", " + std::to_string(assembly_->received) +
                                       " of sequence " + std::to_string(assembly_->sequence) + " expected");
        }
        if (delivery_ == Delivery::Lossless && data.sequence >= ledger_.next()) {
            ask_resend(context, "a slot arrived cut");
        }
        return Outcome::Continue;
    }
    // decode() kept the chunk inside data.slot_bytes, which is the first chunk's, which fits the local slot.
    std::memcpy(static_cast<std::byte*>(assembly_->slot.data) + data.offset, data.payload.data(), data.payload.size());
    assembly_->received += data.payload.size();
    if ((data.flags & DATA_LAST_CHUNK) == 0) return Outcome::Continue;

    if (!first_) first_ = assembly_->sequence;
    (void)ledger_.arrive(assembly_->sequence);
    const dhub_status status =
        context.host()->commit(context.node(), 0, assembly_->slot_bytes, assembly_->timestamp_ns);
    if (status != DHUB_OK) {
        (void)context.host()->abort_write(context.node(), 0);  // the slot goes back: the next acquire needs it
        context.report_error(status, "committing sequence " + std::to_string(assembly_->sequence) +
                                         " failed: " + dhub_status_name(status));
    } else {
        ++committed_;
    }
    assembly_.reset();
    if (ledger_.lost() > lost_reported_) {
        context.count_upstream_loss(0, ledger_.lost() - lost_reported_);
        lost_reported_ = ledger_.lost();
    }
    // Latest: the sender sends the next once it hears of this one. Lossless: every acknowledge_every_ commits (and
    // whenever the socket has nothing more waiting: serve()).
    ++committed_since_credit_;
    if (delivery_ == Delivery::Latest || committed_since_credit_ >= acknowledge_every_) {
        send_credit(context, 0);
    }
    return Outcome::Continue;
}

ZmqReceiver::Outcome ZmqReceiver::acquire_local(sdk::NodeContext& context, dhub_slot& slot) {
    slot = {};
    slot.struct_size = sizeof slot;
    for (;;) {
        const dhub_status status = context.host()->acquire_write(context.node(), 0, LOCAL_WAIT_NS, &slot);
        if (status == DHUB_OK) return Outcome::Continue;
        if (status == DHUB_STOPPING) return Outcome::Stop;
        if (status != DHUB_TIMEOUT) {
            context.log().error(std::string("cannot get a slot of the local channel: ") + dhub_status_name(status));
            failure_ = status;
            return Outcome::Fail;
        }
        // The local readers are slow: the sender waits on credits meanwhile; tell it this receiver is alive.
        send_credit(context, 0);
    }
}

void ZmqReceiver::drop_assembly(sdk::NodeContext& context, const std::string& why) {
    ++truncated_;
    (void)context.host()->abort_write(context.node(), 0);
    const std::uint64_t now = context.now_ns();
    if (now - complaint_ns_ >= COMPLAINT_EVERY_NS) {
        complaint_ns_ = now;
        context.log().warn("dropped the part of sequence " + std::to_string(assembly_->sequence) +
                           " that arrived: " + why);
    }
    assembly_.reset();
}

void ZmqReceiver::send(const std::vector<std::byte>& header) {
    (void)socket_->send(message_of(header), zmq::send_flags::dontwait);
}

void ZmqReceiver::send_hello(sdk::NodeContext& context) {
    hello_ns_ = context.now_ns();
    Hello hello{local_, session_, ledger_.started() ? ledger_.next() : RESUME_NONE, credits_, label_};
    try {
        send(encode(hello));
    } catch (const zmq::error_t&) {
        // Not connected yet (immediate): said again on the next tick.
    }
}

void ZmqReceiver::send_credit(sdk::NodeContext& context, std::uint8_t flags) {
    if (!welcomed_) return;
    credit_ns_ = context.now_ns();
    committed_since_credit_ = 0;
    try {
        send(encode(Credit{session_, ledger_.next(), credits_, flags}));
    } catch (const zmq::error_t&) {
    }
}

void ZmqReceiver::ask_resend(sdk::NodeContext& context, const std::string& why) {
    const std::uint64_t now = context.now_ns();
    if (now - rewind_ns_ < REWIND_EVERY_NS) return;
    rewind_ns_ = now;
    context.log().debug("asking the sender to resend from sequence " + std::to_string(ledger_.next()) + ": " + why);
    send_credit(context, CREDIT_REWIND);
}

void ZmqReceiver::send_bye() {
    try {
        send(encode(Bye{}));
    } catch (const zmq::error_t&) {
    }
}

void ZmqReceiver::tick(sdk::NodeContext& context) {
    const std::uint64_t now = context.now_ns();
    if (!welcomed_) {
        if (now - hello_ns_ >= HELLO_RETRY_NS) send_hello(context);
        return;
    }
    if (now - heard_ns_ > peer_timeout_ns_) {
        context.log().warn("the sender at " + connect_ + " has been silent for " +
                           std::to_string((now - heard_ns_) / MS) + " ms: greeting it again");
        welcomed_ = false;
        if (assembly_) drop_assembly(context, "the sender went silent");
        send_hello(context);
        return;
    }
    // The sender says it sent more than arrived, and nothing is arriving: the tail was lost with a connection.
    if (sender_sent_next_ > ledger_.next() && now - data_ns_ > 2 * CREDIT_EVERY_NS && !assembly_) {
        ask_resend(context, "the sender sent up to " + std::to_string(sender_sent_next_) + ", " +
                                std::to_string(ledger_.next()) + " arrived");
    }
    if (now - credit_ns_ >= CREDIT_EVERY_NS) send_credit(context, 0);
}

}  // namespace dhub::zmq_transport
