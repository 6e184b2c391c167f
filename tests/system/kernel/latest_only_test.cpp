// SPDX-License-Identifier: Apache-2.0
// Latest-only channels inside dhub-kernel never hand a handler a slot the producer is rewriting: a source
// filling 64 KiB counter frames as fast as it can, and a slow sink and a slow stage reading the same
// double-buffered / ring-of-4 latest-only channel. Every frame that reaches a sink must be whole (all its
// samples from one source frame), slot by slot and in bursts, in one kernel and across two kernels.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr std::uint64_t FRAME_BYTES = 64 * 1024;
/// Time a slow reader spends inside each frame: long enough that even a sanitizer-slowed source (~7 k
/// frames/s under TSan, ~200 k/s otherwise) rewrites the ring many times while a frame is held.
constexpr int SLOW_READER_US = 1000;

json frame_node(const std::string& id, const std::string& component, std::uint32_t burst) {
    return {{"id", id},
            {"plugin", "test_frames"},
            {"component", component},
            {"burst", burst},
            {"on_error", {{"action", "continue"}}}};
}

/// src -> cam (latest_only, `slots`) -> check_direct
///                                   -> copy (stage) -> copied (every_reader) -> check_copied
json whole_frames_graph(std::uint32_t slots, std::uint32_t burst) {
    json source = frame_node("src", "test.source.counter_frames", burst);
    source["outputs"] = {"cam"};
    json direct = frame_node("check_direct", "test.sink.whole_frames", burst);
    direct["inputs"] = {"cam"};
    direct["params"] = {{"delay_us", SLOW_READER_US}};
    json copy = frame_node("copy", "test.stage.copy_in_halves", burst);
    copy["inputs"] = {"cam"};
    copy["outputs"] = {"copied"};
    copy["params"] = {{"delay_us", SLOW_READER_US}};
    json copied = frame_node("check_copied", "test.sink.whole_frames", burst);
    copied["inputs"] = {"copied"};
    copied["params"] = {{"delay_us", 0}};
    return {{"schema_version", 1},
            {"name", "latest"},
            {"channels",
             {{{"name", "cam"}, {"slot_bytes", FRAME_BYTES}, {"slot_count", slots}, {"sync", "latest_only"}},
              {{"name", "copied"}, {"slot_bytes", FRAME_BYTES}, {"slot_count", 8}, {"sync", "every_reader"}}}},
            {"nodes", {source, direct, copy, copied}}};
}

class LatestOnlyWholeFrames : public ::testing::TestWithParam<std::tuple<std::uint32_t, std::uint32_t>> {};

TEST_P(LatestOnlyWholeFrames, EveryFrameThatReachesASinkIsWhole) {
    const auto [slots, burst] = GetParam();
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, whole_frames_graph(slots, burst)), {"--duration", "1.5"});
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const json source = run.node("src");
    const json direct = run.node("check_direct");
    const json copy = run.node("copy");
    const json copied = run.node("check_copied");
    ASSERT_FALSE(source.is_null() || direct.is_null() || copy.is_null() || copied.is_null()) << run.report.dump();

    // The race must really be run: the source far outpaces both slow readers.
    const auto produced = source["handled"].get<std::uint64_t>();
    const auto checked = direct["handled"].get<std::uint64_t>();
    EXPECT_GE(checked, 100u) << run.report.dump();
    EXPECT_GE(copied["handled"].get<std::uint64_t>(), 100u) << run.report.dump();
    EXPECT_GT(produced, 5 * checked) << run.report.dump();

    EXPECT_EQ(direct["errors"], 0) << "torn frames reached the sink\n" << run.output;
    EXPECT_EQ(copied["errors"], 0) << "a stage published a frame made from a torn input\n" << run.output;
    EXPECT_EQ(copy["errors"], 0) << run.output;
    // Nothing was caught torn after the fact either: the producer never reused a held slot.
    EXPECT_EQ(direct["overwritten"], 0) << run.report.dump();
    EXPECT_EQ(copy["overwritten"], 0) << run.report.dump();
    RecordProperty("source_frames", std::to_string(produced));
}

INSTANTIATE_TEST_SUITE_P(DoubleBufferAndRingOfFour,
                         LatestOnlyWholeFrames,
                         ::testing::Combine(::testing::Values(2u, 4u), ::testing::Values(1u, 32u)),
                         [](const auto& param_info) {
                             return "ring" + std::to_string(std::get<0>(param_info.param)) + "_burst" +
                                    std::to_string(std::get<1>(param_info.param));
                         });

}  // namespace
}  // namespace dhub::testing
