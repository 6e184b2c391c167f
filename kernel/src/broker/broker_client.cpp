// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/broker_client.hpp"

#include <algorithm>
#include <array>
#include <future>
#include <optional>

#include <zmq.hpp>

#include "dhub/base/clock.hpp"
#include "dhub/broker/codec.hpp"
#include "dhub/broker/log.hpp"
#include "dhub/broker/registry.hpp"
#include "wake_fd.hpp"

namespace dhub::broker {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr int RECONNECT_MS = 100;
constexpr int RECONNECT_MAX_MS = 1000;
constexpr int HWM_MESSAGES = 1000;
constexpr std::uint64_t NS_PER_MS = 1'000'000;
constexpr std::size_t MAX_MESSAGES_PER_WAKE = 256;
/// First retry of a HELLO that could not be sent (no connection yet); doubled up to the heartbeat interval
/// while the broker stays unreachable, so a client waiting for a broker that is down stays idle.
constexpr std::int64_t HELLO_RETRY_FIRST_MS = 2;

std::uint64_t to_ns(milliseconds value) {
    return static_cast<std::uint64_t>(value.count()) * NS_PER_MS;
}

ErrorCode code_for(const std::string& broker_code) {
    if (broker_code == error_code::NOT_FOUND) return ErrorCode::NotFound;
    if (broker_code == error_code::ALREADY_REGISTERED) return ErrorCode::AlreadyExists;
    if (broker_code == error_code::SCHEMA_MISMATCH) return ErrorCode::SchemaMismatch;
    if (broker_code == error_code::VERSION_MISMATCH) return ErrorCode::Incompatible;
    if (broker_code == error_code::NOT_AUTHORIZED || broker_code == error_code::NOT_OWNER) {
        return ErrorCode::PermissionDenied;
    }
    return ErrorCode::InvalidArgument;
}

json registration_body(const ChannelRegistration& registration) {
    json body{{"name", registration.name},
              {"segment", registration.segment},
              {"layout_version", registration.layout_version},
              {"schema_hash", registration.schema_hash},
              {"policies", registration.policies},
              {"producer", to_json(registration.producer)},
              {"slot_bytes", registration.slot_bytes},
              {"slot_count", registration.slot_count},
              {"attach_secret", registration.attach_secret}};
    if (registration.schema.is_object()) body["schema"] = registration.schema;
    if (!registration.shm_domain.empty()) body["shm_domain"] = registration.shm_domain;
    if (registration.transport.is_object()) body["transport"] = registration.transport;
    return body;
}

}  // namespace

json to_json(const ProcessTag& tag) {
    json value{{"pid", tag.pid}, {"start_ticks", tag.start_ticks}};
    if (!tag.name.empty()) value["name"] = tag.name;
    return value;
}

ProcessTag process_tag_from_json(const json& value) {
    ProcessTag tag;
    tag.pid = static_cast<std::uint32_t>(value.value("pid", std::uint64_t{0}));
    tag.start_ticks = value.value("start_ticks", std::uint64_t{0});
    tag.name = value.value("name", "");
    return tag;
}

struct BrokerClient::Pending {
    Message request;
    std::promise<Message> reply;
};

struct BrokerClient::Socket {
    zmq::context_t context{1};
    std::optional<zmq::socket_t> dealer;
    WakeFd wake;
};

BrokerClient::BrokerClient(ClientConfig config, NoticeHandler on_notice)
    : config_(std::move(config)), on_notice_(std::move(on_notice)) {}

BrokerClient::~BrokerClient() {
    stop();
}

bool BrokerClient::open_socket() {
    try {
        socket_->dealer.reset();
        zmq::socket_t dealer(socket_->context, zmq::socket_type::dealer);
        dealer.set(zmq::sockopt::linger, 0);
        // Queue nothing while not connected: a request either reaches a broker or times out, and a
        // restarted broker is not flooded with stale messages.
        dealer.set(zmq::sockopt::immediate, 1);
        dealer.set(zmq::sockopt::sndhwm, HWM_MESSAGES);
        dealer.set(zmq::sockopt::rcvhwm, HWM_MESSAGES);
        dealer.set(zmq::sockopt::reconnect_ivl, RECONNECT_MS);
        dealer.set(zmq::sockopt::reconnect_ivl_max, RECONNECT_MAX_MS);
        dealer.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(MAX_BODY_BYTES + 1024));
        if (!config_.server_public_key.empty()) {
            dealer.set(zmq::sockopt::curve_serverkey, config_.server_public_key);
            dealer.set(zmq::sockopt::curve_publickey, config_.client_keys.public_key);
            dealer.set(zmq::sockopt::curve_secretkey, config_.client_keys.secret_key);
        }
        dealer.connect(config_.endpoint);
        socket_->dealer.emplace(std::move(dealer));
        return true;
    } catch (const zmq::error_t& error) {
        client_log().error("broker client '{}': cannot connect to {}: {}", config_.name, config_.endpoint,
                           error.what());
        return false;
    }
}

VoidResult BrokerClient::start() {
    if (running_.load()) return Ok{};
    if (!config_.server_public_key.empty() &&
        (!is_z85_key(config_.server_public_key) || !is_z85_key(config_.client_keys.public_key) ||
         !is_z85_key(config_.client_keys.secret_key))) {
        return Error{ErrorCode::InvalidArgument, "broker client '" + config_.name +
                                                     "': CURVE needs the broker's public key and this client's key "
                                                     "pair as 40-character Z85 keys (see dhub-keygen)"};
    }
    socket_ = std::make_unique<Socket>();
    if (!socket_->wake.valid()) return Error{ErrorCode::Io, "broker client: eventfd() failed"};
    if (!open_socket()) {
        return Error{ErrorCode::InvalidArgument, "broker client '" + config_.name + "': cannot connect to " +
                                                     config_.endpoint + " (check the endpoint syntax)"};
    }
    running_.store(true);
    thread_ = std::thread([this] { run(); });
    return Ok{};
}

void BrokerClient::stop() {
    if (!running_.exchange(false)) return;
    socket_->wake.notify();
    if (thread_.joinable()) thread_.join();
    socket_.reset();
    session_ready_.store(false);
}

bool BrokerClient::wait_connected(milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return connected_changed_.wait_for(lock, timeout, [this] { return session_ready_.load(); });
}

bool BrokerClient::send_message(const Message& message) {
    if (!socket_->dealer) return false;
    const Frames frames = encode(message);
    try {
        for (std::size_t i = 0; i < FRAME_COUNT; ++i) {
            const auto more = i + 1 < FRAME_COUNT ? zmq::send_flags::sndmore : zmq::send_flags::none;
            if (!socket_->dealer->send(zmq::buffer(frames[i]), more | zmq::send_flags::dontwait)) return false;
        }
        return true;
    } catch (const zmq::error_t& error) {
        client_log().debug("broker client '{}': send failed: {}", config_.name, error.what());
        return false;
    }
}

bool BrokerClient::send_internal(Internal kind, MessageType type, json body, const std::string& key) {
    const std::uint64_t id = next_request_id_.fetch_add(1);
    if (!send_message(Message{type, id, std::move(body)})) return false;
    internal_[id] = InternalRequest{kind, key};
    return true;
}

void BrokerClient::send_hello(std::uint64_t now_ns) {
    last_hello_ns_ = now_ns;
    json body{{"protocol_major", PROTOCOL_MAJOR},
              {"protocol_minor", PROTOCOL_MINOR},
              {"name", config_.name},
              {"role", config_.role}};
    // With ZMQ_IMMEDIATE the send fails until the connection is up (the usual case right after connect):
    // the loop then retries after hello_retry_ms_ instead of a whole heartbeat later.
    const bool sent = send_internal(Internal::Hello, MessageType::Hello, std::move(body), {});
    const std::int64_t beat_ms = static_cast<std::int64_t>(beat_ns_ / NS_PER_MS);
    hello_retry_ms_ = sent ? 0 : std::min(beat_ms, hello_retry_ms_ == 0 ? HELLO_RETRY_FIRST_MS : hello_retry_ms_ * 2);
}

void BrokerClient::begin_resync(std::uint64_t now_ns) {
    const bool was_ready = session_ready_.exchange(false);
    // Several in-flight requests may each be answered HELLO_REQUIRED: say HELLO once.
    if (was_ready || now_ns - last_hello_ns_ >= to_ns(config_.heartbeat_interval)) send_hello(now_ns);
}

void BrokerClient::resend_registrations() {
    std::map<std::string, json> channels;
    std::map<std::string, json> consumers;
    {
        std::lock_guard lock(mutex_);
        channels = channels_;
        consumers = consumers_;
    }
    // Channels first: a consumer registration needs its channel.
    for (auto& [name, body] : channels)
        send_internal(Internal::ResyncChannel, MessageType::RegisterChannel, body, name);
    for (auto& [key, body] : consumers) {
        send_internal(Internal::ResyncConsumer, MessageType::RegisterConsumer, body, key);
    }
    if (!channels.empty() || !consumers.empty()) {
        client_log().info("broker client '{}': re-registered {} channels and {} consumers", config_.name,
                          channels.size(), consumers.size());
    }
}

void BrokerClient::retry_orphan_consumers() {
    for (auto it = orphan_consumers_.begin(); it != orphan_consumers_.end();) {
        json body;
        {
            std::lock_guard lock(mutex_);
            const auto found = consumers_.find(it->first);
            if (found == consumers_.end()) {
                it = orphan_consumers_.erase(it);
                continue;
            }
            body = found->second;
        }
        send_internal(Internal::ResyncConsumer, MessageType::RegisterConsumer, std::move(body), it->first);
        ++it;
    }
}

void BrokerClient::flush_outbox() {
    while (session_ready_.load()) {
        Message message;
        std::uint64_t id = 0;
        {
            std::lock_guard lock(mutex_);
            if (outbox_.empty()) return;
            id = outbox_.front();
            outbox_.pop_front();
            const auto found = pending_.find(id);
            if (found == pending_.end()) continue;  // the caller gave up
            message = found->second->request;
        }
        if (!send_message(message)) {
            std::lock_guard lock(mutex_);
            outbox_.push_front(id);
            return;
        }
    }
}

void BrokerClient::on_internal_reply(const InternalRequest& request, const Message& message, std::uint64_t now_ns) {
    const bool error = message.type == MessageType::Error;
    const std::string code = error ? message.body.value("code", "") : "";
    if (code == error_code::HELLO_REQUIRED) {
        begin_resync(now_ns);
        return;
    }
    switch (request.kind) {
        case Internal::Hello:
            if (error) {
                client_log().error("broker client '{}': the broker refused HELLO: {}: {}", config_.name, code,
                                   message.body.value("message", ""));
                return;
            }
            if (session_ready_.load()) return;  // a duplicate HELLO_ACK
            // Beat at least as often as the broker asks, or it would declare this client dead.
            if (const auto broker_beat_ms = message.body["heartbeat_ms"].get<std::uint64_t>(); broker_beat_ms > 0) {
                beat_ns_ = std::min(to_ns(config_.heartbeat_interval), broker_beat_ms * NS_PER_MS);
            }
            if (had_session_) resyncs_.fetch_add(1);
            had_session_ = true;
            resend_registrations();
            {
                std::lock_guard lock(mutex_);
                session_ready_.store(true);
            }
            connected_changed_.notify_all();
            flush_outbox();
            return;
        case Internal::Heartbeat:
            return;
        case Internal::ResyncChannel:
            if (!error && config_.on_restored) config_.on_restored("channel", request.key);
            if (error) {
                client_log().warn("broker client '{}': re-registering channel '{}' failed: {}: {}", config_.name,
                                  request.key, code, message.body.value("message", ""));
            }
            return;
        case Internal::ResyncConsumer:
            if (!error) {
                orphan_consumers_.erase(request.key);
                if (config_.on_restored) config_.on_restored("consumer", request.key);
            } else if (code == error_code::NOT_FOUND) {
                orphan_consumers_[request.key] = true;  // its producer is not back yet: retried every beat
            } else {
                client_log().warn("broker client '{}': re-registering consumer {} failed: {}: {}", config_.name,
                                  request.key, code, message.body.value("message", ""));
            }
            return;
    }
}

void BrokerClient::on_message(Message message, std::uint64_t now_ns) {
    last_heard_ns_ = now_ns;
    if (message.type == MessageType::Notice && message.request_id == NOTICE_REQUEST_ID) {
        if (!on_notice_) return;
        Notice notice{message.body.value("event", ""), message.body.value("channel", ""),
                      message.body.value("message", ""), message.body};
        try {
            on_notice_(notice);
        } catch (const std::exception& error) {
            client_log().error("broker client '{}': notice handler threw: {}", config_.name, error.what());
        }
        return;
    }
    if (const auto internal = internal_.find(message.request_id); internal != internal_.end()) {
        const InternalRequest request = internal->second;
        internal_.erase(internal);
        on_internal_reply(request, message, now_ns);
        return;
    }
    std::shared_ptr<Pending> pending;
    {
        std::lock_guard lock(mutex_);
        const auto found = pending_.find(message.request_id);
        if (found == pending_.end()) return;  // a late reply to a call that timed out
        if (message.type == MessageType::Error && message.body.value("code", "") == error_code::HELLO_REQUIRED) {
            // The broker restarted under this call: send it again once the session is back.
            outbox_.push_front(message.request_id);
        } else {
            pending = found->second;
            pending_.erase(found);
        }
    }
    if (pending) {
        pending->reply.set_value(std::move(message));
    } else {
        begin_resync(now_ns);
    }
}

void BrokerClient::run() noexcept {
    beat_ns_ = to_ns(config_.heartbeat_interval);
    const std::uint64_t dead_ns = to_ns(config_.dead_after);
    std::uint64_t now_ns = monotonic_ns();
    last_heard_ns_ = now_ns;
    send_hello(now_ns);
    std::vector<zmq::message_t> frames;
    std::vector<std::string_view> views;
    while (running_.load()) {
        try {
            const std::int64_t idle_ms = std::clamp<std::int64_t>(config_.heartbeat_interval.count() / 4, 5, 100);
            const std::int64_t poll_ms = hello_retry_ms_ > 0 ? std::min(idle_ms, hello_retry_ms_) : idle_ms;
            std::array<zmq::pollitem_t, 2> items{{
                {socket_->dealer ? socket_->dealer->handle() : nullptr, 0, ZMQ_POLLIN, 0},
                {nullptr, socket_->wake.fd(), ZMQ_POLLIN, 0},
            }};
            const std::uint64_t asked_until_ns = monotonic_ns() + static_cast<std::uint64_t>(poll_ms) * 1'000'000;
            zmq::poll(items.data(), items.size(), milliseconds(poll_ms));
            if ((items[1].revents & ZMQ_POLLIN) != 0) socket_->wake.drain();
            if (!running_.load()) break;
            now_ns = monotonic_ns();
            // Woken much later than asked: this thread did not run, so the broker's silence meanwhile is not
            // evidence that it died (as the broker forgives its own stalls).
            if (now_ns > asked_until_ns + to_ns(config_.heartbeat_interval)) {
                last_heard_ns_ += now_ns - asked_until_ns;
            }
            for (std::size_t handled = 0; handled < MAX_MESSAGES_PER_WAKE && socket_->dealer; ++handled) {
                frames.clear();
                bool more = true;
                while (more) {
                    zmq::message_t frame;
                    if (!socket_->dealer->recv(frame, zmq::recv_flags::dontwait)) break;
                    more = frame.more();
                    if (frames.size() <= FRAME_COUNT) frames.push_back(std::move(frame));
                }
                if (frames.empty()) break;
                views.clear();
                for (const auto& frame : frames)
                    views.push_back(frame.to_string_view());
                Decoded decoded = decode(views);
                if (!decoded.ok()) {
                    client_log().warn("broker client '{}': undecodable message from the broker: {}", config_.name,
                                      decoded.error().reason);
                    continue;
                }
                on_message(std::move(decoded.message()), now_ns);
            }
            if (now_ns - last_heard_ns_ >= dead_ns) {
                // Nothing heard for dead_after, not even a heartbeat ack: assume the broker is gone and
                // start over on a fresh connection.
                if (had_session_) {
                    client_log().warn("broker client '{}': broker at {} silent for {} ms: reconnecting", config_.name,
                                      config_.endpoint, config_.dead_after.count());
                }
                session_ready_.store(false);
                internal_.clear();
                open_socket();
                last_heard_ns_ = now_ns;
                send_hello(now_ns);
            } else if (!session_ready_.load()) {
                const std::uint64_t retry_ns =
                    hello_retry_ms_ > 0 ? static_cast<std::uint64_t>(hello_retry_ms_) * NS_PER_MS : beat_ns_;
                if (now_ns - last_hello_ns_ >= retry_ns) send_hello(now_ns);
            } else if (now_ns - last_beat_ns_ >= beat_ns_) {
                last_beat_ns_ = now_ns;
                send_internal(Internal::Heartbeat, MessageType::Heartbeat, json::object(), {});
                retry_orphan_consumers();
            }
            flush_outbox();
        } catch (const std::exception& error) {
            client_log().error("broker client '{}': {}", config_.name, error.what());
        }
    }
}

Result<Message> BrokerClient::request(MessageType type,
                                      json body,
                                      milliseconds timeout,
                                      const std::function<bool()>& cancelled) {
    if (!running_.load()) {
        return Error{ErrorCode::InvalidArgument, "broker client '" + config_.name + "' is not started"};
    }
    auto pending = std::make_shared<Pending>();
    const std::uint64_t id = next_request_id_.fetch_add(1);
    pending->request = Message{type, id, std::move(body)};
    auto future = pending->reply.get_future();
    {
        std::lock_guard lock(mutex_);
        pending_[id] = pending;
        outbox_.push_back(id);
    }
    socket_->wake.notify();
    // Waited in short slices when the caller may cancel: a stop request is seen within CANCEL_POLL.
    constexpr milliseconds CANCEL_POLL{10};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool gave_up = false;
    if (cancelled) {
        while (future.wait_for(std::min(CANCEL_POLL, timeout)) != std::future_status::ready) {
            if (cancelled()) {
                std::lock_guard lock(mutex_);
                pending_.erase(id);
                return Error{ErrorCode::Cancelled,
                             std::string(to_wire(type)) + " to the broker at " + config_.endpoint + " cancelled"};
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                gave_up = true;
                break;
            }
        }
    } else {
        gave_up = future.wait_for(timeout) != std::future_status::ready;
    }
    if (gave_up) {
        std::lock_guard lock(mutex_);
        pending_.erase(id);
        if (future.wait_for(milliseconds(0)) != std::future_status::ready) {
            return Error{ErrorCode::Timeout,
                         "broker at " + config_.endpoint + " did not answer " + std::string(to_wire(type)) +
                             " within " + std::to_string(timeout.count()) +
                             " ms: is dhub-broker running there, and is this client's key in its allowlist?"};
        }
    }
    Message reply = future.get();
    if (reply.type == MessageType::Error) {
        const std::string code = reply.body.value("code", "");
        return Error{code_for(code), "broker refused " + std::string(to_wire(type)) + ": " + code + ": " +
                                         reply.body.value("message", "")};
    }
    if (reply.type != ack_of(type)) {
        return Error{ErrorCode::Corrupt,
                     "broker answered " + std::string(to_wire(type)) + " with " + std::string(to_wire(reply.type))};
    }
    return reply;
}

VoidResult BrokerClient::register_channel(const ChannelRegistration& registration) {
    json body = registration_body(registration);
    const std::string problem = check_body(MessageType::RegisterChannel, body);
    if (!problem.empty()) {
        return Error{ErrorCode::InvalidArgument, "channel registration '" + registration.name + "': " + problem};
    }
    auto reply = request(MessageType::RegisterChannel, body, config_.request_timeout);
    if (!reply) return reply.error();
    std::lock_guard lock(mutex_);
    channels_[registration.name] = std::move(body);
    return Ok{};
}

void BrokerClient::forget_channel(const std::string& name) {
    std::lock_guard lock(mutex_);
    channels_.erase(name);
}

VoidResult BrokerClient::deregister_channel(const std::string& name) {
    {
        std::lock_guard lock(mutex_);
        channels_.erase(name);  // forgotten even if the broker is away: it must not come back on a resync
    }
    auto reply = request(MessageType::DeregisterChannel, json{{"name", name}}, config_.request_timeout);
    if (!reply) return reply.error();
    return Ok{};
}

Result<ChannelInfo> BrokerClient::discover(const std::string& name,
                                           milliseconds wait,
                                           const std::function<bool()>& cancelled) {
    json body{{"name", name}};
    if (wait.count() > 0) body["wait_ms"] = static_cast<std::uint64_t>(wait.count());
    auto reply = request(MessageType::Discover, std::move(body), wait + config_.request_timeout, cancelled);
    if (!reply) return reply.error();
    const json& ack = reply->body;
    ChannelInfo info;
    info.registration.name = ack["name"].get<std::string>();
    info.registration.segment = ack["segment"].get<std::string>();
    info.registration.layout_version = ack["layout_version"].get<std::uint64_t>();
    info.registration.schema_hash = ack["schema_hash"].get<std::string>();
    info.registration.policies = ack["policies"];
    info.registration.producer = process_tag_from_json(ack["producer"]);
    info.registration.slot_bytes = ack["slot_bytes"].get<std::uint64_t>();
    info.registration.slot_count = ack["slot_count"].get<std::uint64_t>();
    info.registration.attach_secret = ack["attach_secret"].get<std::string>();
    if (const auto schema = ack.find("schema"); schema != ack.end()) info.registration.schema = *schema;
    if (const auto domain = ack.find("shm_domain"); domain != ack.end()) {
        info.registration.shm_domain = domain->get<std::string>();
    }
    if (const auto transport = ack.find("transport"); transport != ack.end()) info.registration.transport = *transport;
    info.consumer_count = ack["consumer_count"].get<std::uint64_t>();
    return info;
}

VoidResult BrokerClient::register_consumer(const ConsumerRegistration& registration) {
    json body{{"channel", registration.channel},
              {"consumer", to_json(registration.consumer)},
              {"expected_schema_hash", registration.expected_schema_hash}};
    if (registration.expected_schema.is_object()) body["expected_schema"] = registration.expected_schema;
    const std::string problem = check_body(MessageType::RegisterConsumer, body);
    if (!problem.empty()) {
        return Error{ErrorCode::InvalidArgument, "consumer registration on '" + registration.channel + "': " + problem};
    }
    auto reply = request(MessageType::RegisterConsumer, body, config_.request_timeout);
    if (!reply) return reply.error();
    const std::string key = registration.channel + "|" + consumer_key(body["consumer"]);
    std::lock_guard lock(mutex_);
    consumers_[key] = std::move(body);
    return Ok{};
}

VoidResult BrokerClient::deregister_consumer(const std::string& channel, const ProcessTag& consumer) {
    const json identity = to_json(consumer);
    {
        std::lock_guard lock(mutex_);
        consumers_.erase(channel + "|" + consumer_key(identity));
    }
    auto reply = request(MessageType::DeregisterConsumer, json{{"channel", channel}, {"consumer", identity}},
                         config_.request_timeout);
    if (!reply) return reply.error();
    return Ok{};
}

Result<std::vector<ChannelSummary>> BrokerClient::list() {
    auto reply = request(MessageType::List, json::object(), config_.request_timeout);
    if (!reply) return reply.error();
    std::vector<ChannelSummary> summaries;
    for (const auto& entry : reply->body["channels"]) {
        if (!entry.is_object()) continue;
        ChannelSummary summary;
        summary.name = entry.value("name", "");
        summary.segment = entry.value("segment", "");
        summary.schema_hash = entry.value("schema_hash", "");
        if (entry.contains("producer")) summary.producer = process_tag_from_json(entry["producer"]);
        summary.consumer_count = entry.value("consumer_count", std::uint64_t{0});
        summaries.push_back(std::move(summary));
    }
    return summaries;
}

}  // namespace dhub::broker
