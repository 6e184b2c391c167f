// SPDX-License-Identifier: Apache-2.0
// dhub-kernel running real graphs of real plugins: what goes in comes out, byte for byte; a stage swapped
// by editing the graph; SIGINT that loses nothing; error policies.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>

#include "dhub/formats/recording.hpp"
#include "dhub/formats/waveform.hpp"
#include "dhub/shm/inspect.hpp"
#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;
namespace recording = dhub::formats::recording;

constexpr std::uint64_t FRAMES = 300;
constexpr std::uint64_t CHANNELS = 2;
constexpr std::uint64_t SAMPLES = 64;
constexpr std::uint64_t FRAME_BYTES = dhub::formats::waveform_frame_bytes(CHANNELS, SAMPLES);

json waveform_channel(const std::string& name) {
    return {{"name", name}, {"slot_bytes", 4096}, {"slot_count", 8}, {"sync", "every_reader"}};
}

json counter_source(std::uint64_t max_frames, double rate_hz) {
    return {{"id", "sim"},
            {"plugin", "sim_source"},
            {"params",
             {{"waveform", "counter"},
              {"channels", CHANNELS},
              {"samples_per_channel", SAMPLES},
              {"rate_hz", rate_hz},
              {"max_frames", max_frames}}},
            {"outputs", {"raw"}}};
}

json recorder(const std::filesystem::path& file, const std::string& input) {
    return {{"id", "rec"}, {"plugin", "recorder"}, {"params", {{"path", file.string()}}}, {"inputs", {input}}};
}

/// The counter sample at (frame, index in frame), transformed as scale(gain, offset) would.
double counter_sample(std::uint64_t frame, std::uint64_t index, double gain = 1, double offset = 0) {
    return static_cast<double>(frame * CHANNELS * SAMPLES + index) * gain + offset;
}

/// Checks a recorded waveform frame against the counter pattern; returns "" or what is wrong.
std::string check_counter_frame(const RecordedSlot& slot, std::uint64_t frame, double gain, double offset) {
    if (slot.bytes.size() != FRAME_BYTES) return "frame size " + std::to_string(slot.bytes.size());
    const auto parsed =
        dhub::formats::parse_waveform({reinterpret_cast<const std::byte*>(slot.bytes.data()), slot.bytes.size()});
    if (!parsed.ok()) return parsed.error;
    if (parsed.view.header.sequence != frame) return "frame counter " + std::to_string(parsed.view.header.sequence);
    for (std::uint64_t i = 0; i < parsed.view.samples.size(); ++i) {
        if (parsed.view.samples[i] != counter_sample(frame, i, gain, offset)) {
            return "sample " + std::to_string(i) + " of frame " + std::to_string(frame);
        }
    }
    return "";
}

TEST(KernelRun, AQueueModeRelayCountsEachSlotInAndOutOnce) {
    TempDir dir;
    constexpr std::uint64_t TICKS = 1000;
    const json graph = {
        {"schema_version", 1},
        {"name", "relay"},
        {"channels",
         {{{"name", "ticks"}, {"slot_bytes", 64}, {"sync", "every_reader"}},
          {{"name", "relayed"}, {"slot_bytes", 64}, {"sync", "every_reader"}}}},
        {"nodes",
         {{{"id", "src"},
           {"plugin", "test_ticker"},
           {"component", "test.source.ticker"},
           {"params", {{"count", TICKS}}},
           {"outputs", {"ticks"}}},
          {{"id", "relay"},
           {"plugin", "test_ticker"},
           {"component", "test.stage.ticker_relay"},
           {"inputs", {"ticks"}},
           {"outputs", {"relayed"}}},
          {{"id", "check"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"relayed"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const json relay = run.node("relay");
    EXPECT_EQ(relay["handled"], TICKS) << run.report.dump();
    EXPECT_EQ(relay["slots_in"], TICKS) << run.report.dump();
    EXPECT_EQ(relay["slots_out"], TICKS) << run.report.dump();
    EXPECT_EQ(run.node("src")["slots_out"], TICKS) << run.report.dump();
    EXPECT_EQ(run.node("check")["slots_in"], TICKS) << run.report.dump();
    EXPECT_EQ(run.node("check")["errors"], 0) << run.output;
}

// Paths in a graph are relative to the graph file, whatever the working directory (here the test's).
TEST(KernelRun, ARelativePathParameterIsResolvedAgainstTheGraphFile) {
    TempDir dir;
    const std::string file = "relative-" + std::to_string(::getpid()) + ".dhr";
    const json graph = {{"schema_version", 1},
                        {"channels", {{{"name", "frames"}, {"slot_bytes", 8192}}}},
                        {"nodes",
                         {{{"id", "sim"},
                           {"plugin", "sim_source"},
                           {"params", {{"channels", 1}, {"samples_per_channel", 16}, {"rate_hz", 1000}}},
                           {"outputs", {"frames"}}},
                          recorder(file, "frames")}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--duration", "0.3"});
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_TRUE(std::filesystem::exists(dir / file)) << "not beside the graph file: " << run.output;
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::current_path() / file)) << "written to the working directory";
    std::filesystem::remove(std::filesystem::current_path() / file);
    EXPECT_GT(read_recording(dir / file).slots.size(), 0u);
    EXPECT_EQ(count_events(dir, "stop_requested", {{"cause", "duration"}}), 1u);
}

TEST(KernelRun, ReplayThroughTheKernelIsRecordedByteForByte) {
    TempDir dir;
    // A recording with random contents and sizes, written by the test: the source of truth.
    constexpr std::uint64_t SLOTS = 400;
    constexpr std::uint64_t CAPACITY = 4096;
    std::mt19937_64 random(20261126);
    std::vector<std::string> payloads;
    {
        const std::string schema = "test.random@1";
        std::ofstream data(dir / "input.dhr", std::ios::binary);
        std::ofstream index(formats::recording::index_path((dir / "input.dhr").string()), std::ios::binary);
        const auto header = formats::recording::make_data_header(static_cast<std::uint32_t>(schema.size()), CAPACITY);
        data.write(reinterpret_cast<const char*>(&header), sizeof header);
        data << schema;
        data.write(std::string(header.header_bytes - sizeof header - schema.size(), '\0').data(),
                   static_cast<std::streamsize>(header.header_bytes - sizeof header - schema.size()));
        const auto index_header = formats::recording::make_index_header();
        index.write(reinterpret_cast<const char*>(&index_header), sizeof index_header);
        std::uint64_t offset = header.header_bytes;
        for (std::uint64_t seq = 0; seq < SLOTS; ++seq) {
            std::string bytes(1 + random() % CAPACITY, '\0');
            for (char& c : bytes)
                c = static_cast<char>(random());
            formats::recording::IndexRecord record{
                seq, 1'000'000 * seq, offset, bytes.size(), 0, formats::recording::RecordKind::Slot, 0};
            index.write(reinterpret_cast<const char*>(&record), sizeof record);
            data << bytes;
            offset += bytes.size();
            payloads.push_back(std::move(bytes));
        }
    }
    const json graph = {
        {"schema_version", 1},
        // The replay writes any schema: the channel names it, and the recorder learns it from the kernel.
        {"channels",
         {{{"name", "replayed"}, {"slot_bytes", CAPACITY}, {"slot_count", 4}, {"schema", "test.random@1"}}}},
        {"nodes",
         {{{"id", "replay"},
           {"plugin", "replay"},
           {"params", {{"path", (dir / "input.dhr").string()}, {"rate", "max"}}},
           {"outputs", {"replayed"}}},
          recorder(dir / "output.dhr", "replayed")}}};

    const KernelRun run = run_kernel(dir, write_graph(dir, graph));  // ends by itself at the end of the replay

    ASSERT_EQ(run.status.code, 0) << run.output;
    const Recording output = read_recording(dir / "output.dhr");
    ASSERT_TRUE(output.error.empty()) << output.error;
    EXPECT_EQ(output.schema, "test.random@1");
    ASSERT_EQ(output.slots.size(), SLOTS);
    EXPECT_EQ(output.gaps, 0u);
    for (std::uint64_t seq = 0; seq < SLOTS; ++seq) {
        EXPECT_EQ(output.slots[seq].sequence, seq);
        ASSERT_EQ(output.slots[seq].bytes, payloads[seq]) << "slot " << seq;
    }
    EXPECT_EQ(run.node("replay")["handled"], SLOTS);
    EXPECT_EQ(run.node("rec")["handled"], SLOTS);
}

json scale_stage(double gain, double offset) {
    return {{"id", "stage"},
            {"plugin", "scale"},
            {"params", {{"gain", gain}, {"offset", offset}}},
            {"inputs", {"raw"}},
            {"outputs", {"processed"}}};
}

json decimate_stage(std::uint64_t factor) {
    return {{"id", "stage"},
            {"plugin", "decimate"},
            {"params", {{"factor", factor}}},
            {"inputs", {"raw"}},
            {"outputs", {"processed"}}};
}

json pipeline(const TempDir& dir, const json& stage, std::uint64_t max_frames, double rate_hz) {
    return {{"schema_version", 1},
            {"name", "pipeline"},
            {"channels", {waveform_channel("raw"), waveform_channel("processed")}},
            {"nodes", {counter_source(max_frames, rate_hz), stage, recorder(dir / "out.dhr", "processed")}}};
}

TEST(KernelRun, SimulatedCounterArrivesCompleteThroughScale) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, pipeline(dir, scale_stage(2.0, 1.0), FRAMES, 5000)));
    ASSERT_EQ(run.status.code, 0) << run.output;
    const Recording out = read_recording(dir / "out.dhr");
    ASSERT_TRUE(out.error.empty()) << out.error;
    ASSERT_EQ(out.slots.size(), FRAMES);
    for (std::uint64_t frame = 0; frame < FRAMES; ++frame) {
        ASSERT_EQ(check_counter_frame(out.slots[frame], frame, 2.0, 1.0), "") << "frame " << frame;
    }
}

/// sim_source at 1 MHz straight into the recorder: several frames are due whenever the source wakes up.
json fast_counter_graph(const TempDir& dir, std::optional<std::uint32_t> source_burst) {
    json source = counter_source(FRAMES, 1'000'000);
    if (source_burst) source["burst"] = *source_burst;
    return {{"schema_version", 1},
            {"channels", {waveform_channel("raw")}},
            {"nodes", {source, recorder(dir / "out.dhr", "raw")}}};
}

TEST(KernelRun, BurstSourcePublishesEveryFrameInOrderInFewerCalls) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, fast_counter_graph(dir, std::nullopt)));  // burst 32
    ASSERT_EQ(run.status.code, 0) << run.output;
    const Recording out = read_recording(dir / "out.dhr");
    ASSERT_TRUE(out.error.empty()) << out.error;
    ASSERT_EQ(out.slots.size(), FRAMES);
    for (std::uint64_t frame = 0; frame < FRAMES; ++frame) {
        ASSERT_EQ(check_counter_frame(out.slots[frame], frame, 1.0, 0.0), "") << "frame " << frame;
        EXPECT_EQ(out.slots[frame].sequence, frame);
    }
    EXPECT_EQ(run.node("sim")["handled"], FRAMES);
    EXPECT_GT(run.node("sim")["burst_calls"], 0u);
    EXPECT_LT(run.node("sim")["burst_calls"], FRAMES) << "no call published more than one frame";
    EXPECT_EQ(run.node("rec")["burst_calls"], 0u) << "the recorder has no burst handler";
}

TEST(KernelRun, BurstOfOneCallsTheSourceOncePerFrame) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, fast_counter_graph(dir, 1)));
    ASSERT_EQ(run.status.code, 0) << run.output;
    const Recording out = read_recording(dir / "out.dhr");
    ASSERT_EQ(out.slots.size(), FRAMES);
    for (std::uint64_t frame = 0; frame < FRAMES; ++frame) {
        ASSERT_EQ(check_counter_frame(out.slots[frame], frame, 1.0, 0.0), "") << "frame " << frame;
    }
    EXPECT_EQ(run.node("sim")["handled"], FRAMES);
    EXPECT_EQ(run.node("sim")["burst_calls"], 0u);
}

TEST(KernelRun, BurstSinkSeesEveryTickInOrder) {
    TempDir dir;
    constexpr std::uint64_t TICKS = 20'000;
    const json graph = {
        {"schema_version", 1},
        {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 64}}}},
        {"nodes",
         {{{"id", "tick"},
           {"plugin", "test_ticker"},
           {"component", "test.source.ticker"},
           {"params", {{"count", TICKS}}},
           {"outputs", {"ticks"}}},
          {{"id", "check"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"ticks"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--plugin-path", DHUB_TEST_PLUGIN_DIR});
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("check")["handled"], TICKS);
    EXPECT_EQ(run.node("check")["errors"], 0u) << run.output;
    EXPECT_GT(run.node("check")["burst_calls"], 0u);
    // The sink's stop() ran after the last tick, and what a plugin logs reaches the kernel's output.
    EXPECT_NE(run.output.find("saw " + std::to_string(TICKS) + " ticks"), std::string::npos) << run.output;
}

TEST(KernelRun, AChannelOfADeclaredSchemaStoresItForDhubShmInspect) {
    TempDir dir;
    const json graph = {
        {"schema_version", 1},
        {"schemas",
         {{{"name", "test.tick"},
           {"version", 1},
           {"doc", "one counter value"},
           {"fields", {{{"name", "value"}, {"dtype", "<u8"}}}}}}},
        {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}}}},
        {"nodes",
         {{{"id", "tick"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
          {{"id", "slow"},
           {"plugin", "test_ticker"},
           {"component", "test.sink.ticker"},
           {"params", {{"delay_ms", 5}}},
           {"inputs", {"ticks"}}}}}};
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(wait_until([&] { return count_events(dir, "graph_started") == 1; }))
        << read_text_file((dir / "kernel.log").string());
    std::string prefix;
    for (const json& event : read_events(dir)) {
        if (event["event"] == "graph_started") prefix = event["segment_prefix"];
    }
    auto inspect =
        ChildProcess::spawn(DHUB_SHM_CLI, {"inspect", prefix + ".ticks", "--json"}, (dir / "inspect.json").string());
    const ExitStatus inspected = inspect.wait(std::chrono::seconds(10));
    const std::string output = read_text_file((dir / "inspect.json").string());
    ASSERT_TRUE(inspected.exited && inspected.code == 0) << output;
    const json info = json::parse(output, nullptr, false);
    ASSERT_FALSE(info.is_discarded()) << output;
    EXPECT_EQ(info["schema"]["id"], "test.tick@1") << output;
    EXPECT_EQ(info["schema"]["descriptor"]["fields"][0]["dtype"], "<u8") << output;
    EXPECT_EQ(info["schema"]["descriptor"]["doc"], "one counter value") << output;
    kernel.kill(SIGINT);
    const ExitStatus status = kernel.wait(std::chrono::seconds(30));
    EXPECT_EQ(status.code, 0) << read_text_file((dir / "kernel.log").string());
}

TEST(KernelRun, PluginBuiltForSdk10LoadsAndRunsSlotBySlot) {
    TempDir dir;
    constexpr std::uint64_t TICKS = 500;
    const json graph = {
        {"schema_version", 1},
        {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}}}},
        {"nodes",
         {{{"id", "old"}, {"plugin", "test_sdk10_source"}, {"params", {{"count", TICKS}}}, {"outputs", {"ticks"}}},
          {{"id", "check"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"ticks"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--plugin-path", DHUB_TEST_PLUGIN_DIR});
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("old")["handled"], TICKS);
    EXPECT_EQ(run.node("old")["errors"], 0u) << run.output;
    EXPECT_EQ(run.node("old")["burst_calls"], 0u) << "a 1.0 descriptor has no process_burst to call";
    EXPECT_EQ(run.node("check")["errors"], 0u) << run.output;
}

TEST(KernelRun, SwappingScaleForDecimateNeedsOnlyAnEditedGraph) {
    TempDir dir;
    const auto graph = write_graph(dir, pipeline(dir, scale_stage(3.0, 0.0), FRAMES, 5000));
    const auto kernel_before = std::filesystem::last_write_time(DHUB_KERNEL);
    ASSERT_EQ(run_kernel(dir, graph).status.code, 0);
    ASSERT_EQ(read_recording(dir / "out.dhr").slots.size(), FRAMES);

    // Edit the document in place: the stage node now names another plugin. Nothing is rebuilt.
    json edited = json::parse(read_text_file(graph.string()));
    constexpr std::uint64_t FACTOR = 4;
    edited["nodes"][1] = decimate_stage(FACTOR);
    std::ofstream(graph) << edited.dump(2);
    const KernelRun run = run_kernel(dir, graph);

    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(std::filesystem::last_write_time(DHUB_KERNEL), kernel_before);
    const Recording out = read_recording(dir / "out.dhr");
    ASSERT_EQ(out.slots.size(), FRAMES / FACTOR);
    for (std::uint64_t i = 0; i < out.slots.size(); ++i) {
        ASSERT_EQ(check_counter_frame(out.slots[i], i * FACTOR, 1.0, 0.0), "") << "kept frame " << i;
    }
    EXPECT_EQ(run.node("stage")["skipped"], FRAMES - FRAMES / FACTOR);
}

TEST(KernelRun, SigintStopsSourcesFirstAndLosesNoSlotOnALosslessChannel) {
    TempDir dir;
    const auto graph = write_graph(dir, pipeline(dir, scale_stage(1.0, 0.0), 0, 2000));  // runs until stopped
    ChildProcess kernel = start_kernel(dir, graph);
    // Wait until data flows, then interrupt as a user would.
    ASSERT_TRUE(wait_until(
        [&] {
            std::error_code missing;
            const auto bytes =
                std::filesystem::file_size(formats::recording::index_path((dir / "out.dhr").string()), missing);
            return !missing &&
                   bytes > sizeof(formats::recording::IndexFileHeader) + 50 * sizeof(formats::recording::IndexRecord);
        },
        std::chrono::seconds(20)));
    kernel.kill(SIGINT);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));

    ASSERT_TRUE(run.status.exited) << run.output;
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(count_events(dir, "stop_requested", {{"cause", "SIGINT"}}), 1u);
    const std::uint64_t produced = run.node("sim")["handled"].get<std::uint64_t>();
    const Recording out = read_recording(dir / "out.dhr");
    ASSERT_TRUE(out.error.empty()) << out.error;
    EXPECT_GT(produced, 0u);
    EXPECT_EQ(out.slots.size(), produced) << "every frame the source committed reached the file";
    EXPECT_EQ(out.gaps, 0u);
    for (std::uint64_t frame = 0; frame < out.slots.size(); ++frame) {
        ASSERT_EQ(check_counter_frame(out.slots[frame], frame, 1.0, 0.0), "") << "frame " << frame;
    }
    EXPECT_EQ(run.node("sim")["end_reason"], "stopped");
    EXPECT_EQ(run.node("rec")["end_reason"], "input_closed");
}

/// The names (comm) of a process's threads.
std::vector<std::string> thread_names(pid_t pid) {
    std::vector<std::string> names;
    std::error_code gone;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", gone)) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        if (std::getline(comm, name)) names.push_back(name);
    }
    return names;
}

TEST(KernelRun, NodeThreadsAreNamedAfterTheirNodes) {
    TempDir dir;
    json graph = pipeline(dir, scale_stage(1.0, 0.0), 0, 2000);
    graph["nodes"][1]["id"] = "a-stage-with-a-long-id";  // cut to its first 15 bytes
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    std::vector<std::string> names;
    const bool named = wait_until([&] {
        names = thread_names(kernel.pid());
        auto has = [&](const char* name) { return std::find(names.begin(), names.end(), name) != names.end(); };
        return has("sim") && has("a-stage-with-a-") && has("rec");
    });
    kernel.kill(SIGINT);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    std::string seen;
    for (const std::string& name : names)
        seen += " '" + name + "'";
    EXPECT_TRUE(named) << "threads:" << seen;
    EXPECT_EQ(run.status.code, 0) << run.output;
}

json failing_graph(const std::string& action) {
    return {{"schema_version", 1},
            {"channels",
             {{{"name", "ticks"}, {"slot_bytes", 64}},
              {{"name", "bad"}, {"slot_bytes", 64}},
              {{"name", "good"}, {"slot_bytes", 64}}}},
            {"nodes",
             {{{"id", "src"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
              {{"id", "faulty"},
               {"plugin", "test_failing"},
               {"params", {{"throw", true}}},
               {"inputs", {"ticks"}},
               {"outputs", {"bad"}},
               {"on_error", {{"action", action}, {"max_consecutive", 5}}}},
              {{"id", "src2"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"good"}}},
              {{"id", "sink"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"good"}}}}}};
}

TEST(KernelRun, NodeThatKeepsFailingIsStoppedByItsPolicyWhileTheRestRuns) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, failing_graph("stop_node")), {"--duration", "1"});
    ASSERT_EQ(run.status.code, 0) << run.output;
    const json faulty = run.node("faulty");
    EXPECT_EQ(faulty["errors"], 5);
    EXPECT_EQ(faulty["end_reason"], "error_policy_node") << faulty;
    EXPECT_NE(faulty["end_detail"].get<std::string>().find("5 consecutive errors"), std::string::npos) << faulty;
    EXPECT_GT(run.node("sink")["handled"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(run.node("sink")["errors"], 0);  // ticks arrived in order
    EXPECT_NE(run.output.find("simulated handler fault"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("[stage:test.stage.failing:faulty]"), std::string::npos) << run.output;
}

// A node its policy stopped gives its seat back at once: on a lossless channel it would otherwise hold the
// producer, and so every other reader, back until the graph ended, and a graph that ends by itself never would.
TEST(KernelRun, ANodeStoppedByItsPolicyNoLongerHoldsItsLosslessChannelBack) {
    TempDir dir;
    constexpr std::uint64_t READINGS = 20'000;  // thousands of rings of 8 slots
    const json graph = {{"schema_version", 1},
                        {"channels",
                         {{{"name", "readings"}, {"slot_bytes", 24}, {"slot_count", 8}, {"sync", "every_reader"}},
                          {{"name", "bad"}, {"slot_bytes", 24}}}},
                        {"nodes",
                         {{{"id", "src"},
                           {"plugin", "test_readings"},
                           {"component", "test.source.readings"},
                           {"params", {{"count", READINGS}}},
                           {"outputs", {"readings"}}},
                          {{"id", "faulty"},
                           {"plugin", "test_failing"},
                           {"inputs", {"readings"}},
                           {"outputs", {"bad"}},
                           {"on_error", {{"action", "stop_node"}, {"max_consecutive", 5}}}},
                          {{"id", "check"},
                           {"plugin", "test_readings"},
                           {"component", "test.sink.readings"},
                           {"inputs", {"readings"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));  // no --duration: it must end by itself
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(run.node("faulty")["end_reason"], "error_policy_node") << run.report.dump();
    EXPECT_EQ(run.node("src")["end_reason"], "end_of_stream") << run.report.dump();
    EXPECT_EQ(run.node("check")["handled"].get<std::uint64_t>(), READINGS) << run.report.dump();
    EXPECT_EQ(run.node("check")["errors"], 0) << run.output;
}

TEST(KernelRun, StopGraphPolicyEndsTheRunWithExitCode4) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, failing_graph("stop_graph")), {"--duration", "20"});
    EXPECT_EQ(run.status.code, 4) << run.output;
    EXPECT_EQ(run.node("faulty")["end_reason"], "error_policy_graph") << run.report.dump();
    EXPECT_EQ(count_events(dir, "stop_requested", {{"cause", "error_policy_graph"}}), 1u);
    EXPECT_EQ(count_events(dir, "stop_requested"), 1u) << "one stop_requested, with the first cause";
}

TEST(KernelRun, SecondSigintExitsAtOnceWithoutWaitingForTheDrain) {
    TempDir dir;
    constexpr double SLOW_SINK_MS = 200;  // 16 queued ticks would take over 3 s to drain
    const json graph = {
        {"schema_version", 1},
        {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 16}}}},
        {"nodes",
         {{{"id", "src"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
          {{"id", "slow"},
           {"plugin", "test_ticker"},
           {"component", "test.sink.ticker"},
           {"params", {{"delay_ms", SLOW_SINK_MS}}},
           {"inputs", {"ticks"}}}}}};
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    // The events say when to send each signal (two SIGINTs sent back to back could merge into one pending
    // signal); the verdict is the exit code.
    ASSERT_TRUE(wait_until([&] { return count_events(dir, "graph_started") == 1; }));
    // The drain is only long once ticks are queued: a SIGINT before the source wrote any would let the
    // kernel drain nothing and exit 0 before the second signal arrives (seen: 1 run in ~10).
    const std::string segment = "graph-" + std::to_string(kernel.pid()) + ".ticks";
    ASSERT_TRUE(wait_until([&] {
        const auto info = shm::inspect_channel(segment);
        return info.ok() && info->write_seq >= 4;
    }));
    kernel.kill(SIGINT);
    ASSERT_TRUE(wait_until([&] { return count_events(dir, "stop_requested", {{"cause", "SIGINT"}}) == 1; }));
    kernel.kill(SIGINT);
    const ExitStatus status = kernel.wait(std::chrono::seconds(2));  // far less than the drain would take
    EXPECT_FALSE(status.timed_out);
    EXPECT_EQ(status.code, 130);
    // Exiting at once leaves the segments behind (for dhub-shm gc); this test removes its own.
    const std::string prefix = "dhub1.graph-" + std::to_string(kernel.pid()) + ".";
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
        if (entry.path().filename().string().starts_with(prefix)) std::filesystem::remove(entry.path());
    }
}

}  // namespace
}  // namespace dhub::testing
