// SPDX-License-Identifier: Apache-2.0
// Plugins built for SDK 1.1 keep loading and running in today's kernel: the built-in sim_source, scale,
// decimate and stats, compiled from their sources as they are against the SDK 1.1 headers as released
// (tests/test_plugins/sdk11), in a graph of their own with nothing newer on the plugin path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

TEST(Sdk11Plugins, DescribeSaysTheyWereBuiltForSdk11AndGivesTheirKindsPorts) {
    TempDir dir;
    auto kernel = ChildProcess::spawn(DHUB_KERNEL, {"--plugin-path", DHUB_SDK11_PLUGIN_DIR, "--describe", "scale"},
                                      (dir / "out.txt").string());
    const ExitStatus status = kernel.wait();
    const std::string output = read_text_file((dir / "out.txt").string());
    ASSERT_EQ(status.code, 0) << output;
    EXPECT_NE(output.find("(SDK 1.1, "), std::string::npos) << output;
    EXPECT_NE(output.find("input in: dhub.waveform.f64@1"), std::string::npos) << output;
    EXPECT_NE(output.find("output out: dhub.waveform.f64@1 (slots of at least 64 bytes)"), std::string::npos) << output;
}

TEST(Sdk11Plugins, ASourceStagesAndASinkRunAsTheyDidInBurstsAndSlotBySlot) {
    TempDir dir;
    const json graph = {
        {"schema_version", 1},
        {"name", "sdk11"},
        {"plugin_path", {DHUB_SDK11_PLUGIN_DIR}},
        {"channels",
         {{{"name", "raw"}, {"slot_bytes", 1024}, {"schema", "dhub.waveform.f64@1"}},
          {{"name", "scaled"}, {"slot_bytes", 1024}},
          {{"name", "kept"}, {"slot_bytes", 1024}, {"schema", "dhub.waveform.f64@1"}}}},
        {"nodes",
         {{{"id", "sim"},
           {"plugin", "sim_source"},
           {"params", {{"channels", 2}, {"samples_per_channel", 16}, {"rate_hz", 2000}, {"max_frames", 1000}}},
           {"outputs", {"raw"}}},
          {{"id", "scale"},
           {"plugin", "scale"},
           {"params", {{"gain", 2.0}}},
           {"inputs", {"raw"}},
           {"outputs", {"scaled"}}},
          {{"id", "decimate"},
           {"plugin", "decimate"},
           {"params", {{"factor", 4}}},
           {"inputs", {"scaled"}},
           {"outputs", {"kept"}}},
          {{"id", "stats"}, {"plugin", "stats"}, {"burst", 1}, {"inputs", {"kept"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));  // ends when the source's 1000 frames are through
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("sim")["slots_out"], 1000) << run.report.dump();
    EXPECT_GT(run.node("sim")["burst_calls"], 0) << "the 1.1 burst handler was not used";
    EXPECT_EQ(run.node("scale")["slots_out"], 1000) << run.report.dump();
    EXPECT_EQ(run.node("decimate")["slots_out"], 250) << run.report.dump();
    EXPECT_EQ(run.node("stats")["slots_in"], 250) << run.report.dump();
    for (const char* node : {"sim", "scale", "decimate", "stats"})
        EXPECT_EQ(run.node(node)["errors"], 0) << node << ": " << run.output;
}

TEST(Sdk11Plugins, AValidatorOnAChannelIsCalledOncePerSlotInOrderAndItsRejectionsAreKeptFromTheConsumers) {
    // It rejects every third call: any slot judged twice, or out of order, would shift which ones.
    TempDir dir;
    const json graph = {
        {"schema_version", 1},
        {"name", "sdk11"},
        {"plugin_path", {DHUB_SDK11_PLUGIN_DIR}},
        {"channels",
         {{{"name", "raw"},
           {"slot_bytes", 1024},
           {"schema", "dhub.waveform.f64@1"},
           {"validators", {{{"plugin", "test_sdk11_validator"}}}}}}},
        {"nodes",
         {{{"id", "sim"},
           {"plugin", "sim_source"},
           {"params", {{"channels", 2}, {"samples_per_channel", 16}, {"rate_hz", 20000}, {"max_frames", 999}}},
           {"outputs", {"raw"}}},
          {{"id", "stats"}, {"plugin", "stats"}, {"inputs", {"raw"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("stats")["slots_in"], 666) << run.report.dump();
    const json& validator = run.report["validators"].at(0);
    EXPECT_EQ(validator["validator"], "test_sdk11_validator");
    EXPECT_EQ(validator["judged"], 999);
    EXPECT_EQ(validator["rejected"], 333);
    EXPECT_EQ(validator["reasons"], json({{"rejected", 333}}));
}

}  // namespace
}  // namespace dhub::testing
