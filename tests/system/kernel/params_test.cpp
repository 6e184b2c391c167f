// SPDX-License-Identifier: Apache-2.0
// dhub-ctl params get|set on a running dhub-kernel (docs/control.md, "Live parameters"): a live-tunable gain
// changes the frames from one slot on, and only from then; the kernel refuses unknown, non-live and ill-typed
// parameters with the declaration's words, the component may refuse a value itself and keeps the old one, and a
// swap that keeps the node's parameters keeps the changed ones.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "dhub/formats/waveform.hpp"
#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr std::uint32_t SAMPLES = 64;

json waveform_graph(const TempDir& dir) {
    return scaled_waveform_graph("params", dir, SAMPLES);
}

constexpr const char* COPY = "test.stage.tick_copy";

json copy_graph() {
    return {{"schema_version", 1},
            {"name", "paramsticks"},
            {"channels",
             {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}},
              {{"name", "copied"}, {"slot_bytes", 64}, {"slot_count", 8}}}},
            {"nodes",
             {{{"id", "tick"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
              {{"id", "copy"},
               {"plugin", "test_swappable"},
               {"component", COPY},
               {"inputs", {"ticks"}},
               {"outputs", {"copied"}}},
              {{"id", "sink"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"copied"}}}}}};
}

CtlRun params(const TempDir& dir, const std::string& pid, std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "params");
    arguments.insert(arguments.end(), {"--kernel", pid});
    return ctl(dir, arguments);
}

TEST(Params_test, ALiveGainChangesTheFramesFromOneSlotOn) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, waveform_graph(dir)));
    const std::string pid = std::to_string(kernel.pid());
    ASSERT_TRUE(wait_until([&] { return slots_in(dir, pid, "rec") > 50; }));

    const CtlRun listed = params(dir, pid, {"get", "stage", "--json"});
    ASSERT_EQ(listed.code, 0) << listed.err;
    EXPECT_EQ(listed.value["params"]["gain"], 1.0);
    EXPECT_EQ(listed.value["live"], json({"gain", "offset"}));
    const CtlRun set = params(dir, pid, {"set", "stage", "gain", "2", "--json"});
    ASSERT_EQ(set.code, 0) << set.err;
    EXPECT_EQ(set.value["from"], 1.0);
    EXPECT_EQ(set.value["to"], 2);
    EXPECT_EQ(params(dir, pid, {"get", "stage", "gain"}).out, "2\n");
    const std::uint64_t after = slots_in(dir, pid, "rec");
    ASSERT_TRUE(wait_until([&] { return slots_in(dir, pid, "rec") > after + 50; }));
    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;

    // Frame f's sample 1 is f * SAMPLES + 1 times the gain it went through: 1 up to some frame, 2 from it on.
    const Recording recording = read_recording(dir / "out.dhr");
    ASSERT_TRUE(recording.error.empty()) << recording.error;
    std::size_t first_doubled = recording.slots.size();
    for (std::size_t index = 0; index < recording.slots.size(); ++index) {
        const std::string& bytes = recording.slots[index].bytes;
        ASSERT_EQ(bytes.size(), formats::waveform_frame_bytes(1, SAMPLES));
        formats::WaveformHeader header{};
        std::memcpy(&header, bytes.data(), sizeof header);
        double sample = 0;
        std::memcpy(&sample, bytes.data() + formats::WAVEFORM_HEADER_BYTES + sizeof(double), sizeof sample);
        const double base = static_cast<double>(header.sequence * SAMPLES + 1);
        const double gain = sample / base;
        ASSERT_TRUE(gain == 1.0 || gain == 2.0) << "frame " << header.sequence << " went through gain " << gain;
        if (gain == 2.0 && first_doubled == recording.slots.size()) first_doubled = index;
        if (first_doubled < index) {
            ASSERT_EQ(gain, 2.0) << "frame " << header.sequence << " after the change";
        }
    }
    EXPECT_GT(first_doubled, 0u) << "frames before the change keep the old gain";
    EXPECT_LT(first_doubled, recording.slots.size()) << "frames after it have the new one";
    EXPECT_EQ(count_events(dir, "param_changed", {{"node", "stage"}, {"name", "gain"}}), 1u);
    EXPECT_EQ(count_events(dir, "control", {{"command", "set_param"}, {"ok", true}}), 1u);
}

TEST(Params_test, WhatTheDeclarationOrTheComponentRefusesChangesNothing) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, copy_graph()));
    const std::string pid = std::to_string(kernel.pid());
    ASSERT_TRUE(wait_until([&] { return slots_in(dir, pid, "sink") > 100; }));

    struct Refused {
        std::vector<std::string> arguments;
        std::string says;
    };
    for (const Refused& attempt : std::vector<Refused>{
             {{"set", "copy", "nosuch", "1"}, "declares no parameter \"nosuch\" (it declares: fail_create"},
             {{"set", "copy", "stall_ms", "5"}, "\"stall_ms\" of test.stage.tick_copy is not live-tunable"},
             {{"set", "copy", "level", "2000"}, "expected an integer in [0, 1000], found 2000"},
             {{"set", "copy", "level", "many"}, "expected an integer"},
             {{"set", "copy", "level", "500"}, "level above 100 would saturate the detector"},
             {{"set", "tick", "count", "3"}, "is not live-tunable"},
             {{"set", "nobody", "level", "3"}, "the graph has no node 'nobody'"},
             {{"get", "nobody"}, "the graph has no node 'nobody'"},
             {{"get", "copy", "nosuch"}, "has no parameter \"nosuch\""},
         }) {
        const CtlRun run = params(dir, pid, attempt.arguments);
        EXPECT_EQ(run.code, 1) << attempt.arguments[2];
        EXPECT_NE(run.err.find(attempt.says), std::string::npos) << run.err;
    }
    EXPECT_EQ(params(dir, pid, {"get", "copy", "level"}).out, "0\n") << "every refusal kept the old value";
    EXPECT_EQ(ctl(dir, {"params", "set", "copy", "level", "--kernel", pid}).code, 2) << "set needs a value";
    EXPECT_EQ(ctl(dir, {"params", "copy", "--kernel", pid}).code, 2) << "get or set";

    ASSERT_EQ(params(dir, pid, {"set", "copy", "level", "7"}).code, 0);
    ASSERT_EQ(params(dir, pid, {"set", "copy", "label", "beam on"}).code, 0);
    EXPECT_EQ(params(dir, pid, {"get", "copy", "label"}).out, "\"beam on\"\n");
    // A swap that keeps the node's parameters keeps the ones changed live.
    ASSERT_EQ(ctl(dir, {"swap", "copy", "--plugin", "test_swappable", "--component", COPY, "--kernel", pid}).code, 0);
    EXPECT_EQ(params(dir, pid, {"get", "copy", "level"}).out, "7\n");

    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(run.node("sink")["errors"], 0) << "no tick lost or repeated through the changes";
    EXPECT_EQ(count_events(dir, "param_changed", {{"node", "copy"}}), 2u);
}

}  // namespace
}  // namespace dhub::testing
