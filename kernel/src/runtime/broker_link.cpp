// SPDX-License-Identifier: Apache-2.0
#include "broker_link.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>

#include <chrono>

#include "dhub/base/process_identity.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/broker/protocol.hpp"

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;

/// How often a channel the broker did not take yet is offered again.
constexpr auto PUBLISH_RETRY = 250ms;

std::shared_ptr<spdlog::logger> link_logger() {
    if (auto existing = spdlog::get("dhub.kernel")) return existing;
    return spdlog::default_logger();
}

Result<std::string> read_key(const std::optional<std::filesystem::path>& file,
                             broker::KeyKind kind,
                             const char* setting) {
    auto key = broker::read_key_file(file->string(), kind);
    if (!key) {
        return Error{key.error().code, std::string("graph /broker/") + setting + ": " + key.error().message};
    }
    return key.value();
}

}  // namespace

Result<std::unique_ptr<BrokerLink>> BrokerLink::create(const graph::BrokerSpec& spec,
                                                       const std::string& kernel_name,
                                                       EventLog& events) {
    std::unique_ptr<BrokerLink> link(new BrokerLink(spec, kernel_name, events));
    broker::ClientConfig client;
    client.endpoint = spec.endpoint;
    client.name = kernel_name;
    client.role = "kernel";
    client.heartbeat_interval = std::chrono::milliseconds(spec.heartbeat_ms);
    client.dead_after = std::chrono::milliseconds(spec.dead_after_ms);
    client.on_restored = [&events](std::string_view kind, const std::string& key) {
        events.emit("registration_restored", {{"kind", kind}, {"key", key}});
    };
    if (spec.server_key) {
        auto server_key = read_key(spec.server_key, broker::KeyKind::Public, "server_key");
        if (!server_key) return server_key.error();
        auto secret = read_key(spec.client_key, broker::KeyKind::Secret, "client_key");
        if (!secret) return secret.error();
        auto public_key = broker::public_key_of(secret.value());
        if (!public_key)
            return Error{public_key.error().code, "graph /broker/client_key: " + public_key.error().message};
        client.server_public_key = server_key.value();
        client.client_keys = {public_key.value(), secret.value()};
    }
    if (spec.exported) {
        // Receivers on other hosts authenticate the senders by this public key, which the broker hands out.
        const auto& file = spec.exported->curve_secret_key ? spec.exported->curve_secret_key : spec.client_key;
        if (file) {
            auto secret = read_key(file, broker::KeyKind::Secret,
                                   spec.exported->curve_secret_key ? "export/curve_secret_key" : "client_key");
            if (!secret) return secret.error();
            auto public_key = broker::public_key_of(secret.value());
            if (!public_key)
                return Error{public_key.error().code, "graph /broker/export: " + public_key.error().message};
            link->export_public_key_ = public_key.value();
        }
    }
    if (spec.embedded) {
        broker::BrokerConfig server;
        server.endpoint = spec.endpoint;
        server.registry.heartbeat_ms = spec.heartbeat_ms;
        server.registry.dead_after_ms = spec.dead_after_ms;
        if (spec.secret_key) {
            auto secret = read_key(spec.secret_key, broker::KeyKind::Secret, "secret_key");
            if (!secret) return secret.error();
            server.secret_key = secret.value();
        }
        if (spec.allow) {
            auto allowlist = broker::Allowlist::load(spec.allow->string());
            if (!allowlist) return Error{allowlist.error().code, "graph /broker/allow: " + allowlist.error().message};
            server.allowlist = std::make_shared<const broker::Allowlist>(std::move(allowlist.value()));
        }
        server.on_refused = [&events](const broker::RefusedClient& refused) {
            events.emit("client_refused", broker::event_fields(refused));
        };
        link->server_ = std::make_unique<broker::BrokerServer>(std::move(server));
        if (auto started = link->server_->start(); !started) {
            return Error{started.error().code, "graph /broker (embedded broker): " + started.error().message};
        }
        link_logger()->info("embedded broker listening on {}", link->server_->bound_endpoint());
        events.emit("broker_listening", {{"endpoint", link->server_->bound_endpoint()}});
    }
    // The embedded broker may have bound an ephemeral port ("tcp://127.0.0.1:0"): talk to where it listens.
    if (link->server_) client.endpoint = link->server_->bound_endpoint();
    BrokerLink* self = link.get();
    link->client_ = std::make_unique<broker::BrokerClient>(
        std::move(client), [self](const broker::Notice& notice) { self->on_notice(notice); });
    if (auto started = link->client_->start(); !started) {
        return Error{started.error().code, "graph /broker/endpoint " + spec.endpoint + ": " + started.error().message};
    }
    link->retry_thread_ = std::thread([self] { self->retry_loop(); });
    if (link->spec_.exported) link->next_export_offset_ = link->spec_.exported->endpoints.size();
    return link;
}

BrokerLink::~BrokerLink() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    if (retry_thread_.joinable()) retry_thread_.join();
    if (client_) client_->stop();
    if (server_) server_->stop();
}

nlohmann::json BrokerLink::transport_of(const std::string& channel, const std::string& schema_id) const {
    if (!spec_.exported) return nullptr;
    for (const graph::ExportedChannel& exported : spec_.exported->endpoints) {
        if (exported.channel != channel) continue;
        nlohmann::json transport = {{"kind", "zmq"}, {"endpoint", exported.endpoint}};
        if (!export_public_key_.empty()) transport["server_key"] = export_public_key_;
        // The receiving kernel makes a local channel of this schema id, whose hash is the one in the registration.
        if (!schema_id.empty() && schema_id != "*") transport["schema_id"] = schema_id;
        return transport;
    }
    return nullptr;
}

const graph::ExportedChannel* BrokerLink::exported(const std::string& channel) const {
    if (!spec_.exported) return nullptr;
    for (const graph::ExportedChannel& entry : spec_.exported->endpoints) {
        if (entry.channel == channel) return &entry;
    }
    return nullptr;
}

void BrokerLink::publish(broker::ChannelRegistration registration) {
    {
        const std::lock_guard lock(mutex_);
        if (closed_) return;
        registrations_[registration.name] = registration;
        unpublished_.push_back(std::move(registration));
    }
    wakeup_.notify_all();
}

bool BrokerLink::drop_transport(const std::string& channel) {
    {
        const std::lock_guard lock(mutex_);
        const auto found = registrations_.find(channel);
        if (found == registrations_.end() || found->second.transport.is_null()) return false;
    }
    return set_transport(channel, nullptr);
}

void BrokerLink::add_export(graph::ExportedChannel entry) {
    if (!spec_.exported) return;
    spec_.exported->endpoints.push_back(std::move(entry));
    ++next_export_offset_;
}

bool BrokerLink::set_transport(const std::string& channel, nlohmann::json transport) {
    {
        const std::lock_guard lock(mutex_);
        const auto found = registrations_.find(channel);
        if (closed_ || found == registrations_.end()) return false;
        found->second.transport = std::move(transport);
        // The broker replaces a registration its producer sends again; one not sent yet is replaced here.
        std::erase_if(unpublished_,
                      [&](const broker::ChannelRegistration& pending) { return pending.name == channel; });
        unpublished_.push_back(found->second);
    }
    wakeup_.notify_all();
    return true;
}

void BrokerLink::withdraw(const std::string& name) {
    if (spec_.exported) {
        std::erase_if(spec_.exported->endpoints,
                      [&](const graph::ExportedChannel& entry) { return entry.channel == name; });
    }
    bool published = false;
    {
        const std::lock_guard lock(mutex_);
        std::erase_if(unpublished_, [&](const broker::ChannelRegistration& pending) { return pending.name == name; });
        registrations_.erase(name);
        published = std::erase(published_, name) != 0;
        // Being registered right now: the retry loop withdraws it when the broker's answer is in.
        if (std::find(in_flight_.begin(), in_flight_.end(), name) != in_flight_.end()) withdrawn_.push_back(name);
    }
    if (!published) return;
    if (!client_->connected()) {
        // Not now, but never again either: the session's resync must not bring it back.
        client_->forget_channel(name);
        return;
    }
    if (auto withdrawn = client_->deregister_channel(name); !withdrawn) {
        link_logger()->debug("deregistering channel '{}' from the broker: {}", name, withdrawn.error().message);
    }
}

void BrokerLink::withdraw_all() {
    std::vector<std::string> names;
    {
        const std::lock_guard lock(mutex_);
        names.swap(published_);
        unpublished_.clear();
        registrations_.clear();
        closed_ = true;
    }
    // Without a broker session each call would wait out its timeout; the broker declares us dead anyway.
    if (!client_->connected()) return;
    for (const std::string& name : names) {
        if (auto withdrawn = client_->deregister_channel(name); !withdrawn) {
            link_logger()->debug("deregistering channel '{}' from the broker: {}", name, withdrawn.error().message);
        }
    }
}

std::uint64_t BrokerLink::losses(const std::string& channel) const {
    const std::lock_guard lock(mutex_);
    const auto found = losses_.find(channel);
    return found == losses_.end() ? 0 : found->second;
}

broker::ProcessTag BrokerLink::self_tag(const std::string& name) const {
    const ProcessIdentity self = ProcessIdentity::self();
    return broker::ProcessTag{self.pid, self.start_ticks, name};
}

void BrokerLink::on_notice(const broker::Notice& notice) {
    // Runs on the client's thread: record and return, never call back into the client here.
    events_.emit("broker_notice", {{"notice", notice.event}, {"channel", notice.channel}});
    if (notice.event == broker::notice_event::PRODUCER_DIED || notice.event == broker::notice_event::CHANNEL_CLOSED) {
        {
            const std::lock_guard lock(mutex_);
            ++losses_[notice.channel];
        }
        link_logger()->warn("broker: {} on channel '{}': {}", notice.event, notice.channel, notice.message);
    } else {
        link_logger()->info("broker: {} on channel '{}': {}", notice.event, notice.channel, notice.message);
    }
}

void BrokerLink::retry_loop() {
    std::map<std::string, std::string> last_problem;  // logged once per channel and problem, not every retry
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        std::vector<broker::ChannelRegistration> pending;
        pending.swap(unpublished_);
        for (const broker::ChannelRegistration& registration : pending)
            in_flight_.push_back(registration.name);
        lock.unlock();
        std::vector<broker::ChannelRegistration> failed;
        std::vector<std::string> done;
        for (broker::ChannelRegistration& registration : pending) {
            if (auto registered = client_->register_channel(registration); registered) {
                link_logger()->info("channel '{}' published on the broker", registration.name);
                events_.emit("channel_published", {{"channel", registration.name}});
                done.push_back(registration.name);
            } else {
                std::string& previous = last_problem[registration.name];
                if (previous != registered.error().message) {
                    link_logger()->warn("channel '{}' not published yet ({}); retrying every {} ms", registration.name,
                                        registered.error().message, PUBLISH_RETRY.count());
                    previous = registered.error().message;
                }
                failed.push_back(std::move(registration));
            }
        }
        lock.lock();
        in_flight_.clear();
        std::vector<std::string> withdrawn;
        withdrawn.swap(withdrawn_);
        for (std::string& name : done) {
            if (!closed_ && std::find(withdrawn.begin(), withdrawn.end(), name) == withdrawn.end()) {
                // Registered again (drop_transport): it is in the list once.
                if (std::find(published_.begin(), published_.end(), name) == published_.end())
                    published_.push_back(std::move(name));
            } else {
                lock.unlock();
                // Removed from the graph (or the kernel shut down) while it was being registered.
                (void)client_->deregister_channel(name);
                lock.lock();
            }
        }
        for (auto& registration : failed) {
            // A newer registration of the same channel queued meanwhile (set_transport) is the one to send.
            const bool superseded =
                std::any_of(unpublished_.begin(), unpublished_.end(),
                            [&](const broker::ChannelRegistration& newer) { return newer.name == registration.name; });
            if (!closed_ && !superseded &&
                std::find(withdrawn.begin(), withdrawn.end(), registration.name) == withdrawn.end())
                unpublished_.push_back(std::move(registration));
        }
        if (unpublished_.empty()) {
            wakeup_.wait(lock, [this] { return stopping_ || !unpublished_.empty(); });
        } else {
            wakeup_.wait_for(lock, PUBLISH_RETRY, [this] { return stopping_; });
        }
    }
}

}  // namespace dhub::runtime
