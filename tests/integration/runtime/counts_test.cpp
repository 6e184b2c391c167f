// SPDX-License-Identifier: Apache-2.0
// Every path a slot takes through a node counts it once, with its bytes: slot by slot, in bursts (source,
// stage, sink), in queue mode (pull and push). A graph of known frames runs to its end, and what each node
// says it took and published must be what the one before it published.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/graph_under_test.hpp"

namespace dhub::runtime {
namespace {

using dhub::testing::report_of;
using nlohmann::json;

constexpr std::uint64_t FRAMES = 3000;

/// Runs the graph to its end (its source's last frame) and returns every node's report.
std::vector<NodeReport> run(const json& graph) {
    dhub::testing::GraphUnderTest under_test(graph.dump(), {DHUB_PLUGIN_DIR, DHUB_TEST_PLUGIN_DIR});
    EXPECT_EQ(under_test.problems(), "");
    auto runner = under_test.runner();
    EXPECT_TRUE(runner) << runner.error().error.message;
    if (!runner) return {};
    EXPECT_EQ(runner.value()->run_for(std::chrono::seconds(60)), ExitCode::Ok);
    return runner.value()->reports();
}

void expect_moved(const NodeReport& node, std::uint64_t in, std::uint64_t out, std::uint64_t slot_bytes) {
    EXPECT_EQ(node.slots_in, in) << node.id;
    EXPECT_EQ(node.bytes_in, in * slot_bytes) << node.id;
    EXPECT_EQ(node.slots_out, out) << node.id;
    EXPECT_EQ(node.bytes_out, out * slot_bytes) << node.id;
}

TEST(Counts_test, SlotBySlotAndInQueueModeEverySlotIsCountedOnceWithItsBytes) {
    // tick -> ticks -> relay (queue mode: pull, push) -> relayed -> sink (bursts of 16)
    const json graph = {{"schema_version", 1},
                        {"channels",
                         {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 32}},
                          {{"name", "relayed"}, {"slot_bytes", 64}, {"slot_count", 32}}}},
                        {"nodes",
                         {{{"id", "tick"},
                           {"plugin", "test_ticker"},
                           {"component", "test.source.ticker"},
                           {"params", {{"count", FRAMES}}},
                           {"outputs", {"ticks"}}},
                          {{"id", "relay"},
                           {"plugin", "test_ticker"},
                           {"component", "test.stage.ticker_relay"},
                           {"inputs", {"ticks"}},
                           {"outputs", {"relayed"}}},
                          {{"id", "sink"},
                           {"plugin", "test_ticker"},
                           {"component", "test.sink.ticker"},
                           {"burst", 16},
                           {"inputs", {"relayed"}}}}}};
    const std::vector<NodeReport> reports = run(graph);
    ASSERT_EQ(reports.size(), 3u);
    constexpr std::uint64_t TICK_BYTES = 8;  // test_ticker's Tick: one std::uint64_t
    expect_moved(report_of(reports, "tick"), 0, FRAMES, TICK_BYTES);
    expect_moved(report_of(reports, "relay"), FRAMES, FRAMES, TICK_BYTES);
    expect_moved(report_of(reports, "sink"), FRAMES, 0, TICK_BYTES);
    EXPECT_GT(report_of(reports, "sink").burst_calls, 0u) << "the sink took its slots in bursts";
}

TEST(Counts_test, InBurstsOfASourceAndAStageEverySlotIsCountedOnceWithItsBytes) {
    // sim (bursts of 8) -> raw -> scale (bursts of 8) -> scaled -> stats (slot by slot: it has no burst handler)
    const json graph = {
        {"schema_version", 1},
        {"channels",
         {{{"name", "raw"}, {"slot_bytes", 4096}, {"slot_count", 32}, {"schema", "dhub.waveform.f64@1"}},
          {{"name", "scaled"}, {"slot_bytes", 4096}, {"slot_count", 32}, {"schema", "dhub.waveform.f64@1"}}}},
        {"nodes",
         {{{"id", "sim"},
           {"plugin", "sim_source"},
           {"burst", 8},
           {"params", {{"channels", 1}, {"samples_per_channel", 64}, {"rate_hz", 1000000}, {"max_frames", FRAMES}}},
           {"outputs", {"raw"}}},
          {{"id", "scale"}, {"plugin", "scale"}, {"burst", 8}, {"inputs", {"raw"}}, {"outputs", {"scaled"}}},
          {{"id", "stats"}, {"plugin", "stats"}, {"inputs", {"scaled"}}}}}};
    const std::vector<NodeReport> reports = run(graph);
    ASSERT_EQ(reports.size(), 3u);
    const NodeReport& sim = report_of(reports, "sim");
    ASSERT_EQ(sim.slots_out, FRAMES);
    const std::uint64_t frame_bytes = sim.bytes_out / FRAMES;
    EXPECT_EQ(sim.bytes_out, FRAMES * frame_bytes) << "every frame has the same size";
    EXPECT_GT(frame_bytes, 64u * 8) << "a frame holds its samples and its header";
    expect_moved(report_of(reports, "scale"), FRAMES, FRAMES, frame_bytes);
    expect_moved(report_of(reports, "stats"), FRAMES, 0, frame_bytes);
    EXPECT_GT(sim.burst_calls, 0u);
    EXPECT_GT(report_of(reports, "scale").burst_calls, 0u);
}

}  // namespace
}  // namespace dhub::runtime
