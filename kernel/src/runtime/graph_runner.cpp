// SPDX-License-Identifier: Apache-2.0
#include "dhub/runtime/graph_runner.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include <sodium.h>

#include <array>

#include "../control/control_server.hpp"
#include "broker_link.hpp"
#include "channel_gate.hpp"
#include "dhub/base/clock.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/broker/protocol.hpp"
#include "dhub/counters/counters_page.hpp"
#include "dhub/events/event_log.hpp"
#include "dhub/metrics/metrics_server.hpp"
#include "dhub/metrics/prometheus_text.hpp"
#include "dhub/shm/checksum.hpp"
#include "dhub/shm/domain.hpp"
#include "dhub/shm/inspect.hpp"
#include "dhub/shm/layout.hpp"
#include "graph_shape.hpp"
#include "host_link.hpp"
#include "isolated_node.hpp"
#include "node.hpp"
#include "node_spin.hpp"
#include "port_probe.hpp"
#include "runner_channel.hpp"
#include "stage_fusion.hpp"

namespace dhub::runtime {
namespace {

/// A channel's schema document goes into its broker registration up to this size: half a broker message, so
/// the registration's other fields always fit.
constexpr std::size_t MAX_REGISTERED_SCHEMA_BYTES = broker::MAX_BODY_BYTES / 2;
/// How often a running kernel's main thread beats in its counters page.
constexpr std::uint64_t COUNTERS_BEAT_NS = 1'000'000'000;

/// A typed schema as the checks compare it and the broker carries it: the canonical form, docs left out.
nlohmann::json canonical_document(const schema::Schema& typed) {
    return nlohmann::json::parse(schema::canonical_json(typed));
}

std::shared_ptr<spdlog::logger> kernel_logger() {
    if (auto existing = spdlog::get("dhub.kernel")) return existing;
    return spdlog::stderr_color_mt("dhub.kernel");
}

std::string safe_graph_name(std::string_view graph_name) {
    std::string name = graph_name.empty() ? "graph" : std::string(graph_name);
    // Channel names allow [A-Za-z0-9_.-]; the graph name may hold anything.
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
    }
    return name.substr(0, 60);
}

/// "<graph>-<pid>": how this kernel names itself to the broker and starts its segment names.
std::string kernel_name(const graph::GraphSpec& spec) {
    return safe_graph_name(spec.name) + "-" + std::to_string(::getpid());
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

bool is_failure(EndReason reason) noexcept {
    switch (reason) {
        case EndReason::Running:
        case EndReason::EndOfStream:
        case EndReason::InputClosed:
        case EndReason::Stopped:
        case EndReason::RunReturned:
        case EndReason::Removed:
            return false;
        default:
            return true;
    }
}

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
        case EndReason::Crashed:
            return "crashed";
        case EndReason::Hung:
            return "watchdog";
        case EndReason::Removed:
            return "removed";
    }
    return "unknown";
}

EndReason end_reason_from_string(std::string_view text) noexcept {
    for (int value = 0; value <= static_cast<int>(EndReason::Removed); ++value) {
        const auto reason = static_cast<EndReason>(value);
        if (text == to_string(reason)) return reason;
    }
    return EndReason::Running;
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
        case SetupStep::Counters:
        case SetupStep::Control:
        case SetupStep::Metrics:
            return ExitCode::RuntimeError;
    }
    return ExitCode::RuntimeError;
}

namespace {

/// The dhub-node-host to start: the configured one, $DHUB_NODE_HOST, or the one beside this executable.
std::filesystem::path node_host_executable(const RunnerOptions::Isolation& isolation) {
    if (!isolation.node_host.empty()) return isolation.node_host;
    if (const char* configured = std::getenv("DHUB_NODE_HOST"); configured != nullptr && *configured != '\0') {
        return configured;
    }
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::filesystem::path("dhub-node-host") : self.parent_path() / "dhub-node-host";
}

/// A memfd holding the graph's text, which every host of an isolated node reads (the file may change on disk
/// while the graph runs: a restarted node must see the graph its kernel runs).
Result<int> graph_memfd(const std::string& text) {
    if (text.empty()) {
        return Error{ErrorCode::InvalidArgument,
                     "its host needs the graph's text, and this graph was not read by parse_graph or load_graph_file "
                     "(GraphSpec::source_text is empty)"};
    }
    const int fd = ::memfd_create("dhub-graph", MFD_CLOEXEC);
    if (fd < 0) return Error{ErrorCode::Io, std::string("memfd_create failed: ") + std::strerror(errno)};
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return Error{ErrorCode::Io,
                         std::string("cannot write the graph for isolated nodes: ") + std::strerror(errno)};
        }
        written += static_cast<std::size_t>(n);
    }
    return fd;
}

/// What the counters page holds records for: every node with its inputs, every channel, in graph order.
counters::PageShape page_shape(const graph::ValidatedGraph& graph, const std::string& segment_prefix) {
    counters::PageShape shape;
    shape.graph = graph.spec->name;
    shape.segment_prefix = segment_prefix;
    for (const graph::ValidatedChannel& channel : graph.channels)
        shape.channels.push_back({channel.spec->name, segment_prefix + "." + channel.spec->name, counters::NO_NODE});
    for (std::size_t index = 0; index < graph.nodes.size(); ++index) {
        const graph::ValidatedNode& validated = graph.nodes[index];
        shape.nodes.push_back(page_node(graph, validated));
        for (const graph::BoundChannel& output : validated.outputs)
            shape.channels[graph_channel_index(graph, output.channel)].producer = static_cast<std::uint32_t>(index);
    }
    shape.spare_nodes = SPARE_NODES;
    shape.spare_inputs = SPARE_INPUTS;
    shape.spare_channels = SPARE_CHANNELS;
    return shape;
}

}  // namespace

std::size_t GraphRunner::channel_index(const std::string& name) const {
    // Validation guarantees every port names a declared channel.
    std::size_t index = 0;
    while (channels_[index]->name != name)
        ++index;
    return index;
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
    // Every event goes to the control endpoint's feed too (`dhub-ctl events --follow`), from the first one on:
    // the listener is set before any other thread can emit. The feed outlives the log and the endpoint.
    std::shared_ptr<control::EventFeed> feed;
    if (options.control) {
        feed = std::make_shared<control::EventFeed>();
        runner->events_->set_listener([feed](std::string_view line) { feed->push(line); });
    }
    if (graph.spec->broker) {
        auto link = BrokerLink::create(*graph.spec->broker, kernel_name(*graph.spec), *runner->events_);
        if (!link) return SetupError{SetupStep::Broker, link.error()};
        runner->broker_link_ = std::move(link.value());
    }

    runner->graph_name_ = graph.spec->name;
    for (const graph::ValidatedChannel& validated : graph.channels) {
        auto channel = runner->make_channel(validated);
        if (!channel) return channel.error();
        runner->channels_.push_back(std::move(channel.value()));
    }

    // An isolated node's host runs the validators of the channels it writes; the kernel runs the others.
    std::vector<bool> written_elsewhere(graph.channels.size(), false);
    for (const graph::ValidatedNode& validated : graph.nodes) {
        if (!isolated(validated)) continue;
        for (const std::size_t index : written_channels(graph, validated))
            written_elsewhere[index] = true;
    }
    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        if (written_elsewhere[index]) continue;
        if (auto gated = runner->create_gate(graph, index, runner->channel_pointers(), loader, logger); !gated) {
            return SetupError{SetupStep::Plugin, gated.error()};
        }
    }

    runner->loader_ = &loader;
    runner->running_spec_ = std::make_unique<graph::GraphSpec>(*graph.spec);
    for (const graph::ValidatedNode& validated : graph.nodes) {
        runner->bindings_.push_back({validated.inputs, validated.outputs});
        runner->running_components_.push_back(validated.component);
    }
    for (const graph::ValidatedChannel& validated : graph.channels)
        runner->channel_schemas_.push_back(validated.schema);
    // The page's first records are the graph's own, in graph order.
    for (std::uint32_t index = 0; index < graph.nodes.size(); ++index)
        runner->node_records_.push_back(index);
    for (std::uint32_t index = 0; index < graph.channels.size(); ++index)
        runner->channel_records_.push_back(index);
    std::string control_socket = options.control_socket;
    if (options.control && control_socket.empty())
        control_socket = control::default_socket_path(options.segment_prefix);
    counters::PageShape shape = page_shape(graph, options.segment_prefix);
    if (options.control) shape.control_endpoint = "ipc://" + control_socket;
    auto page = counters::CountersPage::create(
        shape, options.counters_page ? counters::PageKind::Shared : counters::PageKind::Private);
    if (!page) return SetupError{SetupStep::Counters, page.error()};
    runner->counters_ = std::make_unique<counters::CountersPage>(std::move(page.value()));

    for (std::size_t node_index = 0; node_index < graph.nodes.size(); ++node_index) {
        const graph::ValidatedNode& validated = graph.nodes[node_index];
        if (isolated(validated)) {
            auto node = runner->build_isolated(graph, node_index, logger);
            if (!node) return node.error();
            runner->nodes_.push_back(std::move(node.value()));
            continue;
        }
        auto built = runner->build_node(graph, validated, loader, logger, &runner->counters_->node(node_index),
                                        validated.inputs.empty() ? nullptr : &runner->counters_->input(node_index, 0));
        if (!built) return built.error();
        std::unique_ptr<Node> node = std::move(built.value());
        if (auto attached = runner->attach_inputs(graph, validated, *node); !attached) {
            return SetupError{SetupStep::Input, attached.error()};
        }
        if (auto instantiated = node->instantiate(loader.load(validated.component.plugin).value()->path.string());
            !instantiated) {
            return SetupError{SetupStep::Node, instantiated.error()};
        }
        runner->nodes_.push_back(std::move(node));
    }
    if (options.control) {
        std::optional<control::TcpControl> tcp;
        if (!options.control_tcp.endpoint.empty()) {
            auto secret = broker::read_key_file(options.control_tcp.secret_key_file, broker::KeyKind::Secret);
            if (!secret) return SetupError{SetupStep::Control, secret.error()};
            auto access = control::ControlAccess::load(options.control_tcp.allowlist_file);
            if (!access) return SetupError{SetupStep::Control, access.error()};
            tcp = control::TcpControl{options.control_tcp.endpoint, secret.value(),
                                      std::make_shared<const control::ControlAccess>(std::move(access.value()))};
        }
        GraphRunner* raw = runner.get();
        auto server = control::ControlServer::start(
            control_socket, [raw](const control::Request& request) { return raw->answer(request); }, feed, tcp);
        if (!server) return SetupError{SetupStep::Control, server.error()};
        runner->control_ = std::move(server.value());
        if (tcp) {
            const std::string& bound = runner->control_->tcp_endpoint();
            const auto public_key = broker::public_key_of(tcp->secret_key);
            logger->info("taking commands at {} (CurveZMQ; the kernel's public key is {})", bound,
                         public_key ? public_key.value() : std::string("unknown"));
            runner->events_->emit("control_listening", {{"endpoint", bound}});
        }
    }
    if (!options.metrics.empty()) {
        const GraphRunner* raw = runner.get();
        auto server = metrics::MetricsServer::start(options.metrics, [raw] { return raw->render_metrics(); });
        if (!server) return SetupError{SetupStep::Metrics, server.error()};
        runner->metrics_ = std::move(server.value());
        logger->info("serving metrics at http://{}/metrics", runner->metrics_->endpoint().substr(6));
        runner->events_->emit("metrics_listening", {{"endpoint", runner->metrics_->endpoint()}});
    }
    return runner;
}

Result<std::unique_ptr<GraphRunner::Channel>, SetupError> GraphRunner::make_channel(
    const graph::ValidatedChannel& validated) {
    auto channel = std::make_unique<Channel>();
    channel->name = validated.spec->name;
    channel->segment = options_.segment_prefix + "." + validated.spec->name;
    shm::ChannelConfig config = validated.config;
    config.name = channel->segment;
    if (broker_link_) config.attach_secret = broker::generate_attach_secret();
    channel->attach_secret = config.attach_secret;
    channel->config = config;
    auto producer = shm::Producer::create(config);
    if (!producer) {
        return SetupError{SetupStep::Channel,
                          {producer.error().code, "channel '" + channel->name + "' (" + validated.spec->json_path +
                                                      "): " + producer.error().message}};
    }
    channel->producer.emplace(std::move(producer.value()));
    // A channel a transport imports from another host is that host's: only its producer there publishes it.
    if (broker_link_ && !unpublished_channels_.contains(channel->name)) {
        broker::ChannelRegistration registration;
        registration.name = channel->name;
        registration.segment = channel->segment;
        registration.layout_version = shm::layout::LAYOUT_VERSION;
        registration.schema_hash = shm::to_hex(config.schema_hash.data(), config.schema_hash.size());
        registration.policies = policies_of(config);
        registration.producer = broker_link_->self_tag(safe_graph_name(graph_name_));
        registration.slot_bytes = config.slot_bytes;
        registration.slot_count = config.effective_slot_count();
        registration.attach_secret = config.attach_secret;
        registration.shm_domain = shm::domain_id();
        // Channels added live are exported by export_added_channels, once their sender runs.
        if (const graph::ExportedChannel* exported =
                started_.load() ? nullptr : broker_link_->exported(channel->name)) {
            const std::string problem = tcp_bind_problem(exported->bind);
            {
                const std::unique_lock topology(topology_mutex_);
                export_senders_[exported->sender] = {channel->name, problem.empty()};
            }
            // Told to other hosts only if its sender can bind: another kernel of this host may serve that port.
            if (problem.empty()) {
                registration.transport = broker_link_->transport_of(channel->name, validated.schema);
            } else {
                kernel_logger()->error(
                    "channel '{}' is not served to other hosts: its sender '{}' cannot bind {} ({}); give "
                    "/broker/export/port a free port",
                    channel->name, exported->sender, exported->bind, problem);
                events_->emit("export_unavailable", {{"channel", channel->name},
                                                     {"node", exported->sender},
                                                     {"bind", exported->bind},
                                                     {"error", problem}});
            }
        }
        // The typed schema rides along, so that consumers built for an older version can be accepted; one
        // too big for a broker message is left out (exact hashes only), never the registration.
        if (validated.descriptor && schema::canonical_json(*validated.descriptor).size() <= MAX_REGISTERED_SCHEMA_BYTES)
            registration.schema = canonical_document(*validated.descriptor);
        broker_link_->publish(std::move(registration));
    }
    return channel;
}

VoidResult GraphRunner::attach_inputs(const graph::ValidatedGraph& graph,
                                      const graph::ValidatedNode& validated,
                                      Node& node) {
    for (const graph::BoundChannel& input : validated.inputs) {
        const std::string& name = input.channel;
        if (name.starts_with(graph::REMOTE_INPUT_PREFIX)) {
            const std::string& expects = validated.component.ports[input.port].schema;
            const auto typed = std::find_if(graph.schemas.begin(), graph.schemas.end(),
                                            [&](const schema::Schema& known) { return known.id() == expects; });
            node.add_remote_input(name, name.substr(graph::REMOTE_INPUT_PREFIX.size()), expects, input.delivery,
                                  typed != graph.schemas.end() ? canonical_document(*typed) : nlohmann::json());
            continue;
        }
        auto consumer = attach_input(graph, validated, input);
        if (!consumer) return consumer.error().error;
        const std::size_t index = channel_index(name);
        node.add_input(name, std::move(consumer.value()), graph.channels[index].schema,
                       graph.channels[index].config.schema_descriptor);
        channels_[index]->members.push_back(&node);
    }
    return Ok{};
}

Result<shm::Consumer, SetupError> GraphRunner::attach_input(const graph::ValidatedGraph& graph,
                                                            const graph::ValidatedNode& validated,
                                                            const graph::BoundChannel& input) {
    const std::size_t index = channel_index(input.channel);
    const Channel& channel = *channels_[index];
    shm::ConsumerOptions consumer_options;
    consumer_options.name = validated.spec->id;
    consumer_options.hold = true;  // a handler acts on the slot in place: it must never change under it
    consumer_options.delivery = input.delivery;
    consumer_options.attach_secret = channel.attach_secret;
    consumer_options.expect.schema_hash = graph.channels[index].config.schema_hash;
    auto consumer = shm::Consumer::attach(channel.segment, consumer_options);
    if (!consumer) {
        return SetupError{SetupStep::Input,
                          {consumer.error().code, "node '" + validated.spec->id + "' input '" + input.channel +
                                                      "': " + consumer.error().message}};
    }
    return std::move(consumer.value());
}

Result<std::unique_ptr<Node>, SetupError> GraphRunner::build_node(const graph::ValidatedGraph& graph,
                                                                  const graph::ValidatedNode& validated,
                                                                  plugin::PluginLoader& loader,
                                                                  const std::shared_ptr<spdlog::logger>& logger,
                                                                  counters::NodeRecord* node_counts,
                                                                  counters::InputRecord* input_counts) {
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
    if (auto initialised = initialise(*loaded.value(), validated.spec->id); !initialised) {
        return SetupError{SetupStep::Plugin, initialised.error()};
    }
    auto node =
        std::make_unique<Node>(*this, validated, *descriptor, logger, Node::CounterRecords{node_counts, input_counts});
    for (const graph::BoundChannel& output : validated.outputs) {
        const std::string& name = output.channel;
        const std::size_t index = channel_index(name);
        const graph::ValidatedChannel& declared = graph.channels[index];
        Channel* channel = channels_[index].get();
        node->add_output(name, &*channel->producer, declared.schema, declared.config.schema_descriptor,
                         channel->gate.get());
        if (channel->gate) channel->gate->set_owner(*node);
        channel->members.push_back(node.get());
    }
    return node;
}

Result<std::unique_ptr<GraphNode>, SetupError> GraphRunner::build_isolated(
    const graph::ValidatedGraph& graph, std::size_t node_index, const std::shared_ptr<spdlog::logger>& logger) {
    const graph::ValidatedNode& validated = graph.nodes[node_index];
    if (graph_fd_ < 0) {
        auto fd = graph_memfd(graph.spec->source_text);
        if (!fd) {
            return SetupError{
                SetupStep::Node,
                {fd.error().code, "node '" + validated.spec->id + "' (isolation process): " + fd.error().message}};
        }
        graph_fd_ = fd.value();
    }
    IsolatedNode::Launch launch;
    launch.node_host = node_host_executable(options_.isolation).string();
    if (::access(launch.node_host.c_str(), X_OK) != 0) {
        return SetupError{SetupStep::Node,
                          {ErrorCode::NotFound, "node '" + validated.spec->id + "' (isolation process): cannot run " +
                                                    launch.node_host + " (" + std::strerror(errno) +
                                                    "); install dhub-node-host beside dhub-kernel or name it in "
                                                    "DHUB_NODE_HOST"}};
    }
    launch.graph_fd = graph_fd_;
    launch.graph_file = graph.spec->source_file.string();
    for (const auto& directory : options_.isolation.plugin_path)
        launch.plugin_path.push_back(directory.string());
    launch.log_level = options_.isolation.log_level;
    launch.segment_prefix = options_.segment_prefix;
    auto node = std::make_unique<IsolatedNode>(*this, validated, std::move(launch), logger,
                                               counters_ ? &counters_->node(node_index) : nullptr);
    for (const std::size_t index : written_channels(graph, validated)) {
        Channel& channel = *channels_[index];
        node->add_output({channel.name, &channel.producer, channel.config});
        channel.members.push_back(node.get());
    }
    for (const graph::BoundChannel& input : validated.inputs) {
        auto consumer = attach_input(graph, validated, input);
        if (!consumer) return consumer.error();
        node->add_input(input.channel, std::move(consumer.value()),
                        channels_[channel_index(input.channel)]->attach_secret);
        channels_[channel_index(input.channel)]->members.push_back(node.get());
    }
    return std::unique_ptr<GraphNode>(std::move(node));
}

Result<std::unique_ptr<GraphRunner>, SetupError> GraphRunner::create_hosted(const graph::ValidatedGraph& graph,
                                                                            plugin::PluginLoader& loader,
                                                                            const HostedNode& hosted,
                                                                            RunnerOptions options,
                                                                            const HostLink& link) {
    std::unique_ptr<GraphRunner> runner(new GraphRunner());
    if (!options.clock) options.clock = std::make_shared<MonotonicClock>();
    runner->options_ = options;
    runner->host_link_ = &link;
    runner->events_ = std::make_unique<EventLog>();  // the kernel tells the node's story in its own stream
    auto logger = kernel_logger();
    const auto found = std::find_if(graph.nodes.begin(), graph.nodes.end(),
                                    [&](const graph::ValidatedNode& node) { return node.spec->id == hosted.node_id; });
    if (found == graph.nodes.end()) {
        return SetupError{SetupStep::Node, {ErrorCode::NotFound, "the graph has no node '" + hosted.node_id + "'"}};
    }
    const graph::ValidatedNode& validated = *found;
    const std::vector<std::size_t> written = written_channels(graph, validated);
    for (std::size_t index = 0; index < graph.channels.size(); ++index) {
        auto channel = std::make_unique<Channel>();
        channel->name = graph.channels[index].spec->name;
        channel->segment = options.segment_prefix + "." + channel->name;
        channel->config = graph.channels[index].config;
        channel->config.name = channel->segment;
        if (std::find(written.begin(), written.end(), index) != written.end()) {
            shm::ProducerOptions producer_options;
            producer_options.close_channel = false;  // the kernel decides when the channel ends
            producer_options.unlink_on_close = false;
            auto producer = shm::Producer::adopt(channel->config, producer_options);
            if (!producer) {
                return SetupError{
                    SetupStep::Channel,
                    {producer.error().code, "channel '" + channel->name + "': " + producer.error().message}};
            }
            channel->producer.emplace(std::move(producer.value()));
        }
        runner->channels_.push_back(std::move(channel));
    }
    for (const graph::BoundChannel& output : validated.outputs) {
        if (auto gated = runner->create_gate(graph, runner->channel_index(output.channel), runner->channel_pointers(),
                                             loader, logger);
            !gated) {
            return SetupError{SetupStep::Plugin, gated.error()};
        }
    }
    auto built = runner->build_node(graph, validated, loader, logger);
    if (!built) return built.error();
    std::unique_ptr<Node> node = std::move(built.value());
    for (const graph::BoundChannel& input : validated.inputs) {
        const std::size_t index = runner->channel_index(input.channel);
        const auto seat = hosted.seats.find(input.channel);
        if (seat == hosted.seats.end()) {
            return SetupError{SetupStep::Input,
                              {ErrorCode::InvalidArgument,
                               "node '" + hosted.node_id + "' input '" + input.channel + "': no seat given"}};
        }
        shm::ConsumerOptions consumer_options;
        consumer_options.name = validated.spec->id;
        consumer_options.hold = true;
        consumer_options.delivery = input.delivery;
        consumer_options.expect.schema_hash = graph.channels[index].config.schema_hash;
        if (const auto secret = hosted.attach_secrets.find(input.channel); secret != hosted.attach_secrets.end()) {
            consumer_options.attach_secret = secret->second;
        }
        auto consumer = shm::Consumer::attach_to_seat(runner->channels_[index]->segment, seat->second,
                                                      hosted.seat_owner, consumer_options);
        if (!consumer) {
            return SetupError{SetupStep::Input,
                              {consumer.error().code, "node '" + hosted.node_id + "' input '" + input.channel +
                                                          "': " + consumer.error().message}};
        }
        node->add_input(input.channel, std::move(consumer.value()), graph.channels[index].schema,
                        graph.channels[index].config.schema_descriptor);
    }
    if (auto instantiated = node->instantiate(loader.load(validated.component.plugin).value()->path.string());
        !instantiated) {
        return SetupError{SetupStep::Node, instantiated.error()};
    }
    runner->hosted_ = node.get();
    if (hosted.start_paused) node->pause_before_start();
    runner->start_order_ = {0};
    runner->nodes_.push_back(std::move(node));
    return runner;
}

std::vector<GraphRunner::Channel*> GraphRunner::channel_pointers() const {
    std::vector<Channel*> pointers;
    for (const auto& channel : channels_)
        pointers.push_back(channel.get());
    return pointers;
}

VoidResult GraphRunner::create_gate(const graph::ValidatedGraph& graph,
                                    std::size_t index,
                                    const std::vector<Channel*>& channels,
                                    plugin::PluginLoader& loader,
                                    const std::shared_ptr<spdlog::logger>& logger) {
    const graph::ValidatedChannel& validated = graph.channels[index];
    if (validated.validators.empty()) return Ok{};
    Channel& channel = *channels[index];
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
            gate_validator.quarantine = &*channels[*validator.quarantine]->producer;
            gate_validator.quarantine_name = channels[*validator.quarantine]->name;
        }
        channel.gate->add(std::move(gate_validator));
    }
    return Ok{};
}

std::vector<ValidatorReport> GraphRunner::validator_reports() const {
    const std::shared_lock topology(topology_mutex_);
    std::vector<ValidatorReport> reports;
    // Isolated producers run their channels' validators in their own process, and report the counts.
    std::vector<ValidatorReport> elsewhere;
    for (const auto& node : nodes_) {
        for (ValidatorReport& report : node->own_validator_reports())
            elsewhere.push_back(std::move(report));
    }
    for (const auto& channel : channels_) {
        if (channel->gate) {
            for (ValidatorReport& report : channel->gate->reports())
                reports.push_back(std::move(report));
            continue;
        }
        for (const ValidatorReport& report : elsewhere) {
            if (report.channel == channel->name) reports.push_back(report);
        }
    }
    reports.insert(reports.end(), removed_validator_reports_.begin(), removed_validator_reports_.end());
    return reports;
}

GraphRunner::~GraphRunner() {
    // First: their threads call into the nodes and read the page and the segments, which the rest of this destroys.
    control_.reset();
    metrics_.reset();
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
    if (graph_fd_ >= 0) ::close(graph_fd_);
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
    // Nothing is added or removed before started_ is set, and then not before every node of the graph started.
    const std::shared_lock topology(topology_mutex_);
    started_.store(true);
    events_->emit(
        "graph_started",
        {{"segment_prefix", options_.segment_prefix}, {"nodes", nodes_.size()}, {"channels", channels_.size()}});
    // Decided once, before the threads start: a stage joins its driver for the run (docs/kernel.md, "Fused stages").
    for (const FusedStage& fused : fuse_stages(nodes_, usable_cpus())) {
        ++fused_stages_;
        kernel_logger()->info(
            "node '{}' runs on node '{}''s thread: node threads outnumber the CPUs (\"fuse\": false "
            "gives it a thread of its own)",
            fused.stage, fused.upstream);
        events_->emit("stage_fused", {{"node", fused.stage}, {"upstream", fused.upstream}});
    }
    update_node_spin(nodes_.size() - fused_stages_);
    for (const std::size_t index : start_order_)
        nodes_[index]->start_thread();
}

void GraphRunner::stage_took_its_thread_back(Node& stage, bool driver_ended) {
    {
        const std::unique_lock topology(topology_mutex_);
        // A stage removed meanwhile (take_out) was no longer counted: it is not counted out twice.
        const bool in_graph =
            std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node.get() == &stage; });
        if (in_graph && stage.fused_stage()) {
            --fused_stages_;
            // After a swap the stage is one more thread that waits beside its running driver. After its driver
            // ended, one thread took the other's place: the spin stays (the next edit decides it again).
            if (!driver_ended) update_node_spin(nodes_.size() - fused_stages_);
        }
        stage.mark_thread_taken_back();
    }
    events_->emit("stage_unfused",
                  {{"node", stage.id()}, {"reason", driver_ended ? "upstream_ended" : "component_not_fusable"}});
}

void GraphRunner::update_node_spin(std::size_t nodes) noexcept {
    try {
        const NodeSpin decided = decide_node_spin(nodes, usable_cpus(), options_.node_spin, options_.node_spin_yields);
        const std::int64_t spin_ns = decided.spin.count();
        if (node_spin_announced_ && node_spin_ns_.load(std::memory_order_relaxed) == spin_ns &&
            node_spin_yields_.load(std::memory_order_relaxed) == decided.yield) {
            return;
        }
        node_spin_ns_.store(spin_ns, std::memory_order_relaxed);
        node_spin_yields_.store(decided.yield, std::memory_order_relaxed);
        node_spin_announced_ = true;
        // A host's node waits as its kernel said; only the kernel tells.
        if (host_link_ != nullptr) return;
        kernel_logger()->info("node threads: {}", decided.reason);
        events_->emit("node_wait",
                      {{"spin_ns", spin_ns}, {"yield", decided.yield}, {"nodes", nodes}, {"reason", decided.reason}});
    } catch (const std::exception& error) {
        // Called while the graph's shape changes: an allocation that fails here must not leave it half changed.
        // The spin stays as it was, which only costs CPU time. (The logger exists by now: create() made it.)
        if (auto logger = spdlog::get("dhub.kernel")) {
            logger->error("node threads: the spin could not be decided again ({}); it stays as it was", error.what());
        }
    }
}

namespace {

/// The node a request is about: its "node", or the id in an add's spec (which the kernel has yet to check).
std::string node_named_by(const control::Request& request) {
    if (request.command != control::Command::Add || !request.spec.is_object()) return request.node;
    const auto id = request.spec.find("id");
    return id != request.spec.end() && id->is_string() ? id->get<std::string>() : std::string();
}

}  // namespace

control::Answer GraphRunner::answer(const control::Request& request) {
    using control::Command;
    control::Answer answer;
    switch (request.command) {
        case Command::Hello:
            answer.result = {{"protocol", control::PROTOCOL_VERSION},
                             {"graph", graph_name_},
                             {"pid", ::getpid()},
                             {"segment_prefix", options_.segment_prefix}};
            return answer;
        case Command::Status: {
            nlohmann::json nodes = nlohmann::json::array();
            for (const NodeReport& report : reports())
                nodes.push_back(to_json(report));
            answer.result = {{"graph", graph_name_},
                             {"state", counters::to_string(static_cast<counters::KernelState>(
                                           counters_->header().state.load(std::memory_order_relaxed)))},
                             {"nodes", nodes}};
            return answer;
        }
        case Command::Pause:
        case Command::Resume: {
            const VoidResult done =
                request.command == Command::Pause ? pause_node(request.node) : resume_node(request.node);
            if (!done) {
                answer.error_code = done.error().code == ErrorCode::NotFound ? "not_found" : "refused";
                answer.error_message = done.error().message;
            }
            answer.result = {{"node", request.node}};
            break;
        }
        case Command::Swap: {
            auto swapped = swap_node(request.node, {request.plugin, request.component, request.params});
            if (!swapped) {
                answer.error_code = swapped.error().code == ErrorCode::NotFound ? "not_found" : "refused";
                answer.error_message = swapped.error().message;
                answer.result = {{"node", request.node}};
                break;
            }
            answer.result = std::move(swapped.value());
            break;
        }
        case Command::Params:
        case Command::SetParam: {
            auto done = request.command == Command::Params ? node_params(request.node)
                                                           : set_node_param(request.node, request.name, request.value);
            if (!done) {
                answer.error_code = done.error().code == ErrorCode::NotFound ? "not_found" : "refused";
                answer.error_message = done.error().message;
                answer.result = {{"node", request.node}};
            } else {
                answer.result = std::move(done.value());
            }
            if (request.command == Command::Params) return answer;  // reads only: no control event
            break;
        }
        case Command::Add:
        case Command::Remove: {
            auto done =
                request.command == Command::Add ? add_node(request.spec, request.channels) : remove_node(request.node);
            if (!done) {
                answer.error_code = done.error().code == ErrorCode::NotFound ? "not_found" : "refused";
                answer.error_message = done.error().message;
                answer.result = {{"node", node_named_by(request)}};
            } else {
                answer.result = std::move(done.value());
            }
            break;
        }
        case Command::Stop:
            request_stop("control");
            answer.result = {{"stopping", true}};
            break;
        case Command::Events:
        case Command::Subscribe:
            // The endpoint answers these itself, from its event feed; nothing to do with the graph.
            answer.error_code = "refused";
            answer.error_message = "the kernel keeps no events for this endpoint";
            return answer;
    }
    // What the graph was told to do, and whether it did, is in the event stream.
    events_->emit("control", {{"command", control::to_string(request.command)},
                              {"client", request.client},
                              {"node", node_named_by(request)},
                              {"ok", answer.error_code.empty()},
                              {"error", answer.error_message}});
    return answer;
}

std::string GraphRunner::render_metrics() const {
    const counters::KernelCounters kernel = counters::read_page(counters_->data(), counters_->file_name());
    std::vector<metrics::ChannelSample> channels;
    const std::shared_lock topology(topology_mutex_);
    for (const auto& channel : channels_) {
        auto info = shm::inspect_channel(channel->segment);
        if (!info) continue;  // removed while the graph ends
        metrics::ChannelSample& sample = channels.emplace_back();
        sample.name = channel->name;
        sample.written = info.value().write_seq;
        sample.slot_count = info.value().slot_count;
        for (const shm::ConsumerInfo& consumer : info.value().consumers) {
            const std::uint64_t lag = consumer.latest || info.value().write_seq < consumer.cursor
                                          ? 0
                                          : info.value().write_seq - consumer.cursor;
            sample.readers.push_back({consumer.name, consumer.latest, lag, consumer.skipped});
        }
    }
    return metrics::render_prometheus(kernel, channels);
}

VoidResult GraphRunner::pause_node(std::string_view id) {
    // A node paused now would hold the drain up: nothing would resume it.
    if (stop_announced_.load()) {
        return Error{ErrorCode::InvalidArgument, "the graph is stopping: node '" + std::string(id) + "' is not paused"};
    }
    const std::shared_lock topology(topology_mutex_);
    for (auto& node : nodes_) {
        if (node->id() == id) return node->pause();
    }
    return Error{ErrorCode::NotFound, "the graph has no node '" + std::string(id) + "'"};
}

VoidResult GraphRunner::resume_node(std::string_view id) {
    const std::shared_lock topology(topology_mutex_);
    for (auto& node : nodes_) {
        if (node->id() == id) return node->resume();
    }
    return Error{ErrorCode::NotFound, "the graph has no node '" + std::string(id) + "'"};
}

void GraphRunner::request_stop(std::string_view cause) {
    if (!stop_announced_.exchange(true)) events_->emit("stop_requested", {{"cause", cause}});
    // Sources first: everything downstream then drains and ends when its input closes.
    const std::shared_lock topology(topology_mutex_);
    for (auto& node : nodes_) {
        // A node fed from another kernel is a source as far as this graph is concerned; a host's node is stopped
        // whatever it is (its kernel asks only when it should stop).
        if (node->is_graph_source() || host_link_ != nullptr) {
            node->request_stop();
        } else {
            node->on_graph_stopping();
        }
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
    if (host_link_ != nullptr) {
        // The kernel stops the graph; this host stops its node when the kernel says so.
        (void)host_link_->send({{"t", host_message::FAIL}, {"why", why}, {"cause", cause}});
    }
    if (!failed_.exchange(true)) {
        if (host_link_ == nullptr) kernel_logger()->error("stopping the graph: {}", why);
        // Not on the failing node's own thread's stack for long: stop flags only.
        request_stop(cause);
    }
}

void GraphRunner::fail_start(const std::string& why) {
    start_failed_.store(true);
    fail(why, "node_start_failed");
}

void GraphRunner::broadcast(const GraphNode& sender, const std::string& channel_name, const std::string& message) {
    if (host_link_ != nullptr) {
        (void)host_link_->send({{"t", host_message::BROADCAST}, {"channel", channel_name}, {"message", message}});
        return;
    }
    const std::shared_lock topology(topology_mutex_);
    for (auto& channel : channels_) {
        if (channel->name != channel_name) continue;
        for (GraphNode* member : channel->members) {
            if (member != &sender) member->deliver_message(channel_name, message);
        }
    }
}

void GraphRunner::deliver_to_hosted(const std::string& channel, const std::string& message) {
    if (hosted_ != nullptr) hosted_->deliver_message(channel, message);
}

NodeReport GraphRunner::hosted_report(std::uint64_t* progress, bool* sleeping) const {
    if (hosted_ == nullptr) return {};
    if (progress != nullptr) *progress = hosted_->progress();
    if (sleeping != nullptr) *sleeping = hosted_->sleeping();
    return hosted_->report();
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
        {
            const std::unique_lock topology(topology_mutex_);
            stop_idle_imports();
            withdraw_failed_exports();
            for (auto& node : nodes_) {
                all_finished = all_finished && node->finished();
                stopping = stopping || (node->is_graph_source() && node->stop_requested());
            }
            all_finished = all_finished && pending_removals_ == 0;
            // Closed in the same breath: no node is added to (or removed from) a graph whose nodes all ended.
            closed_ = all_finished;
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
            const std::shared_lock topology(topology_mutex_);
            for (auto& node : nodes_)
                node->request_stop();
            force_at = ~0ULL;
        }
        // The counters page's heartbeat: readers tell a wedged kernel from a quiet one by its age.
        std::uint64_t beat_at = NEVER;
        if (counters_ && counters_->shared()) {
            counters_->set_state(stopping || stop_announced_.load() ? counters::KernelState::Stopping
                                                                    : counters::KernelState::Running);
            beat_at = monotonic_ns() + COUNTERS_BEAT_NS;
        }
        // Sleeps until something changes or the next deadline: the forced stop, the end of run_for(), a beat.
        const std::uint64_t wake_at =
            std::min({force_at != 0 && force_at != ~0ULL ? force_at : NEVER, stop_at, beat_at});
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
    // The graph is closed: nodes_ no longer changes, and a node's thread on its way out may take the lock.
    for (auto& node : nodes_)
        node->join();
    if (counters_) counters_->set_state(counters::KernelState::Stopped);
    const ExitCode exit_code = !failed_.load()        ? ExitCode::Ok
                               : start_failed_.load() ? ExitCode::PluginError
                                                      : ExitCode::RuntimeError;
    events_->emit("graph_stopped", {{"exit_code", to_int(exit_code)}});
    return exit_code;
}

std::vector<NodeReport> GraphRunner::reports() const {
    const std::shared_lock topology(topology_mutex_);
    std::vector<NodeReport> reports;
    for (const auto& node : nodes_)
        reports.push_back(node->report());
    // Nodes removed while the graph ran, after those that ran to its end.
    reports.insert(reports.end(), removed_reports_.begin(), removed_reports_.end());
    return reports;
}

}  // namespace dhub::runtime
