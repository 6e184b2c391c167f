// SPDX-License-Identifier: Apache-2.0
// The Prometheus exposition text: every family once, HELP and TYPE before its samples, counters named _total,
// label values escaped, the handler histogram cumulative and consistent with its count and sum.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dhub/metrics/prometheus_text.hpp"

namespace dhub::metrics {
namespace {

counters::KernelCounters sample_kernel() {
    counters::KernelCounters kernel;
    kernel.graph = R"(beam "A" \ line)";
    kernel.segment_prefix = "beam-1";
    kernel.pid = 42;
    kernel.started_realtime_ns = 1'700'000'000'000'000'000;
    counters::NodeCounts source;
    source.id = "sim";
    source.component = "dhub.source.sim";
    source.isolation = "thread";
    source.state = counters::NodeState::Running;
    source.slots_out = 1000;
    source.bytes_out = 4'096'000;
    source.pacing_rate_hz = 1000;
    source.pacing_ticks = 1000;
    source.pacing_late_ticks = 3;
    counters::NodeCounts stage;
    stage.id = "stage";
    stage.component = "dhub.stage.scale";
    stage.isolation = "process";
    stage.state = counters::NodeState::Paused;
    stage.slots_in = 990;
    stage.slots_out = 990;
    stage.errors = 2;
    stage.swaps = 5;
    stage.max_swap_pause_ns = 21'000;
    stage.handler_histogram[10] = 7;  // [512, 1024) ns
    stage.handler_histogram[12] = 3;
    stage.handler_histogram[counters::HISTOGRAM_BUCKETS - 1] = 1;  // a second or more
    stage.sampled_handler_ns = 1'500'000'000;
    kernel.nodes = {source, stage};
    counters::InputCounts input;
    input.node = "stage";
    input.channel = "raw";
    input.latest = true;
    input.gaps = 17;
    input.gap_events = 4;
    kernel.inputs = {input};
    return kernel;
}

std::vector<ChannelSample> sample_channels() {
    return {{"raw", 1000, 64, {{"stage", true, 0, 17}}}, {"out", 990, 64, {{"rec", false, 3, 0}}}};
}

struct Line {
    std::string name;    ///< the metric name of a sample, or of a HELP / TYPE line
    std::string labels;  ///< between the braces
    std::string value;
    std::string kind;  ///< "help", "type" or "sample"
    std::string type;  ///< a TYPE line's type
};

std::vector<Line> lines_of(const std::string& text) {
    std::vector<Line> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        Line parsed;
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            parsed.kind = line.starts_with("# HELP ") ? "help" : "type";
            const std::string rest = line.substr(7);
            parsed.name = rest.substr(0, rest.find(' '));
            parsed.type = rest.substr(rest.find(' ') + 1);
        } else {
            parsed.kind = "sample";
            const auto brace = line.find('{');
            const auto space = line.rfind(' ');
            parsed.name = line.substr(0, brace == std::string::npos ? space : brace);
            if (brace != std::string::npos) parsed.labels = line.substr(brace + 1, line.rfind('}') - brace - 1);
            parsed.value = line.substr(space + 1);
        }
        lines.push_back(parsed);
    }
    return lines;
}

/// The family a sample belongs to: its name without a histogram's _bucket, _sum or _count.
std::string family_of(const std::string& name, const std::set<std::string>& histograms) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string cut = name.substr(0, name.size() - std::string(suffix).size());
        if (name.ends_with(suffix) && histograms.count(cut) != 0) return cut;
    }
    return name;
}

TEST(PrometheusText, EveryFamilyComesOnceWithHelpAndTypeBeforeItsSamples) {
    const std::vector<Line> lines = lines_of(render_prometheus(sample_kernel(), sample_channels()));
    std::set<std::string> histograms;
    std::set<std::string> finished;
    std::string current;
    std::map<std::string, std::string> types;
    for (std::size_t index = 0; index < lines.size(); ++index) {
        const Line& line = lines[index];
        if (line.kind == "help") {
            ASSERT_EQ(finished.count(line.name), 0u) << line.name << " appears twice";
            if (!current.empty()) finished.insert(current);
            current = line.name;
            ASSERT_LT(index + 1, lines.size());
            ASSERT_EQ(lines[index + 1].kind, "type") << line.name;
            continue;
        }
        if (line.kind == "type") {
            types[line.name] = line.type;
            if (line.type == "histogram") histograms.insert(line.name);
            if (line.type == "counter") {
                EXPECT_TRUE(line.name.ends_with("_total")) << line.name;
            }
            continue;
        }
        EXPECT_EQ(family_of(line.name, histograms), current) << "a sample outside its family: " << line.name;
        EXPECT_TRUE(line.name.starts_with("dhub_")) << line.name;
        EXPECT_NE(line.labels.find("graph=\"beam \\\"A\\\" \\\\ line\""), std::string::npos)
            << "every series names its graph, escaped: " << line.labels;
    }
    for (const char* expected :
         {"dhub_kernel_info", "dhub_node_state", "dhub_node_slots_total", "dhub_node_bytes_total",
          "dhub_node_errors_total", "dhub_node_swaps_total", "dhub_node_handler_seconds",
          "dhub_node_pacing_late_ticks_total", "dhub_input_gap_slots_total", "dhub_channel_reader_lag_slots"}) {
        EXPECT_EQ(types.count(expected), 1u) << expected;
    }
}

TEST(PrometheusText, ValuesAreTheCounters) {
    const std::string text = render_prometheus(sample_kernel(), sample_channels());
    const std::string graph = R"(graph="beam \"A\" \\ line")";
    for (const std::string& expected : {
             "dhub_node_slots_total{" + graph + ",node=\"sim\",direction=\"out\"} 1000\n",
             "dhub_node_slots_total{" + graph + ",node=\"stage\",direction=\"in\"} 990\n",
             "dhub_node_bytes_total{" + graph + ",node=\"sim\",direction=\"out\"} 4096000\n",
             "dhub_node_errors_total{" + graph + ",node=\"stage\"} 2\n",
             "dhub_node_swaps_total{" + graph + ",node=\"stage\"} 5\n",
             "dhub_node_swap_pause_max_seconds{" + graph + ",node=\"stage\"} 2.1e-05\n",
             "dhub_node_state{" + graph + ",node=\"stage\",state=\"paused\"} 1\n",
             "dhub_node_state{" + graph + ",node=\"stage\",state=\"running\"} 0\n",
             "dhub_node_info{" + graph + ",node=\"stage\",component=\"dhub.stage.scale\",isolation=\"process\"} 1\n",
             "dhub_node_pacing_late_ticks_total{" + graph + ",node=\"sim\"} 3\n",
             "dhub_input_gap_slots_total{" + graph + ",node=\"stage\",input=\"raw\"} 17\n",
             "dhub_input_gaps_total{" + graph + ",node=\"stage\",input=\"raw\"} 4\n",
             "dhub_channel_written_slots_total{" + graph + ",channel=\"out\"} 990\n",
             "dhub_channel_reader_lag_slots{" + graph + ",channel=\"out\",reader=\"rec\"} 3\n",
             "dhub_channel_reader_skipped_slots_total{" + graph + ",channel=\"raw\",reader=\"stage\"} 17\n",
             "dhub_kernel_info{" + graph + ",segment_prefix=\"beam-1\",pid=\"42\"} 1\n",
         }) {
        EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected;
    }
    // A node that is not paced has no pacing series; a lossless reader no skipped ones.
    EXPECT_EQ(text.find("dhub_node_pacing_ticks_total{" + graph + ",node=\"stage\""), std::string::npos);
    EXPECT_EQ(text.find("dhub_channel_reader_skipped_slots_total{" + graph + ",channel=\"out\""), std::string::npos);
}

TEST(PrometheusText, TheHandlerHistogramIsCumulativeAndAddsUp) {
    const std::vector<Line> lines = lines_of(render_prometheus(sample_kernel(), sample_channels()));
    std::uint64_t previous = 0;
    std::uint64_t infinite = 0;
    std::uint64_t count = 0;
    double sum = 0;
    std::size_t buckets = 0;
    for (const Line& line : lines) {
        if (line.kind != "sample" || line.labels.find("node=\"stage\"") == std::string::npos) continue;
        if (line.name == "dhub_node_handler_seconds_bucket") {
            ++buckets;
            const std::uint64_t value = std::stoull(line.value);
            EXPECT_GE(value, previous) << line.labels;
            previous = value;
            if (line.labels.find("le=\"+Inf\"") != std::string::npos) infinite = value;
            if (line.labels.find("le=\"1.024e-06\"") != std::string::npos) {
                EXPECT_EQ(value, 7u) << "[512, 1024) ns";
            }
        }
        if (line.name == "dhub_node_handler_seconds_count") count = std::stoull(line.value);
        if (line.name == "dhub_node_handler_seconds_sum") sum = std::stod(line.value);
    }
    EXPECT_EQ(buckets, counters::HISTOGRAM_BUCKETS);
    EXPECT_EQ(infinite, 11u);
    EXPECT_EQ(count, 11u);
    EXPECT_DOUBLE_EQ(sum, 1.5);
}

TEST(PrometheusText, LabelValuesAreEscaped) {
    EXPECT_EQ(escape_label("plain"), "plain");
    EXPECT_EQ(escape_label("a\"b"), "a\\\"b");
    EXPECT_EQ(escape_label("a\\b"), "a\\\\b");
    EXPECT_EQ(escape_label("a\nb"), "a\\nb");
}

}  // namespace
}  // namespace dhub::metrics
