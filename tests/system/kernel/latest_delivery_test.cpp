// SPDX-License-Identifier: Apache-2.0
// Delivery chosen per input inside dhub-kernel: a source writes 64 KiB counter frames as fast as it can into a
// lossless channel; a checking sink reads it losslessly and a slow viewer (100 ms in every frame) reads it with
// "delivery": "latest". The lossless reader gets every frame, the viewer only whole ones, and the viewer never
// holds the source back: the source writes far more than the ring times the viewer's frames.
#include <gtest/gtest.h>

#include <string>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr std::uint64_t FRAME_BYTES = 64 * 1024;
constexpr std::uint32_t RING_SLOTS = 8;
constexpr int VIEWER_US = 100'000;

json frame_node(const std::string& id, const std::string& component) {
    return {{"id", id}, {"plugin", "test_frames"}, {"component", component}, {"on_error", {{"action", "continue"}}}};
}

/// src -> cam (lossless: `sync`) -> recorder (every frame)
///                              -> viewer ({"channel": "cam", "delivery": "latest"}, 100 ms per frame)
json viewer_graph(const std::string& sync) {
    json source = frame_node("src", "test.source.counter_frames");
    source["outputs"] = {"cam"};
    json recorder = frame_node("recorder", "test.sink.whole_frames");
    recorder["inputs"] = {"cam"};
    recorder["params"] = {{"delay_us", 0}};
    json viewer = frame_node("viewer", "test.sink.whole_frames");
    viewer["inputs"] = json::array({{{"channel", "cam"}, {"delivery", "latest"}}});
    viewer["params"] = {{"delay_us", VIEWER_US}};
    return {{"schema_version", 1},
            {"name", "viewer"},
            {"channels", {{{"name", "cam"}, {"slot_bytes", FRAME_BYTES}, {"slot_count", RING_SLOTS}, {"sync", sync}}}},
            {"nodes", {source, recorder, viewer}}};
}

class LatestViewerInTheKernel : public ::testing::TestWithParam<std::string> {};

TEST_P(LatestViewerInTheKernel, TheRecorderGetsEveryFrameAndTheViewerNeverHoldsTheSourceBack) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, viewer_graph(GetParam())), {"--duration", "1.5"});
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const json source = run.node("src");
    const json recorder = run.node("recorder");
    const json viewer = run.node("viewer");
    ASSERT_FALSE(source.is_null() || recorder.is_null() || viewer.is_null()) << run.report.dump();

    const auto produced = source["handled"].get<std::uint64_t>();
    const auto viewed = viewer["handled"].get<std::uint64_t>();
    EXPECT_EQ(recorder["handled"].get<std::uint64_t>(), produced) << "the lossless reader missed frames";
    EXPECT_EQ(recorder["errors"], 0) << run.output;
    EXPECT_EQ(viewer["errors"], 0) << "torn frames reached the viewer\n" << run.output;
    EXPECT_GE(viewed, 2u) << run.report.dump();
    // A viewer the source waited for would let it write at most a ring per frame viewed.
    EXPECT_GT(produced, 10 * RING_SLOTS * (viewed + 1)) << run.report.dump();
    EXPECT_GT(viewer["latest_skipped"].get<std::uint64_t>(), produced / 2) << run.report.dump();
}

INSTANTIATE_TEST_SUITE_P(EveryReaderAndSingleReader,
                         LatestViewerInTheKernel,
                         ::testing::Values("every_reader", "single_reader"));

}  // namespace
}  // namespace dhub::testing
