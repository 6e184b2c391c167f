// SPDX-License-Identifier: Apache-2.0
// The byte-level built-ins (throttle, decimate) in a real dhub-kernel on a custom 24-byte slot struct, not
// a waveform: the graph validates, every kept slot arrives intact, and the report counts what was kept
// and skipped.
#include <gtest/gtest.h>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr std::uint64_t READINGS = 1000;
constexpr std::uint64_t SPACING_US = 1000;  // 1 ms apart: one second of data time
constexpr std::uint64_t READING_BYTES = 24;

/// readings source -> stage -> reading check, on lossless channels so only the stage drops slots.
json graph_with(const json& stage) {
    return {
        {"schema_version", 1},
        {"channels",
         {{{"name", "readings"}, {"slot_bytes", READING_BYTES}, {"sync", "every_reader"}},
          // The stage writes "*": the channel names what it carries, so the sink's input is checked.
          {{"name", "kept"}, {"slot_bytes", READING_BYTES}, {"sync", "every_reader"}, {"schema", "test.reading@1"}}}},
        {"nodes",
         {{{"id", "source"},
           {"plugin", "test_readings"},
           {"component", "test.source.readings"},
           {"params", {{"count", READINGS}, {"spacing_us", SPACING_US}}},
           {"outputs", {"readings"}}},
          stage,
          {{"id", "check"}, {"plugin", "test_readings"}, {"component", "test.sink.readings"}, {"inputs", {"kept"}}}}}};
}

json stage_node(const std::string& plugin, const json& params) {
    return {{"id", "stage"}, {"plugin", plugin}, {"params", params}, {"inputs", {"readings"}}, {"outputs", {"kept"}}};
}

void expect_kept(const KernelRun& run, std::uint64_t kept) {
    EXPECT_EQ(run.node("source")["slots_out"], READINGS) << run.report.dump();
    EXPECT_EQ(run.node("stage")["slots_in"], READINGS) << run.report.dump();
    EXPECT_EQ(run.node("stage")["slots_out"], kept) << run.report.dump();
    EXPECT_EQ(run.node("stage")["skipped"], READINGS - kept) << run.report.dump();
    EXPECT_EQ(run.node("stage")["errors"], 0U) << run.output;
    EXPECT_EQ(run.node("check")["slots_in"], kept) << run.report.dump();
    EXPECT_EQ(run.node("check")["errors"], 0U) << run.output;
}

TEST(ByteStages, ThrottleKeepsTheRateOfACustomStructBySlotTime) {
    TempDir dir;
    // 1000 readings over one second of slot time, produced as fast as the kernel runs: 100 Hz keeps 100.
    const KernelRun run = run_kernel(dir, write_graph(dir, graph_with(stage_node("throttle", {{"max_rate_hz", 100}}))));

    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    expect_kept(run, 100);
}

TEST(ByteStages, DecimatePassesACustomStruct) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, graph_with(stage_node("decimate", {{"factor", 4}}))));

    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    expect_kept(run, READINGS / 4);
}

}  // namespace
}  // namespace dhub::testing
