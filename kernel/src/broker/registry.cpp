// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/registry.hpp"

#include <algorithm>

#include "dhub/broker/log.hpp"
#include "dhub/schema/compatibility.hpp"

namespace dhub::broker {
namespace {

using nlohmann::json;
constexpr std::uint64_t NS_PER_MS = 1'000'000;

Message reply(MessageType type, std::uint64_t request_id, json body) {
    return Message{type, request_id, std::move(body)};
}

json notice_body(std::string_view event, const std::string& channel, std::string text) {
    return json{{"event", event}, {"channel", channel}, {"message", std::move(text)}};
}

std::string describe(const json& identity) {
    std::string text = "pid " + std::to_string(identity.value("pid", std::uint64_t{0}));
    if (identity.contains("name")) text += " (" + identity["name"].get<std::string>() + ")";
    return text;
}

bool same_process(const json& a, const json& b) {
    return a.value("pid", std::uint64_t{0}) == b.value("pid", std::uint64_t{0}) &&
           a.value("start_ticks", std::uint64_t{0}) == b.value("start_ticks", std::uint64_t{0});
}

}  // namespace

std::string consumer_key(const json& identity) {
    if (!identity.is_object()) return {};
    return std::to_string(identity.value("pid", std::uint64_t{0})) + "/" +
           std::to_string(identity.value("start_ticks", std::uint64_t{0})) + "/" + identity.value("name", "");
}

Registry::Registry(RegistryConfig config, std::shared_ptr<const Allowlist> allowlist)
    : config_(config), allowlist_(std::move(allowlist)) {}

bool Registry::permits(const std::string& public_key, Role role, const std::string& channel) const {
    return allowlist_ == nullptr || allowlist_->permits(public_key, role, channel);
}

void Registry::touch(Session& session, const std::string& routing_id, std::uint64_t now_ns) {
    session_deadlines_.erase({session.deadline_ns, routing_id});
    session.deadline_ns = now_ns + config_.dead_after_ms * NS_PER_MS;
    session_deadlines_.insert({session.deadline_ns, routing_id});
}

void Registry::send_error(const Peer& peer,
                          std::uint64_t request_id,
                          std::string_view code,
                          const std::string& text,
                          std::vector<Outgoing>& out,
                          json extra) {
    json body = extra.is_object() ? std::move(extra) : json::object();
    body["code"] = code;
    body["message"] = text;
    out.push_back({peer.routing_id, reply(MessageType::Error, request_id, std::move(body))});
}

bool Registry::send_limited_error(const Peer& peer,
                                  std::uint64_t request_id,
                                  std::string_view code,
                                  const std::string& text,
                                  std::uint64_t now_ns,
                                  std::vector<Outgoing>& out) {
    const std::uint64_t interval_ns = config_.limits.error_reply_interval_ms * NS_PER_MS;
    std::uint64_t* last_ns = nullptr;
    bool errored_before = false;
    if (auto found = sessions_.find(peer.routing_id); found != sessions_.end()) {
        last_ns = &found->second.last_error_ns;
        errored_before = found->second.errored;
        found->second.errored = true;
    } else {
        if (sessionless_last_error_ns_.size() >= config_.limits.max_sessionless_peers_tracked &&
            sessionless_last_error_ns_.count(peer.routing_id) == 0) {
            sessionless_last_error_ns_.clear();  // bounded: forgetting old peers only loosens their rate limit
        }
        auto [entry, inserted] = sessionless_last_error_ns_.try_emplace(peer.routing_id, 0);
        last_ns = &entry->second;
        errored_before = !inserted;
    }
    if (errored_before && now_ns < *last_ns + interval_ns) {
        ++counters_.errors_suppressed;
        return false;
    }
    *last_ns = now_ns;
    send_error(peer, request_id, code, text, out);
    return true;
}

void Registry::handle_malformed(const Peer& peer,
                                const DecodeError& error,
                                std::uint64_t now_ns,
                                std::vector<Outgoing>& out) {
    now_ns_ = now_ns;
    ++counters_.malformed;
    std::string_view code = error_code::MALFORMED;
    if (error.failure == DecodeFailure::VersionMismatch) code = error_code::VERSION_MISMATCH;
    if (error.failure == DecodeFailure::UnknownType) code = error_code::UNKNOWN_TYPE;
    if (send_limited_error(peer, error.request_id.value_or(NOTICE_REQUEST_ID), code, error.reason, now_ns, out)) {
        broker_log().debug("malformed message from peer with key '{}': {}", peer.public_key, error.reason);
    }
}

void Registry::handle(const Peer& peer, const Message& message, std::uint64_t now_ns, std::vector<Outgoing>& out) {
    now_ns_ = now_ns;
    if (!is_request(message.type)) {
        send_limited_error(peer, message.request_id, error_code::UNKNOWN_TYPE,
                           std::string(to_wire(message.type)) + " is not a request a client may send", now_ns, out);
        return;
    }
    if (message.type == MessageType::Hello) {
        on_hello(peer, message, now_ns, out);
        return;
    }
    const auto found = sessions_.find(peer.routing_id);
    if (found == sessions_.end()) {
        send_limited_error(peer, message.request_id, error_code::HELLO_REQUIRED,
                           "no session for this connection (new connection or restarted broker): send HELLO, then "
                           "register again",
                           now_ns, out);
        return;
    }
    Session& session = found->second;
    touch(session, peer.routing_id, now_ns);
    switch (message.type) {
        case MessageType::RegisterChannel:
            on_register_channel(session, peer, message, out);
            break;
        case MessageType::Discover:
            on_discover(session, peer, message, now_ns, out);
            break;
        case MessageType::DeregisterChannel:
            on_deregister_channel(peer, message, out);
            break;
        case MessageType::RegisterConsumer:
            on_register_consumer(session, peer, message, out);
            break;
        case MessageType::DeregisterConsumer:
            on_deregister_consumer(session, peer, message, out);
            break;
        case MessageType::Heartbeat:
            out.push_back({peer.routing_id, reply(MessageType::HeartbeatAck, message.request_id, json::object())});
            break;
        case MessageType::List:
            on_list(peer, message, out);
            break;
        default:
            break;  // is_request() admits nothing else
    }
}

void Registry::on_hello(const Peer& peer, const Message& message, std::uint64_t now_ns, std::vector<Outgoing>& out) {
    const auto major = message.body["protocol_major"].get<std::uint64_t>();
    if (major != PROTOCOL_MAJOR) {
        send_limited_error(peer, message.request_id, error_code::VERSION_MISMATCH,
                           "HELLO asks for protocol major " + std::to_string(major) + "; this broker speaks " +
                               std::to_string(PROTOCOL_MAJOR) + "." + std::to_string(PROTOCOL_MINOR),
                           now_ns, out);
        return;
    }
    auto found = sessions_.find(peer.routing_id);
    if (found == sessions_.end()) {
        if (sessions_.size() >= config_.limits.max_sessions) {
            send_limited_error(peer, message.request_id, error_code::LIMIT_EXCEEDED,
                               "the broker already has " + std::to_string(sessions_.size()) +
                                   " client sessions (its limit); retry later",
                               now_ns, out);
            return;
        }
        sessionless_last_error_ns_.erase(peer.routing_id);
        found = sessions_.emplace(peer.routing_id, Session{}).first;
        found->second.id = next_session_id_++;
        found->second.public_key = peer.public_key;
        broker_log().info("session {} opened by '{}' ({})", found->second.id, message.body["name"].get<std::string>(),
                          message.body["role"].get<std::string>());
    }
    Session& session = found->second;
    session.name = message.body["name"].get<std::string>();
    touch(session, peer.routing_id, now_ns);
    out.push_back({peer.routing_id, reply(MessageType::HelloAck, message.request_id,
                                          json{{"protocol_major", PROTOCOL_MAJOR},
                                               {"protocol_minor", PROTOCOL_MINOR},
                                               {"session", session.id},
                                               {"heartbeat_ms", config_.heartbeat_ms},
                                               {"dead_after_ms", config_.dead_after_ms}})});
}

json Registry::discover_ack(const Channel& channel) const {
    json body = channel.record;
    body["consumer_count"] = channel.consumers.size();
    return body;
}

void Registry::on_register_channel(Session& session,
                                   const Peer& peer,
                                   const Message& message,
                                   std::vector<Outgoing>& out) {
    const auto& body = message.body;
    const auto name = body["name"].get<std::string>();
    if (!permits(peer.public_key, Role::Produce, name)) {
        send_error(peer, message.request_id, error_code::NOT_AUTHORIZED,
                   "this client's key may not produce channel '" + name + "' (see the broker's allowlist)", out);
        return;
    }
    json record = json::object();
    for (const char* key : {"name", "segment", "layout_version", "schema_hash", "policies", "producer", "slot_bytes",
                            "slot_count", "attach_secret"}) {
        record[key] = body[key];
    }
    for (const char* key : {"schema", "shm_domain", "transport"}) {
        if (body.contains(key)) record[key] = body[key];
    }
    auto found = channels_.find(name);
    if (found != channels_.end()) {
        Channel& existing = found->second;
        const bool same_session = existing.owner == peer.routing_id;
        if (!same_session && !same_process(existing.record["producer"], record["producer"])) {
            const auto& existing_hash = existing.record["schema_hash"].get_ref<const std::string&>();
            const auto& attempted_hash = record["schema_hash"].get_ref<const std::string&>();
            if (existing_hash != attempted_hash) {
                json notice = notice_body(notice_event::CHANNEL_ERROR, name,
                                          "another producer (" + describe(record["producer"]) +
                                              ") tried to register this channel with schema hash " + attempted_hash +
                                              "; yours is " + existing_hash);
                out.push_back({existing.owner, reply(MessageType::Notice, NOTICE_REQUEST_ID, std::move(notice))});
            }
            send_error(peer, message.request_id, error_code::ALREADY_REGISTERED,
                       "channel '" + name + "' is registered by " + describe(existing.record["producer"]) +
                           " (schema hash " + existing_hash + "; yours " + attempted_hash +
                           "): pick another name or stop that producer",
                       out);
            return;
        }
        if (!same_session) {
            // The same producer process on a new connection (it reconnected): it takes the channel over.
            if (auto old = sessions_.find(existing.owner); old != sessions_.end()) old->second.channels.erase(name);
            existing.owner = peer.routing_id;
        }
        existing.record = std::move(record);
    } else {
        if (channels_.size() >= config_.limits.max_channels) {
            send_error(peer, message.request_id, error_code::LIMIT_EXCEEDED,
                       "the broker already holds " + std::to_string(channels_.size()) + " channels (its limit)", out);
            return;
        }
        channels_.emplace(name, Channel{std::move(record), peer.routing_id, {}});
        broker_log().info("channel '{}' registered by '{}'", name, session.name);
    }
    session.channels.insert(name);
    out.push_back({peer.routing_id, reply(MessageType::RegisterChannelAck, message.request_id,
                                          json{{"name", name}, {"consumer_count", channels_[name].consumers.size()}})});
    answer_parked(name, out);
}

void Registry::answer_parked(const std::string& channel, std::vector<Outgoing>& out) {
    const auto found = channels_.find(channel);
    if (found == channels_.end()) return;
    for (auto it = parked_.begin(); it != parked_.end();) {
        if (it->second.channel != channel) {
            ++it;
            continue;
        }
        out.push_back({it->second.routing_id,
                       reply(MessageType::DiscoverAck, it->second.request_id, discover_ack(found->second))});
        if (auto session = sessions_.find(it->second.routing_id); session != sessions_.end()) {
            --session->second.parked;
        }
        parked_deadlines_.erase({it->second.deadline_ns, it->first});
        it = parked_.erase(it);
    }
}

void Registry::on_discover(
    Session& session, const Peer& peer, const Message& message, std::uint64_t now_ns, std::vector<Outgoing>& out) {
    const auto name = message.body["name"].get<std::string>();
    // Checked before existence, so that a client learns nothing about channels it may not consume.
    if (!permits(peer.public_key, Role::Consume, name)) {
        send_error(peer, message.request_id, error_code::NOT_AUTHORIZED,
                   "this client's key may not consume channel '" + name + "' (see the broker's allowlist)", out);
        return;
    }
    if (const auto found = channels_.find(name); found != channels_.end()) {
        out.push_back(
            {peer.routing_id, reply(MessageType::DiscoverAck, message.request_id, discover_ack(found->second))});
        return;
    }
    const std::uint64_t wait_ms = std::min(message.body.value("wait_ms", std::uint64_t{0}), config_.limits.max_wait_ms);
    if (wait_ms == 0) {
        send_error(peer, message.request_id, error_code::NOT_FOUND,
                   "no channel '" + name + "' is registered (pass wait_ms to wait for its producer)", out);
        return;
    }
    if (session.parked >= config_.limits.max_parked_per_session || parked_.size() >= config_.limits.max_parked_total) {
        send_error(peer, message.request_id, error_code::LIMIT_EXCEEDED,
                   "too many DISCOVERs are already waiting (" + std::to_string(session.parked) +
                       " from this client); wait for some to finish",
                   out);
        return;
    }
    const std::uint64_t id = next_parked_id_++;
    const std::uint64_t deadline_ns = now_ns + wait_ms * NS_PER_MS;
    parked_.emplace(id, Parked{peer.routing_id, message.request_id, name, deadline_ns});
    parked_deadlines_.insert({deadline_ns, id});
    ++session.parked;
}

void Registry::remove_channel(const std::string& name, std::string_view event, std::vector<Outgoing>& out) {
    const auto found = channels_.find(name);
    if (found == channels_.end()) return;
    const Channel& channel = found->second;
    std::set<std::string> told;
    for (const auto& [key, consumer] : channel.consumers) {
        if (auto session = sessions_.find(consumer.routing_id); session != sessions_.end()) {
            session->second.consumptions.erase({name, key});
        }
        if (consumer.routing_id == channel.owner || !told.insert(consumer.routing_id).second) continue;
        const std::string text =
            event == notice_event::PRODUCER_DIED
                ? "the producer (" + describe(channel.record["producer"]) + ") stopped beating; the channel was removed"
                : "the producer deregistered the channel";
        json body = notice_body(event, name, text);
        body["producer"] = channel.record["producer"];
        out.push_back({consumer.routing_id, reply(MessageType::Notice, NOTICE_REQUEST_ID, std::move(body))});
    }
    if (auto owner = sessions_.find(channel.owner); owner != sessions_.end()) owner->second.channels.erase(name);
    channels_.erase(found);
}

void Registry::on_deregister_channel(const Peer& peer, const Message& message, std::vector<Outgoing>& out) {
    const auto name = message.body["name"].get<std::string>();
    const auto found = channels_.find(name);
    if (found == channels_.end()) {
        send_error(peer, message.request_id, error_code::NOT_FOUND, "no channel '" + name + "' is registered", out);
        return;
    }
    if (found->second.owner != peer.routing_id) {
        send_error(peer, message.request_id, error_code::NOT_OWNER,
                   "channel '" + name + "' belongs to " + describe(found->second.record["producer"]) +
                       "; only its producer may deregister it",
                   out);
        return;
    }
    remove_channel(name, notice_event::CHANNEL_CLOSED, out);
    out.push_back(
        {peer.routing_id, reply(MessageType::DeregisterChannelAck, message.request_id, json{{"name", name}})});
}

void Registry::on_register_consumer(Session& session,
                                    const Peer& peer,
                                    const Message& message,
                                    std::vector<Outgoing>& out) {
    const auto& body = message.body;
    const auto name = body["channel"].get<std::string>();
    if (!permits(peer.public_key, Role::Consume, name)) {
        send_error(peer, message.request_id, error_code::NOT_AUTHORIZED,
                   "this client's key may not consume channel '" + name + "' (see the broker's allowlist)", out);
        return;
    }
    const auto found = channels_.find(name);
    if (found == channels_.end()) {
        send_error(peer, message.request_id, error_code::NOT_FOUND,
                   "no channel '" + name + "' is registered (DISCOVER it with wait_ms first)", out);
        return;
    }
    Channel& channel = found->second;
    const auto& expected = body["expected_schema_hash"].get_ref<const std::string&>();
    const auto& actual = channel.record["schema_hash"].get_ref<const std::string&>();
    if (expected != actual) {
        // Another schema, or another version of it: with both documents the evolution rule decides
        // (docs/schemas.md); a reader of version N takes N+k that only appended fields.
        const bool documents = body.contains("expected_schema") && channel.record.contains("schema");
        const schema::Verdict verdict =
            documents ? schema::check_readable(body["expected_schema"], channel.record["schema"]) : schema::Verdict{};
        if (!verdict.accepted) {
            send_error(peer, message.request_id, error_code::SCHEMA_MISMATCH,
                       "channel '" + name + "' carries schema hash " + actual + " but the consumer expects " +
                           expected + ": " +
                           (documents ? verdict.why
                                      : "rebuild the consumer against the producer's schema (with both schema "
                                        "documents, a newer version that only appended fields would be accepted)"),
                       out, json{{"expected_schema_hash", expected}, {"channel_schema_hash", actual}});
            return;
        }
    }
    const std::string key = consumer_key(body["consumer"]);
    auto existing = channel.consumers.find(key);
    if (existing == channel.consumers.end() && channel.consumers.size() >= config_.limits.max_consumers_per_channel) {
        send_error(peer, message.request_id, error_code::LIMIT_EXCEEDED,
                   "channel '" + name + "' already has " + std::to_string(channel.consumers.size()) +
                       " consumers (the broker's limit)",
                   out);
        return;
    }
    if (existing != channel.consumers.end() && existing->second.routing_id != peer.routing_id) {
        // The same consumer re-registering from a new connection: move it to this session.
        if (auto old = sessions_.find(existing->second.routing_id); old != sessions_.end()) {
            old->second.consumptions.erase({name, key});
        }
    }
    if (existing == channel.consumers.end()) {
        broker_log().info("consumer {} of channel '{}' registered by '{}'", key, name, session.name);
    }
    channel.consumers[key] = ConsumerRecord{peer.routing_id, body["consumer"]};
    session.consumptions.insert({name, key});
    out.push_back({peer.routing_id, reply(MessageType::RegisterConsumerAck, message.request_id,
                                          json{{"channel", name}, {"consumer_count", channel.consumers.size()}})});
}

void Registry::on_deregister_consumer(Session& session,
                                      const Peer& peer,
                                      const Message& message,
                                      std::vector<Outgoing>& out) {
    const auto name = message.body["channel"].get<std::string>();
    const std::string key = consumer_key(message.body["consumer"]);
    const auto found = channels_.find(name);
    if (found == channels_.end() || found->second.consumers.count(key) == 0 ||
        found->second.consumers[key].routing_id != peer.routing_id) {
        send_error(peer, message.request_id, error_code::NOT_FOUND,
                   "this client has no consumer " + describe(message.body["consumer"]) + " on channel '" + name + "'",
                   out);
        return;
    }
    found->second.consumers.erase(key);
    session.consumptions.erase({name, key});
    out.push_back(
        {peer.routing_id, reply(MessageType::DeregisterConsumerAck, message.request_id, json{{"channel", name}})});
}

void Registry::on_list(const Peer& peer, const Message& message, std::vector<Outgoing>& out) const {
    json channels = json::array();
    for (const auto& [name, channel] : channels_) {
        if (!permits(peer.public_key, Role::Consume, name) && !permits(peer.public_key, Role::Produce, name)) continue;
        // Never the attach secret: LIST is for overviews, DISCOVER for attaching.
        channels.push_back(json{{"name", name},
                                {"segment", channel.record["segment"]},
                                {"schema_hash", channel.record["schema_hash"]},
                                {"layout_version", channel.record["layout_version"]},
                                {"producer", channel.record["producer"]},
                                {"consumer_count", channel.consumers.size()}});
    }
    out.push_back(
        {peer.routing_id, reply(MessageType::ListAck, message.request_id, json{{"channels", std::move(channels)}})});
}

void Registry::end_session(const std::string& routing_id, std::vector<Outgoing>& out) {
    const auto found = sessions_.find(routing_id);
    if (found == sessions_.end()) return;
    Session session = std::move(found->second);
    sessions_.erase(found);
    session_deadlines_.erase({session.deadline_ns, routing_id});
    ++counters_.sessions_expired;
    broker_log().warn("session {} of '{}' stopped beating: declared dead ({} channels, {} consumers)", session.id,
                      session.name, session.channels.size(), session.consumptions.size());
    for (const auto& name : session.channels)
        remove_channel(name, notice_event::PRODUCER_DIED, out);
    for (const auto& [name, key] : session.consumptions) {
        const auto channel = channels_.find(name);
        if (channel == channels_.end()) continue;
        const auto consumer = channel->second.consumers.find(key);
        if (consumer == channel->second.consumers.end()) continue;
        json body = notice_body(notice_event::CONSUMER_DIED, name,
                                "consumer " + describe(consumer->second.identity) + " stopped beating");
        body["consumer"] = consumer->second.identity;
        out.push_back({channel->second.owner, reply(MessageType::Notice, NOTICE_REQUEST_ID, std::move(body))});
        channel->second.consumers.erase(consumer);
    }
    for (auto it = parked_.begin(); it != parked_.end();) {
        if (it->second.routing_id == routing_id) {
            parked_deadlines_.erase({it->second.deadline_ns, it->first});
            it = parked_.erase(it);
        } else {
            ++it;
        }
    }
}

void Registry::forgive_stall(std::uint64_t span_ns) {
    std::set<std::pair<std::uint64_t, std::string>> moved;
    for (const auto& [deadline, routing_id] : session_deadlines_) {
        moved.insert({deadline + span_ns, routing_id});
        sessions_.at(routing_id).deadline_ns = deadline + span_ns;
    }
    session_deadlines_.swap(moved);
}

void Registry::expire(std::uint64_t now_ns, std::vector<Outgoing>& out) {
    now_ns_ = now_ns;
    while (!session_deadlines_.empty() && session_deadlines_.begin()->first <= now_ns) {
        const std::string routing_id = session_deadlines_.begin()->second;
        end_session(routing_id, out);
    }
    while (!parked_deadlines_.empty() && parked_deadlines_.begin()->first <= now_ns) {
        const std::uint64_t id = parked_deadlines_.begin()->second;
        parked_deadlines_.erase(parked_deadlines_.begin());
        const auto found = parked_.find(id);
        if (found == parked_.end()) continue;
        const Parked parked = found->second;
        parked_.erase(found);
        if (auto session = sessions_.find(parked.routing_id); session != sessions_.end()) --session->second.parked;
        json body{{"code", error_code::NOT_FOUND},
                  {"message", "no channel '" + parked.channel + "' was registered within wait_ms"}};
        out.push_back({parked.routing_id, reply(MessageType::Error, parked.request_id, std::move(body))});
    }
}

std::optional<std::uint64_t> Registry::next_deadline_ns() const {
    std::optional<std::uint64_t> next;
    if (!session_deadlines_.empty()) next = session_deadlines_.begin()->first;
    if (!parked_deadlines_.empty() && (!next || parked_deadlines_.begin()->first < *next)) {
        next = parked_deadlines_.begin()->first;
    }
    return next;
}

RegistryStats Registry::stats() const {
    RegistryStats stats = counters_;
    stats.sessions = sessions_.size();
    stats.channels = channels_.size();
    stats.parked = parked_.size();
    for (const auto& [name, channel] : channels_)
        stats.consumers += channel.consumers.size();
    return stats;
}

}  // namespace dhub::broker
