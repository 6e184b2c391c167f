// SPDX-License-Identifier: Apache-2.0
// Adding a node to a running graph and taking one out (docs/control.md, "add" and "remove"). An add is checked as
// a graph file is: the running graph with the new node and its new channels must validate. Then the channels'
// segments are made, the node is built and attached to its inputs (a new reader starts at the slot after the newest
// one written), its plugin creates it, and its thread starts; if any step fails, nothing of it stays. A remove stops
// the node for good, gives its seats back and takes out the channels only it wrote.
#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "broker_link.hpp"
#include "channel_gate.hpp"
#include "dhub/counters/counters_page.hpp"
#include "dhub/events/event_log.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "graph_shape.hpp"
#include "node.hpp"
#include "node_ask.hpp"
#include "runner_channel.hpp"

namespace dhub::runtime {
namespace {

/// The node and channels of an add request, parsed as a graph document's would be.
struct Addition {
    graph::NodeSpec node;
    std::vector<graph::ChannelSpec> channels;
};

/// Where a path of the add request points: "/request/spec/..." in the node, "/request/channels/<k>/..." in its
/// k-th new channel; paths into the running graph's file stay as they are.
std::string in_request(const std::string& path) {
    if (path.starts_with("/nodes/0")) return "/request/spec" + path.substr(8);
    if (path.starts_with("/channels/")) return "/request" + path;
    return path;
}

void point_into_request(Addition& addition) {
    graph::NodeSpec& node = addition.node;
    node.json_path = in_request(node.json_path);
    for (graph::PortBinding& binding : node.inputs)
        binding.json_path = in_request(binding.json_path);
    for (graph::PortBinding& binding : node.outputs)
        binding.json_path = in_request(binding.json_path);
    for (graph::ChannelSpec& channel : addition.channels) {
        channel.json_path = in_request(channel.json_path);
        for (graph::ChannelValidatorSpec& validator : channel.validators)
            validator.node.json_path = in_request(validator.node.json_path);
    }
}

Result<Addition> parse_addition(const nlohmann::json& spec,
                                const nlohmann::json& channels,
                                const graph::GraphSpec& running) {
    // A graph document of the request's node and channels: parse_graph checks their shape as it checks a file's,
    // with the graph file's default isolation, which it applies to a node that names none.
    nlohmann::json document = {{"schema_version", graph::GRAPH_SCHEMA_VERSION},
                               {"name", running.name},
                               {"channels", channels.is_null() ? nlohmann::json::array() : channels},
                               {"nodes", nlohmann::json::array({spec})}};
    const nlohmann::json file = nlohmann::json::parse(running.source_text, nullptr, false);
    if (file.is_object() && file.contains("isolation")) document["isolation"] = file["isolation"];
    std::vector<graph::GraphIssue> issues;
    std::optional<graph::GraphSpec> parsed = graph::parse_graph(document.dump(), running.source_file, issues);
    for (graph::GraphIssue& issue : issues)
        issue.json_path = in_request(issue.json_path);
    if (!parsed || !issues.empty() || parsed->nodes.size() != 1) {
        return Error{ErrorCode::InvalidArgument,
                     "the node to add is not one a graph could hold:\n" + listed_issues(issues)};
    }
    Addition addition{std::move(parsed->nodes.front()), std::move(parsed->channels)};
    point_into_request(addition);
    return addition;
}

bool reads_any(const std::vector<graph::BoundChannel>& inputs, const std::vector<std::string>& channels) {
    return std::any_of(inputs.begin(), inputs.end(), [&](const graph::BoundChannel& input) {
        return std::find(channels.begin(), channels.end(), input.channel) != channels.end();
    });
}

nlohmann::json channel_names(const std::vector<graph::BoundChannel>& bound) {
    nlohmann::json names = nlohmann::json::array();
    for (const graph::BoundChannel& channel : bound)
        names.push_back(channel.channel);
    return names;
}

}  // namespace

VoidResult GraphRunner::check_editable(std::string_view what) const {
    if (loader_ == nullptr || !running_spec_) {
        return Error{ErrorCode::InvalidArgument,
                     "this runner runs one node for its kernel: " + std::string(what) + " goes to the kernel"};
    }
    if (!started_.load()) {
        return Error{ErrorCode::InvalidArgument, "the graph has not started yet: " + std::string(what) + " waits"};
    }
    if (stop_announced_.load()) {
        return Error{ErrorCode::InvalidArgument, "the graph is stopping: no " + std::string(what)};
    }
    const std::shared_lock topology(topology_mutex_);
    if (closed_) return Error{ErrorCode::InvalidArgument, "the graph has ended: no " + std::string(what)};
    return Ok{};
}

Result<nlohmann::json> GraphRunner::add_node(const nlohmann::json& spec, const nlohmann::json& channels) {
    const std::lock_guard edit(edit_mutex_);
    auto added = add_locked(spec, channels);
    if (!added) return added;
    nlohmann::json answer = std::move(added.value());
    if (nlohmann::json served = export_added_channels(answer["channels"]); !served.empty())
        answer["exported"] = std::move(served);
    return answer;
}

Result<nlohmann::json> GraphRunner::add_locked(const nlohmann::json& spec, const nlohmann::json& channels) {
    if (auto editable = check_editable("add"); !editable) return editable.error();
    auto addition = parse_addition(spec, channels, *running_spec_);
    if (!addition) return addition.error();
    const std::string id = addition.value().node.id;
    if (addition.value().node.isolation == graph::Isolation::Process) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + id +
                         "' asks for a process of its own (isolation: process, or a python node): nodes added to a "
                         "running graph run in a thread of the kernel for now; put it in the graph file to isolate it"};
    }
    // parse_graph saw only the request: names must be new to the running graph too.
    for (const graph::NodeSpec& running : running_spec_->nodes) {
        if (running.id == id) {
            return Error{ErrorCode::InvalidArgument,
                         "/request/spec/id: the graph has a node '" + id + "' already; give the new one another id"};
        }
    }
    for (std::size_t index = 0; index < addition.value().channels.size(); ++index) {
        const std::string& name = addition.value().channels[index].name;
        if (std::any_of(running_spec_->channels.begin(), running_spec_->channels.end(),
                        [&](const graph::ChannelSpec& running) { return running.name == name; })) {
            return Error{ErrorCode::InvalidArgument, "/request/channels/" + std::to_string(index) +
                                                         "/name: the graph has a channel '" + name +
                                                         "' already; name the new one otherwise"};
        }
    }
    graph::GraphSpec candidate = *running_spec_;
    for (graph::ChannelSpec& channel : addition.value().channels)
        candidate.channels.push_back(std::move(channel));
    candidate.nodes.push_back(std::move(addition.value().node));
    std::vector<graph::GraphIssue> issues;
    const graph::ValidatedGraph validated =
        graph::validate_graph(candidate, plugin::component_lookup(*loader_, plugin::NodeParams::Pass), issues);
    if (!issues.empty()) {
        return Error{ErrorCode::InvalidArgument, "the graph with node '" + id +
                                                     "' added would not be valid (/request/spec is the node, "
                                                     "/request/channels/<k> its k-th new channel, other paths are "
                                                     "in the graph file):\n" +
                                                     listed_issues(issues)};
    }
    const graph::ValidatedNode& added = validated.nodes.back();
    const std::size_t first_new = channels_.size();
    for (std::size_t index = first_new; index < validated.channels.size(); ++index) {
        if (validated.channels[index].producer != validated.nodes.size() - 1) {
            return Error{ErrorCode::InvalidArgument, "channel '" + validated.channels[index].spec->name +
                                                         "' is new, and node '" + id +
                                                         "' does not write it: an add brings only the channels its "
                                                         "node writes"};
        }
    }

    // Its plugin's init() runs first, under no lock (it may take its time: a driver library, a device).
    auto plugin = loader_->load(added.component.plugin);
    if (!plugin) return plugin.error();
    if (auto initialised = initialise(*plugin.value(), id); !initialised) return initialised.error();

    // Its records in the counters page, which are never handed out twice: an add that fails retires them.
    auto record = counters_->add_node(page_node(validated, added));
    if (!record) return record.error();
    std::vector<std::uint32_t> channel_records;
    std::vector<std::unique_ptr<Channel>> fresh;  // its new channels until they join channels_
    std::unique_ptr<Node> node;
    const auto abandon = [&](Error why) -> Error {
        {
            const std::unique_lock topology(topology_mutex_);
            for (auto& channel : channels_)
                std::erase(channel->members, static_cast<GraphNode*>(node.get()));
            while (channels_.size() > first_new) {
                fresh.push_back(std::move(channels_.back()));
                channels_.pop_back();
            }
        }
        node.reset();  // before its channels: it writes them; its seats go back
        for (const auto& channel : fresh) {
            if (broker_link_) broker_link_->withdraw(channel->name);
        }
        fresh.clear();
        counters_->retire_node(record.value());
        for (const std::uint32_t channel : channel_records)
            counters_->retire_channel(channel);
        return why;
    };
    for (std::size_t index = first_new; index < validated.channels.size(); ++index) {
        const std::string& name = validated.channels[index].spec->name;
        auto channel_record = counters_->add_channel({name, options_.segment_prefix + "." + name, record.value()});
        if (!channel_record) return abandon(channel_record.error());
        channel_records.push_back(channel_record.value());
    }

    // Its channels and their validators (whose create() runs here) first, where nobody sees them yet; then, under
    // the lock, they join the graph, and the node is built and takes its seats (no plugin code runs there).
    auto logger = spdlog::get("dhub.kernel");
    for (std::size_t index = first_new; index < validated.channels.size(); ++index) {
        auto channel = make_channel(validated.channels[index]);
        if (!channel) return abandon(channel.error().error);
        fresh.push_back(std::move(channel.value()));
    }
    std::vector<Channel*> gate_channels = channel_pointers();
    for (const auto& channel : fresh)
        gate_channels.push_back(channel.get());
    for (std::size_t index = first_new; index < validated.channels.size(); ++index) {
        if (auto gated = create_gate(validated, index, gate_channels, *loader_, logger); !gated) {
            return abandon(gated.error());
        }
    }
    VoidResult built = [&]() -> VoidResult {
        const std::unique_lock topology(topology_mutex_);
        for (auto& channel : fresh)
            channels_.push_back(std::move(channel));
        fresh.clear();
        auto made = build_node(validated, added, *loader_, logger, &counters_->node(record.value()),
                               added.inputs.empty() ? nullptr : &counters_->input(record.value(), 0));
        if (!made) return made.error().error;
        node = std::move(made.value());
        return attach_inputs(validated, added, *node);
    }();
    if (!built) return abandon(built.error());
    if (auto instantiated = node->instantiate(plugin.value()->path.string()); !instantiated) {
        return abandon(instantiated.error());
    }
    Node* raw = node.get();
    std::string not_started;
    {
        const std::unique_lock topology(topology_mutex_);
        // request_stop() flags the stop, then walks nodes_: a node added after it looked would never be stopped.
        if (closed_ || stop_announced_.load()) {
            not_started = closed_ ? "the graph has ended" : "the graph is stopping";
        } else {
            // Decided with the node counted before its thread starts: a node reads the spin at its first wait.
            update_node_spin(nodes_.size() + 1 - fused_stages_);
            try {
                raw->mark_added();
                raw->start_thread();
                nodes_.push_back(std::move(node));
            } catch (const std::exception& error) {
                not_started = std::string("its thread could not be started: ") + error.what();
                update_node_spin(nodes_.size() - fused_stages_);
            }
        }
    }
    if (node) return abandon(Error{ErrorCode::Io, not_started + ": node '" + id + "' not added"});
    const std::size_t index = nodes_.size() - 1;
    bindings_.push_back({added.inputs, added.outputs});
    running_components_.push_back(added.component);
    node_records_.push_back(record.value());
    for (std::size_t channel = first_new; channel < validated.channels.size(); ++channel)
        channel_schemas_.push_back(validated.channels[channel].schema);
    channel_records_.insert(channel_records_.end(), channel_records.begin(), channel_records.end());
    nlohmann::json answer = {{"node", id},
                             {"component", added.component.id},
                             {"plugin", added.component.plugin},
                             {"inputs", channel_names(added.inputs)},
                             {"outputs", channel_names(added.outputs)}};
    nlohmann::json new_channels = nlohmann::json::array();
    for (std::size_t channel = first_new; channel < validated.channels.size(); ++channel)
        new_channels.push_back(validated.channels[channel].spec->name);
    answer["channels"] = new_channels;
    nlohmann::json remote_inputs = nlohmann::json::array();
    for (const graph::BoundChannel& input : added.inputs) {
        if (input.channel.starts_with(graph::REMOTE_INPUT_PREFIX)) remote_inputs.push_back(input.channel);
    }
    *running_spec_ = std::move(candidate);  // `validated` points into it: not used past here

    // The answer comes once the node runs: a start() that fails takes it out again, and the add is refused. A
    // node attaching broker: inputs is answered at once: their producers may come much later, and one on another
    // host is imported by a receiver this very lock must let the node add.
    const counters::NodeRecord& counts = counters_->node(record.value());
    const auto deadline = std::chrono::steady_clock::now() + NODE_FENCE_TIMEOUT;
    counters::NodeState state = counters::NodeState::Created;
    bool connecting = false;
    for (;;) {
        state = static_cast<counters::NodeState>(counts.state.load(std::memory_order_acquire));
        connecting = raw->connecting_remote();
        if (state == counters::NodeState::Running || state == counters::NodeState::Paused ||
            counters::is_final(state) || connecting || std::chrono::steady_clock::now() >= deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (connecting) answer["waiting_for"] = remote_inputs;
    const NodeReport ended = raw->report();
    if (counters::is_final(state) && ended.end_reason == EndReason::StartFailed) {
        if (auto taken = take_out(index, /*keep_report=*/false); !taken) {
            // The graph ended meanwhile: the node ended with it, and is in its report.
            return Error{ErrorCode::InvalidArgument,
                         "node '" + id + "' did not start (" + ended.end_detail + "), and the graph has ended"};
        }
        return Error{ErrorCode::InvalidArgument,
                     "node '" + id + "' did not start (" + ended.end_detail + "): it was taken out again"};
    }
    // A node that ran and ended already (a short replay, an input closed meanwhile) was added: it stays, ended, as
    // any node of the graph that ended does.
    answer["state"] = counters::to_string(state);
    if (counters::is_final(state)) answer["end_reason"] = to_string(ended.end_reason);
    events_->emit("node_added", answer);
    return answer;
}

Result<nlohmann::json> GraphRunner::remove_node(std::string_view id) {
    const std::lock_guard edit(edit_mutex_);
    return remove_locked(id);
}

Result<nlohmann::json> GraphRunner::remove_locked(std::string_view id) {
    if (auto editable = check_editable("remove"); !editable) return editable.error();
    const auto found = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node->id() == id; });
    if (found == nodes_.end()) return Error{ErrorCode::NotFound, "the graph has no node '" + std::string(id) + "'"};
    std::size_t index = static_cast<std::size_t>(found - nodes_.begin());
    if (nodes_.size() == 1) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + std::string(id) + "' is the graph's last: `dhub-ctl stop` ends the graph"};
    }
    const std::vector<std::string> written = written_by(index);
    // The export senders of what it writes go with it: the kernel added them to serve these channels alone.
    std::vector<std::string> senders;
    for (std::size_t other = 0; other < nodes_.size(); ++other) {
        if (other == index || !reads_any(bindings_[other].inputs, written)) continue;
        if (is_export_sender_of(nodes_[other]->id(), written)) {
            senders.push_back(nodes_[other]->id());
            continue;
        }
        return Error{ErrorCode::InvalidArgument, "node '" + std::string(id) + "' writes what node '" +
                                                     nodes_[other]->id() + "' reads: remove '" + nodes_[other]->id() +
                                                     "' first"};
    }
    // What is left must still be a graph that could run (a channel's last lossless reader may not go while
    // latest-only ones stay, for one): every later add or swap checks it.
    graph::GraphSpec rest = *running_spec_;
    rest.nodes.erase(rest.nodes.begin() + static_cast<std::ptrdiff_t>(index));
    std::erase_if(rest.nodes, [&](const graph::NodeSpec& node) {
        return std::find(senders.begin(), senders.end(), node.id) != senders.end();
    });
    std::erase_if(rest.channels, [&](const graph::ChannelSpec& channel) {
        return std::find(written.begin(), written.end(), channel.name) != written.end();
    });
    std::vector<graph::GraphIssue> issues;
    (void)graph::validate_graph(rest, plugin::component_lookup(*loader_, plugin::NodeParams::Pass), issues);
    if (!issues.empty()) {
        return Error{ErrorCode::InvalidArgument,
                     "the graph without node '" + std::string(id) + "' would not be valid:\n" + listed_issues(issues)};
    }
    for (const std::string& sender : senders) {
        {
            // Its channel is withdrawn right after: registering it again without the sender first would be noise.
            const std::unique_lock topology(topology_mutex_);
            export_senders_[sender].advertised = false;
        }
        if (auto removed = remove_locked(sender); !removed) {
            return Error{removed.error().code, "node '" + std::string(id) + "' stays: its export sender '" + sender +
                                                   "' could not be removed first: " + removed.error().message};
        }
    }
    index = static_cast<std::size_t>(
        std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& node) { return node->id() == id; }) -
        nodes_.begin());
    auto report = take_out(index, /*keep_report=*/true);
    if (!report) return report.error();
    {
        const std::unique_lock topology(topology_mutex_);
        export_sender_ended(std::string(id), report.value());
        export_senders_.erase(std::string(id));
    }
    nlohmann::json answer = {{"node", std::string(id)}, {"report", to_json(report.value())}};
    nlohmann::json channels = nlohmann::json::array();
    for (const std::string& channel : written)
        channels.push_back(channel);
    answer["channels"] = channels;
    if (!senders.empty()) answer["also_removed"] = senders;
    events_->emit("node_removed", answer);
    return answer;
}

std::vector<std::string> GraphRunner::written_by(std::size_t index) const {
    std::vector<std::string> written;
    for (const graph::BoundChannel& output : bindings_[index].outputs) {
        written.push_back(output.channel);
        const auto channel = std::find_if(running_spec_->channels.begin(), running_spec_->channels.end(),
                                          [&](const graph::ChannelSpec& spec) { return spec.name == output.channel; });
        if (channel == running_spec_->channels.end()) continue;
        for (const graph::ChannelValidatorSpec& validator : channel->validators) {
            if (!validator.quarantine.empty()) written.push_back(validator.quarantine);
        }
    }
    std::sort(written.begin(), written.end());
    written.erase(std::unique(written.begin(), written.end()), written.end());
    return written;
}

Result<NodeReport> GraphRunner::take_out(std::size_t index, bool keep_report) {
    const std::vector<std::string> written = written_by(index);
    std::unique_ptr<GraphNode> node;
    {
        const std::unique_lock topology(topology_mutex_);
        // wait() joins the nodes without the lock once it closed the graph: nothing may leave it any more.
        if (closed_) return Error{ErrorCode::InvalidArgument, "the graph has ended: nothing is removed"};
        ++pending_removals_;  // wait() does not see the graph end while the node is on its way out
        node = std::move(nodes_[index]);
        nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(index));
        if (const auto* removed = dynamic_cast<const Node*>(node.get()); removed != nullptr && removed->fused_stage()) {
            --fused_stages_;
        }
        update_node_spin(nodes_.size() - fused_stages_);
        for (auto& channel : channels_)
            std::erase(channel->members, node.get());
    }
    // Not under the lock: the node's thread may broadcast or fail the graph on its way out, which reads it.
    node->request_removal();
    node->join();
    const NodeReport report = node->report();
    // A producer in a process of its own ran its channels' validators there: their counts come with its report.
    std::vector<ValidatorReport> validators = node->own_validator_reports();
    node.reset();  // its seats go back, its instance is destroyed

    std::vector<std::unique_ptr<Channel>> dropped;
    {
        const std::unique_lock topology(topology_mutex_);
        for (std::size_t channel = channels_.size(); channel-- > 0;) {
            if (std::find(written.begin(), written.end(), channels_[channel]->name) == written.end()) continue;
            if (channels_[channel]->gate) {
                for (ValidatorReport& validator : channels_[channel]->gate->reports())
                    validators.push_back(std::move(validator));
            }
            dropped.push_back(std::move(channels_[channel]));
            channels_.erase(channels_.begin() + static_cast<std::ptrdiff_t>(channel));
            running_spec_->channels.erase(running_spec_->channels.begin() + static_cast<std::ptrdiff_t>(channel));
            channel_schemas_.erase(channel_schemas_.begin() + static_cast<std::ptrdiff_t>(channel));
            counters_->retire_channel(channel_records_[channel]);
            channel_records_.erase(channel_records_.begin() + static_cast<std::ptrdiff_t>(channel));
        }
        // An add taken out again (its start failed) leaves nothing in the run's report.
        if (keep_report) {
            removed_reports_.push_back(report);
            removed_validator_reports_.insert(removed_validator_reports_.end(), validators.begin(), validators.end());
        }
        --pending_removals_;
    }
    for (const auto& channel : dropped) {
        if (broker_link_) broker_link_->withdraw(channel->name);
    }
    dropped.clear();  // their segments are removed
    counters_->retire_node(node_records_[index]);
    const auto at = [index](auto& parallel) { parallel.erase(parallel.begin() + static_cast<std::ptrdiff_t>(index)); };
    at(running_spec_->nodes);
    at(bindings_);
    at(running_components_);
    at(node_records_);
    notify_state_change();
    return report;
}

}  // namespace dhub::runtime
