// SPDX-License-Identifier: Apache-2.0
// Fused stages (docs/kernel.md, "Fused stages"): when a graph's node threads outnumber the kernel's CPUs (taskset
// gives it one here), a burst stage runs on the thread of the node that writes its input, right after that node's
// own step, while its own thread sleeps. Every slot still arrives once and in order, through a chain of two, across
// a pause and a swap, and when the source ends the stage's own thread drains the rest; "fuse": false keeps a stage
// on its own thread.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr const char* TASKSET = "/usr/bin/taskset";
constexpr std::uint32_t SAMPLES = 504;  // 64 + 504 * 8 = 4096 bytes a frame
/// sim's highest rate: faster than the recorder writes, so slots wait in the rings.
constexpr double FAST = 1e6;
/// A rate for graphs that run until stopped: 20 MB/s into the recording.
constexpr double STEADY = 5000;

/// taskset -c <the first CPU of the test's affinity mask>: the kernel gets one CPU. Empty without taskset.
std::vector<std::string> on_one_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::access(TASKSET, X_OK) != 0 || ::sched_getaffinity(0, sizeof set, &set) != 0) return {};
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) return {TASKSET, "-c", std::to_string(cpu)};
    }
    return {};
}

/// sim -> raw -> stage (scale) -> out -> rec, sim making max_frames frames (0: until stopped) at rate_hz.
json scaled_graph(const std::string& name, const TempDir& dir, std::uint64_t max_frames, double rate_hz) {
    json graph = scaled_waveform_graph(name, dir, SAMPLES, "every_reader");
    graph["nodes"][0]["params"]["max_frames"] = max_frames;
    graph["nodes"][0]["params"]["rate_hz"] = rate_hz;
    return graph;
}

/// The stage_fused events the kernel wrote, as {node: upstream}.
std::map<std::string, std::string> fused_stages(const TempDir& dir) {
    std::map<std::string, std::string> fused;
    for (const json& event : read_events(dir)) {
        if (event["event"] == "stage_fused") fused[event["node"].get<std::string>()] = event["upstream"];
    }
    return fused;
}

/// The CPU time (ns) of the kernel's thread named `name` (a node's thread is named after the node), from its
/// schedstat; -1 when there is no such thread or the kernel keeps no schedstat.
long long thread_cpu_ns(pid_t kernel, const std::string& name) {
    const std::filesystem::path tasks = "/proc/" + std::to_string(kernel) + "/task";
    std::error_code error;
    for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
        std::string comm;
        std::getline(std::ifstream(task.path() / "comm"), comm);
        if (comm != name) continue;
        long long on_cpu_ns = -1;
        std::ifstream(task.path() / "schedstat") >> on_cpu_ns;
        return on_cpu_ns;
    }
    return -1;
}

/// Every frame sim made reached the recording once, in order.
void expect_every_frame_once(const TempDir& dir, const KernelRun& run) {
    const std::vector<std::uint64_t> frames = recorded_frames(dir / "out.dhr");
    ASSERT_EQ(frames.size(), run.node("sim")["slots_out"].get<std::uint64_t>()) << "every frame made was recorded";
    for (std::size_t index = 0; index < frames.size(); ++index) {
        ASSERT_EQ(frames[index], index) << "frame " << index << " is missing, repeated or out of order";
    }
}

/// Pauses the recorder and waits until sim has made both rings' 64 slots beyond what the recorder took: the stage's
/// output is full, the stage waits for room (on its own thread: sim's never waits for it) and sim fills its own
/// ring. Returns the frames sim made by then; 0, with a test failure, if it stopped short.
std::uint64_t pause_recorder_until_both_rings_fill(const TempDir& dir, const std::string& pid) {
    if (ctl(dir, {"pause", "rec", "--kernel", pid}).code != 0) {
        ADD_FAILURE() << "dhub-ctl pause rec failed";
        return 0;
    }
    const auto rec_in = [&] { return slots_in(dir, pid, "rec"); };
    std::uint64_t made = 0;
    if (wait_until([&] {
            made = node_of(dir, pid, "sim")["slots_out"].get<std::uint64_t>();
            return made >= rec_in() + 128;
        })) {
        return made;
    }
    ADD_FAILURE() << "sim stopped at " << made << " frames, the recorder took " << rec_in()
                  << ": it waited for the stage with room in its own ring";
    return 0;
}

TEST(StageFusion, OnACrowdedCpuTheStageRunsOnItsSourcesThreadWhileItsOwnSleeps) {
    const std::vector<std::string> one_cpu = on_one_cpu();
    if (one_cpu.empty()) GTEST_SKIP() << "needs " << TASKSET;
    TempDir dir;
    // 2 kHz, one frame a tick.
    ChildProcess kernel = start_kernel(dir, write_graph(dir, scaled_graph("fused", dir, 0, 2000)), {}, one_cpu);
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec", 2000);
    // The stage's work is done on sim's thread: the stage's own thread only looks once a 100 ms slice.
    const long long stage_ns = thread_cpu_ns(kernel.pid(), "stage");
    const long long sim_ns = thread_cpu_ns(kernel.pid(), "sim");
    if (stage_ns < 0 || sim_ns < 0) {
        std::cout << "[ skipped  ] which thread ran the stage: no schedstat for the kernel's threads here\n";
    } else {
        std::cout << "[ figures  ] CPU time so far: the stage's own thread " << stage_ns / 1000 << " us, sim's "
                  << sim_ns / 1000 << " us\n";
        EXPECT_LT(stage_ns * 10, sim_ns) << "the stage's own thread ran " << stage_ns << " ns, sim's " << sim_ns
                                         << " ns: the stage's steps did not run on sim's thread";
    }
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(fused_stages(dir), (std::map<std::string, std::string>{{"stage", "sim"}}));
    EXPECT_NE(run.output.find("node 'stage' runs on node 'sim''s thread"), std::string::npos) << run.output;
    // Three nodes, two threads that wait: the spin is chosen for two.
    EXPECT_EQ(count_events(dir, "node_wait", {{"nodes", 2}}), 1u);
    EXPECT_EQ(run.node("stage")["errors"], 0);
    EXPECT_GT(run.node("stage")["burst_calls"].get<std::uint64_t>(), 0u);
    expect_every_frame_once(dir, run);
}

TEST(StageFusion, WhenTheSourceEndsTheStagesOwnThreadDrainsTheRestAndSeesTheEnd) {
    const std::vector<std::string> one_cpu = on_one_cpu();
    if (one_cpu.empty()) GTEST_SKIP() << "needs " << TASKSET;
    TempDir dir;
    // As fast as it can: the source runs ahead of the recorder, so slots are left in the rings when it ends.
    const KernelRun run =
        collect(dir, start_kernel(dir, write_graph(dir, scaled_graph("drained", dir, 20000, FAST)), {}, one_cpu)
                         .wait(std::chrono::seconds(60)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(fused_stages(dir).count("stage"), 1u);
    EXPECT_EQ(run.node("sim")["slots_out"], 20000);
    EXPECT_EQ(run.node("stage")["slots_in"], 20000);
    EXPECT_EQ(run.node("stage")["slots_out"], 20000);
    EXPECT_EQ(run.node("stage")["end_reason"], "input_closed") << run.output;
    expect_every_frame_once(dir, run);
}

TEST(StageFusion, TwoStagesInARowBothRunOnTheSourcesThread) {
    const std::vector<std::string> one_cpu = on_one_cpu();
    if (one_cpu.empty()) GTEST_SKIP() << "needs " << TASKSET;
    TempDir dir;
    json graph = scaled_graph("chain", dir, 20000, FAST);
    graph["channels"].push_back(graph["channels"][1]);
    graph["channels"][1]["name"] = "mid";
    graph["nodes"][1]["outputs"] = {"mid"};
    graph["nodes"].insert(graph["nodes"].begin() + 2, json{{"id", "stage2"},
                                                           {"plugin", "scale"},
                                                           {"params", {{"gain", 1.0}}},
                                                           {"inputs", {"mid"}},
                                                           {"outputs", {"out"}}});
    const KernelRun run =
        collect(dir, start_kernel(dir, write_graph(dir, graph), {}, one_cpu).wait(std::chrono::seconds(60)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    // Four nodes on one CPU: both stages fused, the second into the first, which runs on sim's thread.
    EXPECT_EQ(fused_stages(dir), (std::map<std::string, std::string>{{"stage", "sim"}, {"stage2", "stage"}}));
    EXPECT_EQ(run.node("stage2")["slots_in"], 20000);
    expect_every_frame_once(dir, run);
}

TEST(StageFusion, FuseFalseKeepsTheStageOnItsOwnThread) {
    const std::vector<std::string> one_cpu = on_one_cpu();
    if (one_cpu.empty()) GTEST_SKIP() << "needs " << TASKSET;
    TempDir dir;
    json graph = scaled_graph("own", dir, 5000, FAST);
    graph["nodes"][1]["fuse"] = false;
    const KernelRun run =
        collect(dir, start_kernel(dir, write_graph(dir, graph), {}, one_cpu).wait(std::chrono::seconds(60)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_TRUE(fused_stages(dir).empty());
    EXPECT_EQ(count_events(dir, "node_wait", {{"nodes", 3}}), 1u);
    expect_every_frame_once(dir, run);
}

TEST(StageFusion, AFuseThatIsNoBooleanIsRefusedAtItsJsonPath) {
    TempDir dir;
    json graph = scaled_graph("badfuse", dir, 10, FAST);
    graph["nodes"][1]["fuse"] = "no";
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--validate"});
    EXPECT_NE(run.status.code, 0);
    EXPECT_NE(run.output.find("/nodes/1/fuse"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("expected true"), std::string::npos) << run.output;
}

TEST(StageFusion, TheSourceNeverWaitsForItsFusedStageWhileItsOwnRingHasRoom) {
    const std::vector<std::string> one_cpu = on_one_cpu();
    if (one_cpu.empty()) GTEST_SKIP() << "needs " << TASKSET;
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, scaled_graph("room", dir, 0, STEADY)), {}, one_cpu);
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec", 10);
    const std::uint64_t made = pause_recorder_until_both_rings_fill(dir, pid);
    ASSERT_NE(made, 0u);
    ASSERT_EQ(ctl(dir, {"resume", "rec", "--kernel", pid}).code, 0);
    wait_flowing(dir, pid, "rec", made + 100);
    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(fused_stages(dir).count("stage"), 1u);
    expect_every_frame_once(dir, run);
}

TEST(StageFusion, AFusedStageWaitingForRoomPausesResumesChangesAParameterAndSwapsWithoutLosingASlot) {
    const std::vector<std::string> one_cpu = on_one_cpu();
    if (one_cpu.empty()) GTEST_SKIP() << "needs " << TASKSET;
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, scaled_graph("live", dir, 0, STEADY)), {}, one_cpu);
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec", 100);
    // The recorder pauses: the stage's own thread takes it over and waits for room, with a full input behind it.
    ASSERT_NE(pause_recorder_until_both_rings_fill(dir, pid), 0u);
    // Paused there, the stage must not take the room the recorder makes when it resumes.
    ASSERT_EQ(ctl(dir, {"pause", "stage", "--kernel", pid}).code, 0);
    ASSERT_EQ(ctl(dir, {"resume", "rec", "--kernel", pid}).code, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::uint64_t paused_at = slots_in(dir, pid, "stage");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(slots_in(dir, pid, "stage"), paused_at) << "a paused fused stage took slots";
    ASSERT_EQ(ctl(dir, {"resume", "stage", "--kernel", pid}).code, 0);
    wait_flowing(dir, pid, "stage", paused_at + 200);
    const CtlRun set = ctl(dir, {"params", "set", "stage", "offset", "0.5", "--kernel", pid});
    EXPECT_EQ(set.code, 0) << set.err;
    for (int swap_index = 0; swap_index < 10; ++swap_index) {
        const bool to_decimate = swap_index % 2 == 0;
        const CtlRun swapped =
            to_decimate
                ? ctl(dir, {"swap", "stage", "--plugin", "decimate", "--params", R"({"factor": 1})", "--kernel", pid})
                : ctl(dir, {"swap", "stage", "--plugin", "scale", "--params", R"({"gain": 1.0})", "--kernel", pid});
        ASSERT_EQ(swapped.code, 0) << "swap " << swap_index << ": " << swapped.err;
    }
    const std::uint64_t swapped_at = slots_in(dir, pid, "stage");
    wait_flowing(dir, pid, "stage", swapped_at + 200);
    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(fused_stages(dir).count("stage"), 1u);
    EXPECT_EQ(run.node("stage")["errors"], 0);
    expect_every_frame_once(dir, run);
}

TEST(StageFusion, ASwapToAComponentWithoutABurstHandlerGivesTheStageItsThreadBack) {
    const std::vector<std::string> one_cpu = on_one_cpu();
    if (one_cpu.empty()) GTEST_SKIP() << "needs " << TASKSET;
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, scaled_graph("unfuse", dir, 0, STEADY)), {}, one_cpu);
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec", 100);
    // throttle moves one slot per call: its node cannot be fused, so the stage's own thread runs it from now on.
    const CtlRun swapped =
        ctl(dir, {"swap", "stage", "--plugin", "throttle", "--params", R"({"max_rate_hz": 1e9})", "--kernel", pid});
    ASSERT_EQ(swapped.code, 0) << swapped.err;
    const auto event_named = [&](const std::string& name) {
        std::vector<json> found;
        for (const json& event : read_events(dir)) {
            if (event["event"] == name) found.push_back(event);
        }
        return found;
    };
    ASSERT_TRUE(wait_until([&] { return !event_named("stage_unfused").empty(); })) << "no stage_unfused event";
    const json unfused = event_named("stage_unfused").front();
    EXPECT_EQ(unfused["node"], "stage");
    EXPECT_EQ(unfused["reason"], "component_not_fusable");
    // One more thread waits: the spin was decided again for three nodes, after two (sim with the stage, rec).
    const std::vector<json> waits = event_named("node_wait");
    ASSERT_EQ(waits.size(), 2u) << "node_wait at start and after the stage took its thread back";
    EXPECT_EQ(waits[0]["nodes"], 2);
    EXPECT_EQ(waits[1]["nodes"], 3);
    const std::uint64_t swapped_at = slots_in(dir, pid, "stage");
    wait_flowing(dir, pid, "stage", swapped_at + 200);
    // Back to a burst component: it stays on its own thread (fusion is decided at start) and goes on moving slots.
    const CtlRun back =
        ctl(dir, {"swap", "stage", "--plugin", "scale", "--params", R"({"gain": 1.0})", "--kernel", pid});
    ASSERT_EQ(back.code, 0) << back.err;
    wait_flowing(dir, pid, "stage", slots_in(dir, pid, "stage") + 200);
    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_NE(run.output.find("runs on its own thread from now on (its new component cannot be fused)"),
              std::string::npos)
        << run.output;
    EXPECT_EQ(event_named("stage_unfused").size(), 1u) << "taken back once, and not fused again";
    EXPECT_EQ(run.node("stage")["errors"], 0);
    expect_every_frame_once(dir, run);
}

}  // namespace
}  // namespace dhub::testing
