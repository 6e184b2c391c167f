// SPDX-License-Identifier: Apache-2.0
#include "dhub/metrics/prometheus_text.hpp"

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace dhub::metrics {
namespace {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// One family at a time, as the format wants: HELP, TYPE, then its samples. A family without samples (no paced
/// source, no latest-only reader) is left out whole.
class Exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        pending_.clear();
        pending_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        pending_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }
    void sample(std::string_view name, Labels labels, std::uint64_t value) {
        series(name, labels);
        text_.append(std::to_string(value)).append("\n");
    }
    void sample(std::string_view name, Labels labels, double value) {
        series(name, labels);
        char number[32];
        std::snprintf(number, sizeof number, "%.9g", value);
        text_.append(number).append("\n");
    }
    std::string take() { return std::move(text_); }

private:
    void series(std::string_view name, Labels labels) {
        text_.append(pending_);
        pending_.clear();
        text_.append(name);
        if (labels.size() != 0) {
            text_.append("{");
            bool first = true;
            for (const auto& [key, value] : labels) {
                if (!first) text_.append(",");
                first = false;
                text_.append(key).append("=\"").append(escape_label(std::string(value))).append("\"");
            }
            text_.append("}");
        }
        text_.append(" ");
    }

    std::string text_;
    std::string pending_;  ///< the current family's HELP and TYPE, until its first sample
};

constexpr double NS_PER_SECOND = 1e9;

double seconds(std::uint64_t ns) {
    return static_cast<double>(ns) / NS_PER_SECOND;
}

/// A per-node counter family: one sample per node, its value read by `value`.
void node_counter(Exposition& out,
                  const counters::KernelCounters& kernel,
                  std::string_view name,
                  std::string_view help,
                  const std::function<std::uint64_t(const counters::NodeCounts&)>& value) {
    out.family(name, "counter", help);
    for (const counters::NodeCounts& node : kernel.nodes)
        out.sample(name, {{"graph", kernel.graph}, {"node", node.id}}, value(node));
}

void kernel_metrics(Exposition& out, const counters::KernelCounters& kernel) {
    out.family("dhub_kernel_info", "gauge", "The kernel: its graph, segment prefix and pid (always 1).");
    const std::string pid = std::to_string(kernel.pid);
    out.sample("dhub_kernel_info", {{"graph", kernel.graph}, {"segment_prefix", kernel.segment_prefix}, {"pid", pid}},
               std::uint64_t{1});
    out.family("dhub_kernel_start_time_seconds", "gauge", "When the kernel started, in seconds since the epoch.");
    out.sample("dhub_kernel_start_time_seconds", {{"graph", kernel.graph}}, seconds(kernel.started_realtime_ns));
    out.family("dhub_kernel_heartbeat_age_seconds", "gauge",
               "Since the kernel's main thread last beat (once a second while it runs).");
    out.sample("dhub_kernel_heartbeat_age_seconds", {{"graph", kernel.graph}}, seconds(kernel.heartbeat_age_ns));
}

void node_state_metrics(Exposition& out, const counters::KernelCounters& kernel) {
    out.family("dhub_node_info", "gauge", "A node: its component (the one running now) and isolation (always 1).");
    for (const counters::NodeCounts& node : kernel.nodes) {
        out.sample(
            "dhub_node_info",
            {{"graph", kernel.graph}, {"node", node.id}, {"component", node.component}, {"isolation", node.isolation}},
            std::uint64_t{1});
    }
    out.family("dhub_node_state", "gauge", "1 for the state the node is in, 0 for the others.");
    for (const counters::NodeCounts& node : kernel.nodes) {
        for (std::uint32_t state = 0; state <= static_cast<std::uint32_t>(counters::NodeState::Failed); ++state) {
            const auto each = static_cast<counters::NodeState>(state);
            out.sample("dhub_node_state", {{"graph", kernel.graph}, {"node", node.id}, {"state", to_string(each)}},
                       std::uint64_t{node.state == each ? 1U : 0U});
        }
    }
}

void node_flow_metrics(Exposition& out, const counters::KernelCounters& kernel) {
    out.family("dhub_node_slots_total", "counter", "Slots a node took from its inputs (in) and published (out).");
    for (const counters::NodeCounts& node : kernel.nodes) {
        out.sample("dhub_node_slots_total", {{"graph", kernel.graph}, {"node", node.id}, {"direction", "in"}},
                   node.slots_in);
        out.sample("dhub_node_slots_total", {{"graph", kernel.graph}, {"node", node.id}, {"direction", "out"}},
                   node.slots_out);
    }
    out.family("dhub_node_bytes_total", "counter", "Payload bytes of the slots a node took (in) and published (out).");
    for (const counters::NodeCounts& node : kernel.nodes) {
        out.sample("dhub_node_bytes_total", {{"graph", kernel.graph}, {"node", node.id}, {"direction", "in"}},
                   node.bytes_in);
        out.sample("dhub_node_bytes_total", {{"graph", kernel.graph}, {"node", node.id}, {"direction", "out"}},
                   node.bytes_out);
    }
    using Node = counters::NodeCounts;
    node_counter(out, kernel, "dhub_node_handled_total", "Slots a node's handler handled successfully.",
                 [](const Node& node) { return node.handled; });
    node_counter(out, kernel, "dhub_node_skipped_total", "Slots a handler skipped (DHUB_SKIP).",
                 [](const Node& node) { return node.skipped; });
    node_counter(out, kernel, "dhub_node_errors_total", "Failed handler calls and errors a plugin reported.",
                 [](const Node& node) { return node.errors; });
    node_counter(out, kernel, "dhub_node_rejected_total", "Slots a validator rejected.",
                 [](const Node& node) { return node.rejected; });
    node_counter(out, kernel, "dhub_node_checksum_failures_total", "Input slots that failed their checksum.",
                 [](const Node& node) { return node.checksum_failures; });
    node_counter(out, kernel, "dhub_node_overwritten_total",
                 "Latest-only input slots rewritten while held (always 0: a tripwire).",
                 [](const Node& node) { return node.overwritten; });
    node_counter(out, kernel, "dhub_node_burst_calls_total", "Handler calls that moved a burst of slots.",
                 [](const Node& node) { return node.burst_calls; });
    node_counter(out, kernel, "dhub_node_restarts_total", "Restarts of an isolated node's process.",
                 [](const Node& node) { return node.restarts; });
    node_counter(out, kernel, "dhub_node_swaps_total", "Components swapped in while the node ran.",
                 [](const Node& node) { return node.swaps; });
    out.family("dhub_node_swap_pause_max_seconds", "gauge", "The longest a swap paused the node.");
    for (const counters::NodeCounts& node : kernel.nodes) {
        out.sample("dhub_node_swap_pause_max_seconds", {{"graph", kernel.graph}, {"node", node.id}},
                   seconds(node.max_swap_pause_ns));
    }
}

void handler_histogram(Exposition& out, const counters::KernelCounters& kernel) {
    out.family("dhub_node_handler_seconds", "histogram",
               "Handler call times, sampled: one step in timing_sample_every (64) is timed.");
    for (const counters::NodeCounts& node : kernel.nodes) {
        std::uint64_t cumulative = 0;
        // Bucket k holds calls of [2^(k-1), 2^k) ns; the last one everything longer, which +Inf covers.
        for (std::size_t bucket = 0; bucket + 1 < counters::HISTOGRAM_BUCKETS; ++bucket) {
            cumulative += node.handler_histogram[bucket];
            char bound[32];
            std::snprintf(bound, sizeof bound, "%.9g", seconds(std::uint64_t{1} << bucket));
            out.sample("dhub_node_handler_seconds_bucket", {{"graph", kernel.graph}, {"node", node.id}, {"le", bound}},
                       cumulative);
        }
        cumulative += node.handler_histogram[counters::HISTOGRAM_BUCKETS - 1];
        out.sample("dhub_node_handler_seconds_bucket", {{"graph", kernel.graph}, {"node", node.id}, {"le", "+Inf"}},
                   cumulative);
        out.sample("dhub_node_handler_seconds_sum", {{"graph", kernel.graph}, {"node", node.id}},
                   seconds(node.sampled_handler_ns));
        out.sample("dhub_node_handler_seconds_count", {{"graph", kernel.graph}, {"node", node.id}}, cumulative);
    }
}

void pacing_metrics(Exposition& out, const counters::KernelCounters& kernel) {
    const auto paced = [&](std::string_view name, std::string_view help,
                           const std::function<std::uint64_t(const counters::NodeCounts&)>& value) {
        out.family(name, "counter", help);
        for (const counters::NodeCounts& node : kernel.nodes) {
            if (node.pacing_rate_hz > 0) out.sample(name, {{"graph", kernel.graph}, {"node", node.id}}, value(node));
        }
    };
    paced("dhub_node_pacing_ticks_total", "A paced source's calls on a tick.",
          [](const counters::NodeCounts& node) { return node.pacing_ticks; });
    paced("dhub_node_pacing_late_ticks_total", "Calls a period or more after their tick.",
          [](const counters::NodeCounts& node) { return node.pacing_late_ticks; });
    paced("dhub_node_pacing_skipped_ticks_total", "Ticks dropped by the skip policy.",
          [](const counters::NodeCounts& node) { return node.pacing_skipped_ticks; });
}

void input_metrics(Exposition& out, const counters::KernelCounters& kernel) {
    out.family("dhub_input_gap_slots_total", "counter",
               "Slots a latest-only input missed (its producer wrote over them before it read them).");
    for (const counters::InputCounts& input : kernel.inputs) {
        out.sample("dhub_input_gap_slots_total",
                   {{"graph", kernel.graph}, {"node", input.node}, {"input", input.channel}}, input.gaps);
    }
    out.family("dhub_input_gaps_total", "counter", "Reads of a latest-only input that came after a gap.");
    for (const counters::InputCounts& input : kernel.inputs) {
        out.sample("dhub_input_gaps_total", {{"graph", kernel.graph}, {"node", input.node}, {"input", input.channel}},
                   input.gap_events);
    }
}

void channel_metrics(Exposition& out, const std::string& graph, const std::vector<ChannelSample>& channels) {
    out.family("dhub_channel_written_slots_total", "counter", "Slots published on the channel.");
    for (const ChannelSample& channel : channels)
        out.sample("dhub_channel_written_slots_total", {{"graph", graph}, {"channel", channel.name}}, channel.written);
    out.family("dhub_channel_slots", "gauge", "The channel's ring size.");
    for (const ChannelSample& channel : channels) {
        out.sample("dhub_channel_slots", {{"graph", graph}, {"channel", channel.name}},
                   std::uint64_t{channel.slot_count});
    }
    out.family("dhub_channel_reader_lag_slots", "gauge", "A lossless reader's unread slots (0 for latest-only ones).");
    for (const ChannelSample& channel : channels) {
        for (const ChannelSample::Reader& reader : channel.readers) {
            out.sample("dhub_channel_reader_lag_slots",
                       {{"graph", graph}, {"channel", channel.name}, {"reader", reader.name}}, reader.lag);
        }
    }
    out.family("dhub_channel_reader_skipped_slots_total", "counter",
               "Slots a latest-only reader passed over for a newer one.");
    for (const ChannelSample& channel : channels) {
        for (const ChannelSample::Reader& reader : channel.readers) {
            if (reader.latest) {
                out.sample("dhub_channel_reader_skipped_slots_total",
                           {{"graph", graph}, {"channel", channel.name}, {"reader", reader.name}}, reader.skipped);
            }
        }
    }
}

}  // namespace

std::string escape_label(const std::string& value) {
    std::string escaped;
    escaped.reserve(value.size());
    for (const char c : value) {
        switch (c) {
            case '\\':
                escaped += "\\\\";
                break;
            case '"':
                escaped += "\\\"";
                break;
            case '\n':
                escaped += "\\n";
                break;
            default:
                escaped += c;
        }
    }
    return escaped;
}

std::string render_prometheus(const counters::KernelCounters& kernel, const std::vector<ChannelSample>& channels) {
    Exposition out;
    kernel_metrics(out, kernel);
    node_state_metrics(out, kernel);
    node_flow_metrics(out, kernel);
    handler_histogram(out, kernel);
    pacing_metrics(out, kernel);
    input_metrics(out, kernel);
    channel_metrics(out, kernel.graph, channels);
    return out.take();
}

}  // namespace dhub::metrics
