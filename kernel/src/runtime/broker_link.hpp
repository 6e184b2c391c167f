// SPDX-License-Identifier: Apache-2.0
// BrokerLink: what one kernel does on the control plane. It runs the embedded broker when the graph asks
// for one, publishes the channels this kernel produces (retrying until the broker takes them: it may be
// down, or still hold a dead predecessor's registration), and tells remote inputs when their producer was
// lost. Data never waits for it: a broker that goes away only delays discovery.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dhub/base/result.hpp"
#include "dhub/broker/broker_client.hpp"
#include "dhub/broker/broker_server.hpp"
#include "dhub/events/event_log.hpp"
#include "dhub/graph/graph_spec.hpp"

namespace dhub::runtime {

using events::EventLog;

class BrokerLink {
public:
    /// Reads the key files, starts the embedded broker if configured, and starts the client (which
    /// connects in the background). Errors name the graph setting and the file.
    /// events receives broker_listening, channel_published, registration_restored and broker_notice; it must
    /// outlive the link.
    static Result<std::unique_ptr<BrokerLink>> create(const graph::BrokerSpec& spec,
                                                      const std::string& kernel_name,
                                                      EventLog& events);
    ~BrokerLink();
    BrokerLink(const BrokerLink&) = delete;
    BrokerLink& operator=(const BrokerLink&) = delete;

    /// Registers a channel this kernel produces, now or (in the background) as soon as the broker takes it.
    void publish(broker::ChannelRegistration registration);
    /// Deregisters one channel (removed from the running graph): its consumers elsewhere hear channel_closed. Its
    /// export entry goes too (the caller holds the graph's edit lock): a channel added again under the same name
    /// is served anew.
    void withdraw(const std::string& name);
    /// Deregisters every published channel (clean shutdown: consumers get channel_closed at once). Nothing is
    /// published after it.
    void withdraw_all();
    /// Registers channel again without its "transport" (its export sender failed or was removed): other hosts'
    /// kernels are told it cannot reach them, instead of connecting to an endpoint nobody serves. False if the
    /// channel is not published by this link or carries no transport.
    bool drop_transport(const std::string& channel);
    /// Registers channel again with this "transport" (its sender, added to the running graph, serves it now).
    /// False if the channel is not published by this link.
    bool set_transport(const std::string& channel, nlohmann::json transport);
    /// Serves one more channel (added to the running graph; the caller holds the graph's edit lock, under which
    /// exported() and transport_of() are read).
    void add_export(graph::ExportedChannel entry);
    /// Which port the next channel added to the running graph is served on: the export's "port" plus this. It
    /// only grows: a port once used is not handed out again in this run.
    std::size_t next_export_offset() const noexcept { return next_export_offset_; }

    /// What a registration of channel carries as its "transport" when the graph exports it (broker "export"):
    /// {"kind": "zmq", "endpoint", "server_key"?, "schema_id"?}; null when it does not.
    nlohmann::json transport_of(const std::string& channel, const std::string& schema_id) const;
    /// The broker "export" entry of channel; null when the graph does not export it.
    const graph::ExportedChannel* exported(const std::string& channel) const;

    broker::BrokerClient& client() noexcept { return *client_; }
    const graph::BrokerSpec& spec() const noexcept { return spec_; }
    /// Bumped whenever the broker reports the channel's producer dead or the channel closed; a remote
    /// input compares it with the value it saw when it attached.
    std::uint64_t losses(const std::string& channel) const;
    broker::ProcessTag self_tag(const std::string& name) const;

private:
    BrokerLink(graph::BrokerSpec spec, std::string kernel_name, EventLog& events)
        : spec_(std::move(spec)), name_(std::move(kernel_name)), events_(events) {}
    void on_notice(const broker::Notice& notice);
    void retry_loop();

    graph::BrokerSpec spec_;
    std::string name_;
    EventLog& events_;
    std::string export_public_key_;  ///< Z85; empty when the exported channels are served without CURVE
    std::unique_ptr<broker::BrokerServer> server_;
    std::unique_ptr<broker::BrokerClient> client_;

    mutable std::mutex mutex_;
    std::condition_variable wakeup_;
    std::map<std::string, std::uint64_t> losses_;
    std::vector<broker::ChannelRegistration> unpublished_;
    /// The last registration of every channel published or being published, by name (for drop_transport).
    std::map<std::string, broker::ChannelRegistration> registrations_;
    bool closed_ = false;  ///< withdraw_all ran: nothing is published any more
    std::size_t next_export_offset_ = 0;
    std::vector<std::string> published_;
    std::vector<std::string> in_flight_;  ///< being registered by the retry loop (outside the lock)
    std::vector<std::string> withdrawn_;  ///< of those, withdrawn meanwhile: deregistered once registered
    bool stopping_ = false;
    std::thread retry_thread_;
};

}  // namespace dhub::runtime
