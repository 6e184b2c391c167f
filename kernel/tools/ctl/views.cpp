// SPDX-License-Identifier: Apache-2.0
#include "views.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/inspect.hpp"
#include "text.hpp"

namespace dhub::ctl {
namespace {

/// A kernel whose main thread has not beaten for this long is reported as not responding.
constexpr std::uint64_t WEDGED_AFTER_NS = 3'000'000'000;

/// Whether the kernel's main thread beats: it does while the graph runs and stops. While it sets the graph up it
/// is in the plugins' create(), which may take long: that is not counted against it.
bool responding(const counters::KernelCounters& kernel) {
    if (!kernel.alive) return false;
    if (kernel.state == counters::KernelState::SettingUp || kernel.state == counters::KernelState::Stopped) return true;
    return kernel.heartbeat_age_ns <= WEDGED_AFTER_NS;
}

std::string liveness(const counters::KernelCounters& kernel) {
    if (!kernel.alive) return "dead (its page is stale: `dhub-ctl clean` removes it)";
    if (!responding(kernel)) {
        return std::string(counters::to_string(kernel.state)) + ", NOT RESPONDING for " +
               human_ns(kernel.heartbeat_age_ns);
    }
    return counters::to_string(kernel.state);
}

/// The share of a node's sampled steps spent outside its handler: waiting for a slot, or for room downstream.
double wait_share(const counters::NodeCounts& node) {
    if (node.sampled_step_ns == 0) return 0;
    const std::uint64_t waiting = node.sampled_step_ns - std::min(node.sampled_handler_ns, node.sampled_step_ns);
    return static_cast<double>(waiting) / static_cast<double>(node.sampled_step_ns);
}

}  // namespace

nlohmann::json kernels_json(const std::vector<FoundKernel>& kernels) {
    nlohmann::json list = nlohmann::json::array();
    for (const FoundKernel& kernel : kernels) {
        if (!kernel.error.empty()) {
            list.push_back({{"file", kernel.file}, {"error", kernel.error}});
            continue;
        }
        list.push_back(status_json(kernel.counters));
    }
    return list;
}

std::string kernels_text(const std::vector<FoundKernel>& kernels) {
    if (kernels.empty()) return "no dhub kernel publishes counters on this host\n";
    std::string text = format("%-8s %-20s %-6s %s\n", "PID", "GRAPH", "NODES", "STATE");
    for (const FoundKernel& kernel : kernels) {
        if (!kernel.error.empty()) {
            text += format("%-8s %-20s %-6s %s\n", "?", kernel.file.c_str(), "?", kernel.error.c_str());
            continue;
        }
        text += format("%-8u %-20s %-6zu %s\n", kernel.counters.pid, kernel.counters.graph.c_str(),
                       kernel.counters.nodes.size(), liveness(kernel.counters).c_str());
    }
    return text;
}

nlohmann::json status_json(const counters::KernelCounters& kernel) {
    std::size_t running = 0;
    std::uint64_t errors = 0;
    for (const counters::NodeCounts& node : kernel.nodes) {
        running += node.state == counters::NodeState::Running ? 1 : 0;
        errors += node.errors;
    }
    return {{"file", kernel.file},
            {"graph", kernel.graph},
            {"segment_prefix", kernel.segment_prefix},
            {"control_endpoint", kernel.control_endpoint},
            {"pid", kernel.pid},
            {"alive", kernel.alive},
            {"state", counters::to_string(kernel.state)},
            {"responding", responding(kernel)},
            {"heartbeat_age_ns", kernel.heartbeat_age_ns},
            {"started_realtime_ns", kernel.started_realtime_ns},
            {"nodes", kernel.nodes.size()},
            {"nodes_running", running},
            {"channels", kernel.channels.size()},
            {"errors", errors}};
}

std::string status_text(const counters::KernelCounters& kernel) {
    const nlohmann::json status = status_json(kernel);
    return format(
        "kernel   pid %u, graph '%s' (segments %s.*)\nstate    %s\nnodes    %zu (%zu running), %zu "
        "channels, %llu errors\n",
        kernel.pid, kernel.graph.c_str(), kernel.segment_prefix.c_str(), liveness(kernel).c_str(), kernel.nodes.size(),
        status["nodes_running"].get<std::size_t>(), kernel.channels.size(),
        static_cast<unsigned long long>(status["errors"].get<std::uint64_t>()));
}

nlohmann::json nodes_json(const counters::KernelCounters& kernel) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const counters::NodeCounts& node : kernel.nodes) {
        nlohmann::json value = counters::to_json(node);
        value["wait_share"] = wait_share(node);
        nodes.push_back(std::move(value));
    }
    return nodes;
}

std::string nodes_text(const counters::KernelCounters& kernel) {
    std::string text = format("%-14s %-18s %-9s %11s %11s %9s %9s %6s %7s %9s %5s\n", "NODE", "COMPONENT", "STATE",
                              "SLOTS IN", "SLOTS OUT", "IN", "OUT", "ERRORS", "SKIPPED", "P99", "WAIT");
    for (const counters::NodeCounts& node : kernel.nodes) {
        // An ended node shows why it ended ("input_cl…" is enough to tell; --json has all of it).
        const std::string state = counters::is_final(node.state) ? node.end_reason.substr(0, 9)
                                                                 : std::string(counters::to_string(node.state));
        text += format("%-14.14s %-18.18s %-9.9s %11llu %11llu %9s %9s %6llu %7llu %9s %4.0f%%\n", node.id.c_str(),
                       node.component.c_str(), state.c_str(), static_cast<unsigned long long>(node.slots_in),
                       static_cast<unsigned long long>(node.slots_out), human_bytes(node.bytes_in).c_str(),
                       human_bytes(node.bytes_out).c_str(), static_cast<unsigned long long>(node.errors),
                       static_cast<unsigned long long>(node.skipped), human_ns(counters::handler_p99_ns(node)).c_str(),
                       100.0 * wait_share(node));
    }
    return text;
}

nlohmann::json channels_json(const counters::KernelCounters& kernel) {
    nlohmann::json channels = nlohmann::json::array();
    for (const counters::ChannelEntry& entry : kernel.channels) {
        nlohmann::json channel = {{"name", entry.name}, {"segment", entry.segment}, {"producer", entry.producer}};
        nlohmann::json ledger = nlohmann::json::array();
        for (const counters::InputCounts& input : kernel.inputs) {
            if (input.channel == entry.name) ledger.push_back(counters::to_json(input));
        }
        channel["inputs"] = std::move(ledger);
        auto info = shm::inspect_channel(entry.segment);
        if (!info) {
            channel["error"] = info.error().message;
            channels.push_back(std::move(channel));
            continue;
        }
        const shm::ChannelInfo& ring = info.value();
        std::uint64_t slowest_lag = 0;
        nlohmann::json consumers = nlohmann::json::array();
        for (const shm::ConsumerInfo& consumer : ring.consumers) {
            const std::uint64_t lag =
                consumer.latest ? 0 : (ring.write_seq > consumer.cursor ? ring.write_seq - consumer.cursor : 0);
            if (!consumer.latest) slowest_lag = std::max(slowest_lag, lag);
            consumers.push_back({{"name", consumer.name},
                                 {"pid", consumer.pid},
                                 {"alive", consumer.alive},
                                 {"latest", consumer.latest},
                                 {"cursor", consumer.cursor},
                                 {"lag", lag},
                                 {"skipped", consumer.skipped}});
        }
        channel["sync"] = shm::to_string(ring.sync);
        channel["slot_count"] = ring.slot_count;
        channel["slot_bytes"] = ring.slot_payload_bytes;
        channel["write_seq"] = ring.write_seq;
        channel["closed"] = ring.closed;
        // Lossless readers hold the ring: the slowest one's unread slots are how full it is.
        channel["fill"] = ring.slot_count == 0
                              ? 0.0
                              : static_cast<double>(std::min<std::uint64_t>(slowest_lag, ring.slot_count)) /
                                    static_cast<double>(ring.slot_count);
        channel["slowest_lag"] = slowest_lag;
        channel["consumers"] = std::move(consumers);
        channels.push_back(std::move(channel));
    }
    // Inputs from other kernels ("broker:<channel>") have no ring here: their ledgers are listed on their own.
    for (const counters::InputCounts& input : kernel.inputs) {
        const bool local =
            std::any_of(kernel.channels.begin(), kernel.channels.end(),
                        [&](const counters::ChannelEntry& entry) { return entry.name == input.channel; });
        if (local) continue;
        channels.push_back({{"name", input.channel},
                            {"segment", ""},
                            {"producer", ""},
                            {"remote", true},
                            {"inputs", nlohmann::json::array({counters::to_json(input)})},
                            {"error", "another kernel's channel: its ring is not read here"}});
    }
    return channels;
}

/// A channel's ring and its readers, as channels_text prints them.
static std::string ring_text(const nlohmann::json& channel) {
    const std::string name = channel["name"].get<std::string>();
    const std::string producer = channel["producer"].get<std::string>();
    std::string text;
    text += format("%s  %s, %u x %s, producer %s: %llu slots written, fill %.0f%%%s\n", name.c_str(),
                   channel["sync"].get<std::string>().c_str(), channel["slot_count"].get<std::uint32_t>(),
                   human_bytes(channel["slot_bytes"].get<std::uint64_t>()).c_str(),
                   producer.empty() ? "(another kernel)" : producer.c_str(),
                   static_cast<unsigned long long>(channel["write_seq"].get<std::uint64_t>()),
                   100.0 * channel["fill"].get<double>(), channel["closed"].get<bool>() ? ", closed" : "");
    for (const nlohmann::json& consumer : channel["consumers"]) {
        text += format("    reader %-16s lag %8llu  skipped %8llu%s\n", consumer["name"].get<std::string>().c_str(),
                       static_cast<unsigned long long>(consumer["lag"].get<std::uint64_t>()),
                       static_cast<unsigned long long>(consumer["skipped"].get<std::uint64_t>()),
                       consumer["alive"].get<bool>() ? "" : "  (dead)");
    }
    return text;
}

std::string channels_text(const nlohmann::json& channels) {
    std::string text;
    for (const nlohmann::json& channel : channels) {
        const std::string name = channel["name"].get<std::string>();
        const std::string producer = channel["producer"].get<std::string>();
        if (channel.contains("error")) {
            text += format("%s  (producer %s): %s\n", name.c_str(), producer.empty() ? "-" : producer.c_str(),
                           channel["error"].get<std::string>().c_str());
        } else {
            text += ring_text(channel);
        }
        for (const nlohmann::json& input : channel["inputs"]) {
            if (input["gaps"].get<std::uint64_t>() == 0) continue;
            text += format("    node %-18s missed %llu slots in %llu gaps, the last from sequence %llu\n",
                           input["node"].get<std::string>().c_str(),
                           static_cast<unsigned long long>(input["gaps"].get<std::uint64_t>()),
                           static_cast<unsigned long long>(input["gap_events"].get<std::uint64_t>()),
                           static_cast<unsigned long long>(input["last_gap_sequence"].get<std::uint64_t>()));
        }
    }
    return text.empty() ? "no channels\n" : text;
}

std::string swap_text(const nlohmann::json& answer) {
    const auto sequence = [&](const char* key) {
        const nlohmann::json& value = answer.value(key, nlohmann::json());
        return value.is_number() ? std::to_string(value.get<std::uint64_t>()) : std::string("-");
    };
    char pause[32];
    std::snprintf(pause, sizeof pause, "%.3f", static_cast<double>(answer.value("pause_ns", std::uint64_t{0})) / 1e6);
    return "swapped '" + answer.value("node", std::string()) + "': " + answer.value("from", std::string()) + " -> " +
           answer.value("to", std::string()) + " (plugin " + answer.value("plugin", std::string()) +
           ")\n  fence: input sequence " + sequence("input_sequence") + ", output sequence " +
           sequence("output_sequence") + "\n  paused " + pause + " ms\n";
}

namespace {

/// "a, b" of a JSON array of names; "nothing" when it is empty.
std::string names_of(const nlohmann::json& names) {
    std::string text;
    for (const nlohmann::json& name : names)
        text += (text.empty() ? "" : ", ") + (name.is_string() ? name.get<std::string>() : name.dump());
    return text.empty() ? "nothing" : text;
}

}  // namespace

std::string added_text(const nlohmann::json& answer) {
    const nlohmann::json none = nlohmann::json::array();
    std::string text = "added '" + answer.value("node", std::string()) + "' (" +
                       answer.value("component", std::string()) + " from plugin " +
                       answer.value("plugin", std::string()) + "): " + answer.value("state", std::string()) +
                       "\n  reads " + names_of(answer.value("inputs", none)) + "\n  writes " +
                       names_of(answer.value("outputs", none)) + "\n";
    if (!answer.value("channels", none).empty()) text += "  new channels: " + names_of(answer["channels"]) + "\n";
    return text;
}

std::string removed_text(const nlohmann::json& answer) {
    const nlohmann::json report = answer.value("report", nlohmann::json::object());
    const auto count = [&](const char* key) { return std::to_string(report.value(key, std::uint64_t{0})); };
    std::string text = "removed '" + answer.value("node", std::string()) + "': " + count("slots_in") + " slots in, " +
                       count("slots_out") + " out, " + count("errors") + " errors\n";
    if (!answer.value("channels", nlohmann::json::array()).empty())
        text += "  channels removed with it: " + names_of(answer["channels"]) + "\n";
    return text;
}

std::string remote_status_text(const nlohmann::json& status) {
    std::string text =
        "graph '" + status.value("graph", std::string()) + "': " + status.value("state", std::string()) + "\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-16s %-24s %12s %12s %8s  %s\n", "NODE", "COMPONENT", "SLOTS IN", "SLOTS OUT",
                  "ERRORS", "END");
    text += line;
    for (const nlohmann::json& node : status.value("nodes", nlohmann::json::array())) {
        const auto count = [&](const char* key) { return node.value(key, std::uint64_t{0}); };
        std::snprintf(
            line, sizeof line, "%-16s %-24s %12llu %12llu %8llu  %s\n", node.value("id", std::string()).c_str(),
            node.value("component", std::string()).c_str(), static_cast<unsigned long long>(count("slots_in")),
            static_cast<unsigned long long>(count("slots_out")), static_cast<unsigned long long>(count("errors")),
            node.value("end_reason", std::string()).c_str());
        text += line;
    }
    return text;
}

}  // namespace dhub::ctl
