// SPDX-License-Identifier: Apache-2.0
#include "dhub/runtime/graph_runner.hpp"

#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include <sodium.h>

#include <array>

#include "broker_link.hpp"
#include "channel_gate.hpp"
#include "dhub/base/clock.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/broker/protocol.hpp"
#include "dhub/events/event_log.hpp"
#include "dhub/shm/checksum.hpp"
#include "dhub/shm/layout.hpp"
#include "node.hpp"

namespace dhub::runtime {
namespace {

/// A channel's schema document goes into its broker registration up to this size: half a broker message, so
/// the registration's other fields always fit.
constexpr std::size_t MAX_REGISTERED_SCHEMA_BYTES = broker::MAX_BODY_BYTES / 2;

/// A typed schema as the checks compare it and the broker carries it: the canonical form, docs left out.
nlohmann::json canonical_document(const schema::Schema& typed) {
    return nlohmann::json::parse(schema::canonical_json(typed));
}

std::shared_ptr<spdlog::logger> kernel_logger() {
    if (auto existing = spdlog::get("dhub.kernel")) return existing;
    return spdlog::stderr_color_mt("dhub.kernel");
}

std::string safe_graph_name(const graph::GraphSpec& spec) {
    std::string name = spec.name.empty() ? "graph" : spec.name;
    // Channel names allow [A-Za-z0-9_.-]; the graph name may hold anything.
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
    }
    return name.substr(0, 60);
}

/// "<graph>-<pid>": how this kernel names itself to the broker and starts its segment names.
std::string kernel_name(const graph::GraphSpec& spec) {
    return safe_graph_name(spec) + "-" + std::to_string(::getpid());
}

std::string default_prefix(const graph::GraphSpec& spec) {
    std::string prefix = kernel_name(spec);
    if (spec.broker) {
        // Published segments are found through the broker only, so their names need not be guessable.
        std::array<std::uint8_t, 8> random{};
        randombytes_buf(random.data(), random.size());
        prefix += "-" + shm::to_hex(random.data(), random.size());
    }
    return prefix;
}

nlohmann::json policies_of(const shm::ChannelConfig& config) {
    return {{"sync", std::string(shm::to_string(config.sync))},
            {"ring", std::string(shm::to_string(config.ring))},
            {"checksum", std::string(shm::to_string(config.checksum))},
            {"max_consumers", config.max_consumers}};
}

}  // namespace

struct GraphRunner::Channel {
    std::string name;           ///< the graph's name for it
    std::string segment;        ///< the DataBlock channel name: "<prefix>.<name>"
    std::string attach_secret;  ///< with a broker: what this kernel's own consumers present too
    std::optional<shm::Producer> producer;
    std::vector<Node*> members;  ///< producer node and consumer nodes, for peer messages
    /// Its validators, if the graph gives it any; declared after producer: destroyed (validators first) before it.
    std::unique_ptr<ChannelGate> gate;
};

const char* to_string(EndReason reason) noexcept {
    switch (reason) {
        case EndReason::Running:
            return "running";
        case EndReason::EndOfStream:
            return "end_of_stream";
        case EndReason::InputClosed:
            return "input_closed";
        case EndReason::Stopped:
            return "stopped";
        case EndReason::RunReturned:
            return "run_returned";
        case EndReason::StartFailed:
            return "start_failed";
        case EndReason::RunFailed:
            return "run_failed";
        case EndReason::SchemaMismatch:
            return "schema_mismatch";
        case EndReason::ProducerLost:
            return "producer_lost";
        case EndReason::ErrorPolicyNode:
            return "error_policy_node";
        case EndReason::ErrorPolicyGraph:
            return "error_policy_graph";
    }
    return "unknown";
}

ExitCode exit_code_of(SetupStep step) noexcept {
    switch (step) {
        case SetupStep::Plugin:
        case SetupStep::Node:
            return ExitCode::PluginError;
        case SetupStep::Broker:
        case SetupStep::Channel:
        case SetupStep::Input:
        case SetupStep::Events:
            return ExitCode::RuntimeError;
    }
    return ExitCode::RuntimeError;
}

Result<std::unique_ptr<GraphRunner>, SetupError> GraphRunner::create(const graph::ValidatedGraph& graph,
                                                                     plugin::PluginLoader& loader,
                                                                     RunnerOptions options) {
    std::unique_ptr<GraphRunner> runner(new GraphRunner());
    if (options.segment_prefix.empty()) options.segment_prefix = default_prefix(*graph.spec);
    if (!options.clock) options.clock = std::make_shared<MonotonicClock>();
    runner->options_ = options;
    runner->start_order_ = graph.start_order;
    auto logger = kernel_logger();
    runner->events_ = std::make_unique<EventLog>();
    if (!options.events_file.empty()) {
        auto events = EventLog::open(options.events_file);
        if (!events) return SetupError{SetupStep::Events, events.error()};
        runner->events_ = std::move(events.value());
    }
    if (graph.spec->broker) {
        auto link = BrokerLink::create(*graph.spec->broker, kernel_name(*graph.spec), *runner->events_);
        if (!link) return SetupError{SetupStep::Broker, link.error()};
        runner->broker_link_ = std::move(link.value());
    }

    for (const graph::ValidatedChannel& validated : graph.channels) {
        auto channel = std::make_unique<Channel>();
        channel->name = validated.spec->name;
        channel->segment = options.segment_prefix + "." + validated.spec->name;
        shm::ChannelConfig config = validated.config;
        config.name = channel->segment;
        if (runner->broker_link_) config.attach_secret = broker::generate_attach_secret();
        channel->attach_secret = config.attach_secret;
        auto producer = shm::Producer::create(config);
        if (!producer) {
            return SetupError{SetupStep::Channel,
                              {producer.error().code, "channel '" + channel->name + "' (" + validated.spec->json_path +
                                                          "): " + producer.error().message}};
        }
        channel->producer.emplace(std::move(producer.value()));
        if (runner->broker_link_) {
            broker::ChannelRegistration registration;
            registration.name = channel->name;
            registration.segment = channel->segment;
            registration.layout_version = shm::layout::LAYOUT_VERSION;
            registration.schema_hash = shm::to_hex(config.schema_hash.data(), config.schema_hash.size());
            registration.policies = policies_of(config);
            registration.producer = runner->broker_link_->self_tag(safe_graph_name(*graph.spec));
            registration.slot_bytes = config.slot_bytes;
            registration.slot_count = config.effective_slot_count();
            registration.attach_secret = config.attach_secret;
            // The typed schema rides along, so that consumers built for an older version can be accepted; one
            // too big for a broker message is left out (exact hashes only), never the registration.
            if (validated.descriptor &&
                schema::canonical_json(*validated.descriptor).size() <= MAX_REGISTERED_SCHEMA_BYTES)
                registration.schema = canonical_document(*validated.descriptor);
            runner->broker_link_->publish(std::move(registration));
        }
        runner->channels_.push_back(std::move(channel));
    }
    // Validation guarantees every port names a declared channel.
    auto index_of = [&](const std::string& name) {
        std::size_t index = 0;
        while (runner->channels_[index]->name != name)
            ++index;
        return index;
    };

    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        if (auto gated = runner->create_gate(graph, index, loader, logger); !gated) {
            return SetupError{SetupStep::Plugin, gated.error()};
        }
    }

    for (const graph::ValidatedNode& validated : graph.nodes) {
        auto loaded = loader.load(validated.component.plugin);
        if (!loaded) {
            return SetupError{SetupStep::Plugin,
                              {loaded.error().code, "node '" + validated.spec->id + "': " + loaded.error().message}};
        }
        const dhub_component_descriptor* descriptor = loaded.value()->descriptor_of(validated.component.id);
        if (descriptor == nullptr) {
            return SetupError{
                SetupStep::Plugin,
                {ErrorCode::NotFound, "node '" + validated.spec->id + "': plugin " + loaded.value()->path.string() +
                                          " has no component '" + validated.component.id + "'"}};
        }
        if (auto initialised = runner->initialise(*loaded.value(), validated.spec->id); !initialised) {
            return SetupError{SetupStep::Plugin, initialised.error()};
        }
        auto node = std::make_unique<Node>(*runner, validated, *descriptor, logger);
        for (const graph::BoundChannel& output : validated.outputs) {
            const std::string& name = output.channel;
            const graph::ValidatedChannel& declared = graph.channels[index_of(name)];
            Channel* channel = runner->channels_[index_of(name)].get();
            node->add_output(name, &*channel->producer, declared.schema, declared.config.schema_descriptor,
                             channel->gate.get());
            if (channel->gate) channel->gate->set_owner(*node);
            channel->members.push_back(node.get());
        }
        for (const graph::BoundChannel& input : validated.inputs) {
            const std::string& name = input.channel;
            if (name.starts_with(graph::REMOTE_INPUT_PREFIX)) {
                const std::string& expects = validated.component.ports[input.port].schema;
                const auto typed = std::find_if(graph.schemas.begin(), graph.schemas.end(),
                                                [&](const schema::Schema& known) { return known.id() == expects; });
                node->add_remote_input(name, name.substr(graph::REMOTE_INPUT_PREFIX.size()), expects, input.delivery,
                                       typed != graph.schemas.end() ? canonical_document(*typed) : nlohmann::json());
                continue;
            }
            const std::size_t index = index_of(name);
            Channel* channel = runner->channels_[index].get();
            shm::ConsumerOptions consumer_options;
            consumer_options.name = validated.spec->id;
            consumer_options.hold = true;  // a handler acts on the slot in place: it must never change under it
            consumer_options.delivery = input.delivery;
            consumer_options.attach_secret = channel->attach_secret;
            consumer_options.expect.schema_hash = graph.channels[index].config.schema_hash;
            auto consumer = shm::Consumer::attach(channel->segment, consumer_options);
            if (!consumer) {
                return SetupError{SetupStep::Input,
                                  {consumer.error().code, "node '" + validated.spec->id + "' input '" + name +
                                                              "': " + consumer.error().message}};
            }
            node->add_input(name, std::move(consumer.value()), graph.channels[index].schema,
                            graph.channels[index].config.schema_descriptor);
            channel->members.push_back(node.get());
        }
        if (auto instantiated = node->instantiate(loaded.value()->path.string()); !instantiated) {
            return SetupError{SetupStep::Node, instantiated.error()};
        }
        runner->nodes_.push_back(std::move(node));
    }
    return runner;
}

VoidResult GraphRunner::create_gate(const graph::ValidatedGraph& graph,
                                    std::size_t index,
                                    plugin::PluginLoader& loader,
                                    const std::shared_ptr<spdlog::logger>& logger) {
    const graph::ValidatedChannel& validated = graph.channels[index];
    if (validated.validators.empty()) return Ok{};
    Channel& channel = *channels_[index];
    channel.gate = std::make_unique<ChannelGate>(*this, channel.name, *channel.producer, logger);
    for (const graph::ValidatedValidator& validator : validated.validators) {
        const std::string where = "channel '" + channel.name + "' validator '" + validator.spec->node.id + "'";
        auto loaded = loader.load(validator.node.component.plugin);
        if (!loaded) return Error{loaded.error().code, where + ": " + loaded.error().message};
        const dhub_component_descriptor* descriptor = loaded.value()->descriptor_of(validator.node.component.id);
        if (descriptor == nullptr) {
            return Error{ErrorCode::NotFound, where + ": plugin " + loaded.value()->path.string() +
                                                  " has no component '" + validator.node.component.id + "'"};
        }
        if (descriptor->validate == nullptr && descriptor->validate_burst == nullptr) {
            return Error{ErrorCode::Incompatible, where + ": component '" + validator.node.component.id +
                                                      "' has no validate handler to judge slots with"};
        }
        if (auto initialised = initialise(*loaded.value(), where); !initialised) return initialised.error();
        // Its input port is the channel it guards, so that port_range, port_schema and port_schema_document
        // answer as for a node reading it.
        graph::ValidatedNode host = validator.node;
        const auto port =
            std::find_if(host.component.ports.begin(), host.component.ports.end(),
                         [](const plugin::PortInfo& p) { return p.direction == plugin::PortDirection::Input; });
        host.inputs.push_back({channel.name, static_cast<std::size_t>(port - host.component.ports.begin()),
                               validator.spec->node.json_path, shm::Delivery::Channel});
        auto node = std::make_unique<Node>(*this, host, *descriptor, logger);
        node->add_guarded_channel(channel.name, validated.schema, validated.config.schema_descriptor);
        if (auto instantiated = node->instantiate(loaded.value()->path.string()); !instantiated) {
            return instantiated.error();
        }
        ChannelGate::Validator gate_validator;
        gate_validator.descriptor = &node->descriptor();
        gate_validator.host = std::move(node);
        gate_validator.name = validator.spec->node.id;
        switch (validator.spec->on_reject) {
            case graph::ChannelValidatorSpec::OnReject::Drop:
                gate_validator.on_reject = shm::layout::GateAction::Drop;
                break;
            case graph::ChannelValidatorSpec::OnReject::Quarantine:
                gate_validator.on_reject = shm::layout::GateAction::Quarantine;
                break;
            case graph::ChannelValidatorSpec::OnReject::StopGraph:
                gate_validator.on_reject = shm::layout::GateAction::StopGraph;
                break;
        }
        if (validator.quarantine) {
            gate_validator.quarantine = &*channels_[*validator.quarantine]->producer;
            gate_validator.quarantine_name = channels_[*validator.quarantine]->name;
        }
        channel.gate->add(std::move(gate_validator));
    }
    return Ok{};
}

std::vector<ValidatorReport> GraphRunner::validator_reports() const {
    std::vector<ValidatorReport> reports;
    for (const auto& channel : channels_) {
        if (!channel->gate) continue;
        for (ValidatorReport& report : channel->gate->reports())
            reports.push_back(std::move(report));
    }
    return reports;
}

GraphRunner::~GraphRunner() {
    if (started_ && !waited_) {
        request_stop("shutdown");
        (void)wait();
    }
    // Consumers elsewhere hear channel_closed now rather than producer_died later.
    if (broker_link_) broker_link_->withdraw_all();
    // Nodes first (their destroy() may still touch their ports), then the channels and their segments.
    nodes_.clear();
    channels_.clear();
    for (auto plugin = initialised_.rbegin(); plugin != initialised_.rend(); ++plugin) {
        if ((*plugin)->shutdown != nullptr) (*plugin)->shutdown();
    }
}

VoidResult GraphRunner::initialise(const plugin::LoadedPlugin& plugin, const std::string& node_id) {
    if (std::find(initialised_.begin(), initialised_.end(), &plugin) != initialised_.end()) return Ok{};
    if (plugin.init != nullptr) {
        char message[1024] = {};
        const dhub_status status = plugin.init(message, sizeof message);
        if (status != DHUB_OK) {
            message[sizeof message - 1] = '\0';
            return Error{ErrorCode::Io, "node '" + node_id + "': plugin " + plugin.path.string() +
                                            " failed to initialise (" + dhub_status_name(status) + ")" +
                                            (message[0] != '\0' ? std::string(": ") + message : std::string()) +
                                            "; its driver library or device is not ready"};
        }
    }
    initialised_.push_back(&plugin);
    return Ok{};
}

void GraphRunner::start() {
    started_ = true;
    events_->emit(
        "graph_started",
        {{"segment_prefix", options_.segment_prefix}, {"nodes", nodes_.size()}, {"channels", channels_.size()}});
    for (const std::size_t index : start_order_)
        nodes_[index]->start_thread();
}

void GraphRunner::request_stop(std::string_view cause) {
    if (!stop_announced_.exchange(true)) events_->emit("stop_requested", {{"cause", cause}});
    // Sources first: everything downstream then drains and ends when its input closes.
    for (auto& node : nodes_) {
        // A node fed from another kernel is a source as far as this graph is concerned.
        if (node->is_graph_source()) node->request_stop();
    }
    notify_state_change();
}

void GraphRunner::notify_state_change() {
    {
        const std::lock_guard lock(state_mutex_);
        ++state_generation_;
    }
    state_changed_.notify_all();
}

void GraphRunner::fail(const std::string& why, std::string_view cause) {
    if (!failed_.exchange(true)) {
        kernel_logger()->error("stopping the graph: {}", why);
        // Not on the failing node's own thread's stack for long: stop flags only.
        request_stop(cause);
    }
}

void GraphRunner::broadcast(const Node& sender, const std::string& channel_name, const std::string& message) {
    for (auto& channel : channels_) {
        if (channel->name != channel_name) continue;
        for (Node* member : channel->members) {
            if (member != &sender) member->deliver_message(channel_name, message);
        }
    }
}

ExitCode GraphRunner::run_for(std::chrono::nanoseconds duration) {
    start();
    const auto span = static_cast<std::uint64_t>(std::max<std::int64_t>(duration.count(), 0));
    return wait_and_stop_at(monotonic_ns() + span);
}

ExitCode GraphRunner::wait() {
    return wait_and_stop_at(NEVER);
}

ExitCode GraphRunner::wait_and_stop_at(std::uint64_t stop_at) {
    if (!started_ || waited_) return ExitCode::Ok;
    waited_ = true;
    // Every node ends by itself once its input closes; sources end on request or at end of stream. Once
    // any stop was requested, lossless channels get drain_timeout to empty before everyone is stopped.
    std::uint64_t force_at = 0;
    for (;;) {
        if (stop_at != NEVER && monotonic_ns() >= stop_at) {
            request_stop("duration");
            stop_at = NEVER;
        }
        // Read before looking at the nodes: a change after this point wakes the wait below at once.
        const std::uint64_t seen = [this] {
            const std::lock_guard lock(state_mutex_);
            return state_generation_;
        }();
        bool all_finished = true;
        bool stopping = false;
        for (auto& node : nodes_) {
            all_finished = all_finished && node->finished();
            stopping = stopping || (node->is_graph_source() && node->stop_requested());
        }
        if (all_finished) break;
        if (stopping && force_at == 0) {
            force_at = monotonic_ns() +
                       static_cast<std::uint64_t>(
                           std::chrono::duration_cast<std::chrono::nanoseconds>(options_.drain_timeout).count());
        }
        if (force_at != 0 && monotonic_ns() >= force_at) {
            kernel_logger()->warn("channels did not drain within {} ms: stopping every node",
                                  options_.drain_timeout.count());
            for (auto& node : nodes_)
                node->request_stop();
            force_at = ~0ULL;
        }
        // Sleeps until something changes or the next deadline: the forced stop, or the end of run_for().
        const std::uint64_t wake_at = std::min(force_at != 0 && force_at != ~0ULL ? force_at : NEVER, stop_at);
        std::unique_lock lock(state_mutex_);
        auto changed = [&] { return state_generation_ != seen; };
        if (wake_at != NEVER) {
            // steady_clock is CLOCK_MONOTONIC on Linux, the clock of the deadlines.
            state_changed_.wait_until(lock, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(wake_at)),
                                      changed);
        } else {
            state_changed_.wait(lock, changed);
        }
    }
    for (auto& node : nodes_)
        node->join();
    const ExitCode exit_code = failed_.load() ? ExitCode::RuntimeError : ExitCode::Ok;
    events_->emit("graph_stopped", {{"exit_code", to_int(exit_code)}});
    return exit_code;
}

std::vector<NodeReport> GraphRunner::reports() const {
    std::vector<NodeReport> reports;
    for (const auto& node : nodes_)
        reports.push_back(node->report());
    return reports;
}

}  // namespace dhub::runtime
