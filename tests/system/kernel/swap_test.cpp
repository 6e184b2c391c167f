// SPDX-License-Identifier: Apache-2.0
// dhub-ctl swap on a running dhub-kernel (docs/control.md, "swap"): a stage replaced a hundred times at 1 kHz x
// 4 KiB loses no slot and repeats none; a latest-only input counts what passes meanwhile; a component that cannot
// be loaded, created or started, or that would change a channel's schema, leaves the old one running; a step that
// does not end makes the swap give up, and nothing changes.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "dhub/formats/waveform.hpp"
#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

/// One channel of 504 samples: 64 + 504 * 8 = 4096 bytes a frame.
constexpr std::uint32_t SAMPLES = 504;
static_assert(formats::waveform_frame_bytes(1, SAMPLES) == 4096);

json waveform_graph(const std::string& name, const TempDir& dir, const std::string& raw_sync) {
    return scaled_waveform_graph(name, dir, SAMPLES, raw_sync);
}

constexpr const char* COPY = "test.stage.tick_copy";

/// tick (as fast as it can) -> ticks -> copy -> copied -> sink (which counts every tick out of order as an error)
json copy_graph(const std::string& name, const json& copy_extra = json::object()) {
    json copy = {{"id", "copy"},
                 {"plugin", "test_swappable"},
                 {"component", COPY},
                 {"inputs", {"ticks"}},
                 {"outputs", {"copied"}}};
    copy.update(copy_extra);
    return {{"schema_version", 1},
            {"name", name},
            {"channels",
             {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}},
              {{"name", "copied"}, {"slot_bytes", 64}, {"slot_count", 8}}}},
            {"nodes",
             {{{"id", "tick"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
              copy,
              {{"id", "sink"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"copied"}}}}}};
}

CtlRun swap(const TempDir& dir, const std::string& pid, std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "swap");
    arguments.insert(arguments.end(), {"--kernel", pid});
    return ctl(dir, arguments);
}

TEST(Swap_test, AHundredSwapsAtOneKilohertzLoseNoSlotAndRepeatNone) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, waveform_graph("swap100", dir, "every_reader")));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec");

    std::uint64_t longest_pause_ns = 0;
    std::uint64_t total_pause_ns = 0;
    std::uint64_t last_fence = 0;
    for (int swap_index = 0; swap_index < 100; ++swap_index) {
        // Back and forth between two stages that pass a frame on unchanged, each in its own way.
        const bool to_decimate = swap_index % 2 == 0;
        const CtlRun swapped =
            to_decimate ? swap(dir, pid, {"stage", "--plugin", "decimate", "--params", R"({"factor": 1})", "--json"})
                        : swap(dir, pid, {"stage", "--plugin", "scale", "--params", R"({"gain": 1.0})", "--json"});
        ASSERT_EQ(swapped.code, 0) << "swap " << swap_index << ": " << swapped.err;
        const json& answer = swapped.value;
        EXPECT_EQ(answer["to"], to_decimate ? "dhub.stage.decimate" : "dhub.stage.scale");
        EXPECT_EQ(answer["from"], to_decimate ? "dhub.stage.scale" : "dhub.stage.decimate");
        // The fence moves forward, and input and output move together: every frame in gave one frame out.
        const auto fence = answer["input_sequence"].get<std::uint64_t>();
        EXPECT_GE(fence, last_fence);
        EXPECT_EQ(answer["output_sequence"].get<std::uint64_t>(), fence);
        last_fence = fence;
        const auto pause = answer["pause_ns"].get<std::uint64_t>();
        longest_pause_ns = std::max(longest_pause_ns, pause);
        total_pause_ns += pause;
    }
    const json stage = node_of(dir, pid, "stage");
    EXPECT_EQ(stage["swaps"], 100);
    EXPECT_EQ(stage["component"], "dhub.stage.scale") << "the page names the component that runs now";
    EXPECT_EQ(stage["max_swap_pause_ns"].get<std::uint64_t>(), longest_pause_ns);
    std::cout << "[ figures  ] 100 swaps at 1 kHz x 4 KiB: longest pause "
              << static_cast<double>(longest_pause_ns) / 1e3 << " us, mean "
              << static_cast<double>(total_pause_ns) / 100 / 1e3 << " us\n";

    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const std::vector<std::uint64_t> frames = recorded_frames(dir / "out.dhr");
    ASSERT_EQ(frames.size(), run.node("sim")["slots_out"].get<std::uint64_t>()) << "every frame made was recorded";
    for (std::size_t index = 0; index < frames.size(); ++index) {
        ASSERT_EQ(frames[index], index) << "frame " << index << " is missing, repeated or out of order";
    }
    EXPECT_GT(frames.size(), last_fence) << "frames went on after the last swap";
    EXPECT_EQ(run.node("stage")["errors"], 0);
    EXPECT_EQ(count_events(dir, "node_swapped", {{"node", "stage"}}), 100u);
    EXPECT_EQ(count_events(dir, "control", {{"command", "swap"}, {"ok", true}}), 100u);
}

TEST(Swap_test, ALatestOnlyInputCountsTheSlotsThatPassDuringASwap) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, waveform_graph("swaplatest", dir, "latest_only")));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec");
    for (int swap_index = 0; swap_index < 20; ++swap_index) {
        const CtlRun swapped = swap_index % 2 == 0
                                   ? swap(dir, pid, {"stage", "--plugin", "decimate", "--params", R"({"factor": 1})"})
                                   : swap(dir, pid, {"stage", "--plugin", "scale", "--params", R"({"gain": 1.0})"});
        ASSERT_EQ(swapped.code, 0) << swapped.err;
    }
    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const std::vector<std::uint64_t> frames = recorded_frames(dir / "out.dhr");
    ASSERT_FALSE(frames.empty());
    EXPECT_TRUE(std::adjacent_find(frames.begin(), frames.end(), std::greater_equal<>()) == frames.end())
        << "a latest-only reader may miss frames, never repeat one or go back";
    // What the stage never read is in its ledger, to the slot: nothing is lost silently.
    const auto made = run.node("sim")["slots_out"].get<std::uint64_t>();
    const auto missed = run.node("stage")["latest_skipped"].get<std::uint64_t>();
    EXPECT_EQ(frames.size() + missed, made) << frames.size() << " recorded, " << missed << " counted as missed";
}

TEST(Swap_test, AComponentThatCannotRunLeavesTheOldOneRunning) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, copy_graph("swapfail")));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "sink");

    struct Refused {
        std::vector<std::string> arguments;
        std::string says;
    };
    const std::vector<Refused> refused = {
        {{"copy", "--plugin", "nosuch"}, "plugin 'nosuch' could not be loaded"},
        {{"copy", "--plugin", "test_swappable", "--component", COPY, "--params", R"({"fail_create": true})"},
         "detector /dev/imaginary1 is busy"},
        {{"copy", "--plugin", "test_swappable", "--component", COPY, "--params", R"({"fail_start": true})"},
         "the detector did not answer its start command"},
        {{"copy", "--plugin", "test_swappable", "--component", COPY, "--params", R"({"stall_ms": "long"})"},
         "/nodes/1/params/stall_ms"},
        {{"copy", "--plugin", "test_swappable", "--component", "test.stage.tick_other"},
         "channel 'copied' carries test.other@1 (written by node 'copy') but node 'sink'"},
        {{"copy", "--plugin", "test_ticker", "--component", "test.stage.ticker_relay"}, "queue mode"},
        {{"tick", "--plugin", "test_swappable", "--component", COPY}, "takes 1 input"},
        {{"nobody", "--plugin", "test_swappable"}, "the graph has no node 'nobody'"},
    };
    for (const Refused& attempt : refused) {
        const std::uint64_t before = slots_in(dir, pid, "sink");
        const CtlRun run = swap(dir, pid, attempt.arguments);
        EXPECT_EQ(run.code, 1) << attempt.arguments[2];
        EXPECT_NE(run.err.find(attempt.says), std::string::npos) << run.err;
        const json copy = node_of(dir, pid, "copy");
        EXPECT_EQ(copy["state"], "running") << run.err;
        EXPECT_EQ(copy["component"], "test.stage.tick_copy");
        EXPECT_EQ(copy["swaps"], 0);
        wait_flowing(dir, pid, "sink", before + 100);  // the old instance runs on
    }
    EXPECT_EQ(ctl(dir, {"swap", "copy", "--kernel", pid}).code, 2) << "swap needs --plugin";
    EXPECT_EQ(ctl(dir, {"swap", "copy", "--plugin", "p", "--params", "[1]", "--kernel", pid}).code, 2);
    EXPECT_EQ(ctl(dir, {"pause", "copy", "--plugin", "p", "--kernel", pid}).code, 2);

    // A paused node is swapped as it is, and stays paused until resumed.
    ASSERT_EQ(ctl(dir, {"pause", "copy", "--kernel", pid}).code, 0);
    const CtlRun swapped = swap(dir, pid, {"copy", "--plugin", "test_swappable", "--component", COPY, "--json"});
    ASSERT_EQ(swapped.code, 0) << swapped.err;
    EXPECT_EQ(swapped.value["to"], "test.stage.tick_copy");
    const json paused = node_of(dir, pid, "copy");
    EXPECT_EQ(paused["state"], "paused");
    EXPECT_EQ(paused["swaps"], 1);
    ASSERT_EQ(ctl(dir, {"resume", "copy", "--kernel", pid}).code, 0);
    wait_flowing(dir, pid, "sink", slots_in(dir, pid, "sink") + 100);

    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(run.node("sink")["errors"], 0) << "every tick arrived once and in order: " << run.output;
    EXPECT_EQ(run.node("sink")["slots_in"], run.node("tick")["slots_out"]);
    EXPECT_EQ(count_events(dir, "node_swapped", {{"node", "copy"}}), 1u);
    EXPECT_EQ(count_events(dir, "control", {{"command", "swap"}, {"ok", false}}), refused.size());
}

TEST(Swap_test, AStepThatDoesNotEndMakesTheSwapGiveUpAndNothingChanges) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, copy_graph("swapstall")));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "sink");
    // The new instance holds its first slot for 6.5 s: the next swap finds no step boundary for 5 s.
    const CtlRun stalling = swap(
        dir, pid, {"copy", "--plugin", "test_swappable", "--component", COPY, "--params", R"({"stall_ms": 6500})"});
    ASSERT_EQ(stalling.code, 0) << stalling.err;
    const CtlRun gave_up = swap(dir, pid, {"copy", "--plugin", "test_swappable", "--component", COPY});
    EXPECT_EQ(gave_up.code, 1);
    EXPECT_NE(gave_up.err.find("did not finish its step within 5 s"), std::string::npos) << gave_up.err;
    EXPECT_NE(gave_up.err.find("nothing was changed"), std::string::npos) << gave_up.err;
    EXPECT_EQ(node_of(dir, pid, "copy")["swaps"], 1);
    // Once the step ends, slots flow again, through the instance that stalled.
    wait_flowing(dir, pid, "sink", slots_in(dir, pid, "sink") + 100);
    EXPECT_EQ(node_of(dir, pid, "copy")["swaps"], 1) << "the withdrawn swap never happens later";
    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(run.node("sink")["errors"], 0) << run.output;
}

TEST(Swap_test, APacedSourceWaitingForItsNextTickIsSwappedAtOnce) {
    TempDir dir;
    json graph = waveform_graph("swappaced", dir, "every_reader");
    // One frame every 20 s: its thread sleeps until the next tick almost all the time.
    graph["nodes"][0]["params"]["rate_hz"] = 1e6;
    graph["nodes"][0]["pacing"] = {{"rate_hz", 0.05}};
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec", 0);
    const CtlRun swapped =
        swap(dir, pid,
             {"sim", "--plugin", "sim_source", "--params",
              json{{"waveform", "counter"}, {"channels", 1}, {"samples_per_channel", SAMPLES}, {"rate_hz", 5e5}}.dump(),
              "--json"});
    ASSERT_EQ(swapped.code, 0) << swapped.err;
    EXPECT_LT(swapped.value["waited_ns"].get<std::uint64_t>(), 2'000'000'000u) << "woken from its tick's wait";
    EXPECT_TRUE(swapped.value["input_sequence"].is_null()) << "a source has no input";
    EXPECT_EQ(swapped.value["output_sequence"], 1) << "one frame was made, on the first tick";
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
}

TEST(Swap_test, NodesWithoutAStepBoundaryAreRefused) {
    TempDir dir;
    // The copy runs in a process of its own; a queue-mode relay reads the same ticks.
    json graph = copy_graph("swapnot", {{"isolation", "process"}});
    graph["channels"].push_back({{"name", "relayed"}, {"slot_bytes", 64}, {"slot_count", 8}});
    graph["nodes"].push_back({{"id", "relay"},
                              {"plugin", "test_ticker"},
                              {"component", "test.stage.ticker_relay"},
                              {"inputs", {"ticks"}},
                              {"outputs", {"relayed"}}});
    graph["nodes"].push_back(
        {{"id", "sink2"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"relayed"}}});
    // A copy whose reader takes any schema: the graph would validate with another one, the channel's readers not.
    graph["channels"].push_back({{"name", "copied2"}, {"slot_bytes", 64}, {"slot_count", 8}});
    graph["nodes"].push_back({{"id", "copy2"},
                              {"plugin", "test_swappable"},
                              {"component", COPY},
                              {"inputs", {"ticks"}},
                              {"outputs", {"copied2"}}});
    graph["nodes"].push_back({{"id", "rec2"},
                              {"plugin", "recorder"},
                              {"params", {{"path", (dir / "copied2.dhr").string()}}},
                              {"inputs", {"copied2"}}});
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "sink");
    const CtlRun isolated = swap(dir, pid, {"copy", "--plugin", "test_swappable", "--component", COPY});
    EXPECT_EQ(isolated.code, 1);
    EXPECT_NE(isolated.err.find("runs in a process of its own"), std::string::npos) << isolated.err;
    const CtlRun queue = swap(dir, pid, {"relay", "--plugin", "test_swappable"});
    EXPECT_EQ(queue.code, 1);
    EXPECT_NE(queue.err.find("queue mode"), std::string::npos) << queue.err;
    const CtlRun schema =
        swap(dir, pid, {"copy2", "--plugin", "test_swappable", "--component", "test.stage.tick_other"});
    EXPECT_EQ(schema.code, 1);
    EXPECT_NE(schema.err.find("would make channel 'copied2' carry test.other@1 instead of test.tick@1"),
              std::string::npos)
        << schema.err;
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
}

}  // namespace
}  // namespace dhub::testing
