// SPDX-License-Identifier: Apache-2.0
// GraphRunner in this process: real plugins loaded by the real loader, a graph parsed and validated as
// dhub-kernel does, nodes on their own threads — and time that moves only when the test moves it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "dhub/runtime/plugin_clock.hpp"
#include "support/child_process.hpp"
#include "support/graph_under_test.hpp"
#include "support/temp_dir.hpp"

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;
using dhub::testing::wait_until;

constexpr std::uint64_t MS = 1'000'000;

/// A graph of this build's plugins and test plugins.
class GraphUnderTest : public dhub::testing::GraphUnderTest {
public:
    explicit GraphUnderTest(const std::string& json)
        : dhub::testing::GraphUnderTest(json, {DHUB_PLUGIN_DIR, DHUB_TEST_PLUGIN_DIR}) {}
};

using dhub::testing::report_of;

std::uint64_t slots_out(const GraphRunner& runner, const std::string& id) {
    return report_of(runner.reports(), id).slots_out;
}

constexpr const char* PACED_GRAPH = R"({
  "schema_version": 1,
  "channels": [{"name": "frames", "slot_bytes": 4096, "slot_count": 64}],
  "nodes": [
    {"id": "sim", "plugin": "sim_source", "params": {"rate_hz": 1000, "channels": 1, "samples_per_channel": 16},
     "outputs": ["frames"]},
    {"id": "stats", "plugin": "stats", "inputs": ["frames"]}
  ]
})";

// A 1 kHz source on a manual clock: one frame at the start, then exactly one per millisecond the clock moves,
// and none while it stands still however long the test waits.
TEST(GraphRunner_test, ASourcePacedOnAManualClockPublishesExactlyTheFramesDue) {
    GraphUnderTest graph(PACED_GRAPH);
    ASSERT_EQ(graph.problems(), "");
    auto clock = std::make_shared<ManualClock>();
    auto created = graph.runner(clock);
    ASSERT_TRUE(created) << created.error().error.message;
    GraphRunner& runner = *created.value();
    runner.start();

    ASSERT_TRUE(wait_until([&] { return slots_out(runner, "sim") == 1; }));  // the frame due at the start
    std::this_thread::sleep_for(30ms);                                       // real time passes, virtual does not
    EXPECT_EQ(slots_out(runner, "sim"), 1u);

    clock->advance(10 * MS);
    ASSERT_TRUE(wait_until([&] { return slots_out(runner, "sim") == 11; })) << slots_out(runner, "sim");
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(slots_out(runner, "sim"), 11u);

    runner.request_stop();  // interrupts the source's virtual sleep at once
    EXPECT_EQ(runner.wait(), ExitCode::Ok);
    const auto reports = runner.reports();
    EXPECT_EQ(report_of(reports, "sim").slots_out, 11u);
    EXPECT_EQ(report_of(reports, "stats").slots_in, 11u);  // lossless: every frame reached the sink
    EXPECT_EQ(report_of(reports, "sim").end_reason, EndReason::Stopped);
    EXPECT_EQ(report_of(reports, "stats").end_reason, EndReason::InputClosed);
}

TEST(GraphRunner_test, RunForStopsTheGraphGracefullyAtTheEndOfTheSpan) {
    GraphUnderTest graph(PACED_GRAPH);
    auto created = graph.runner();
    ASSERT_TRUE(created) << created.error().error.message;
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(created.value()->run_for(200ms), ExitCode::Ok);
    EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
    const auto reports = created.value()->reports();
    EXPECT_GT(report_of(reports, "sim").slots_out, 0u);
    EXPECT_EQ(report_of(reports, "stats").slots_in, report_of(reports, "sim").slots_out);
}

TEST(GraphRunner_test, AStopGraphPolicyEndsTheRunWithARuntimeError) {
    GraphUnderTest graph(R"({
      "schema_version": 1,
      "channels": [{"name": "ticks", "slot_bytes": 64}, {"name": "out", "slot_bytes": 64}],
      "nodes": [
        {"id": "tick", "plugin": "test_ticker", "component": "test.source.ticker", "params": {"count": 100},
         "outputs": ["ticks"]},
        {"id": "faulty", "plugin": "test_failing", "inputs": ["ticks"], "outputs": ["out"],
         "on_error": {"action": "stop_graph", "max_consecutive": 3}},
        {"id": "sink", "plugin": "test_ticker", "component": "test.sink.ticker", "inputs": ["out"]}
      ]
    })");
    ASSERT_EQ(graph.problems(), "");
    auto created = graph.runner();
    ASSERT_TRUE(created) << created.error().error.message;
    created.value()->start();
    EXPECT_EQ(created.value()->wait(), ExitCode::RuntimeError);
    const NodeReport faulty = report_of(created.value()->reports(), "faulty");
    EXPECT_EQ(faulty.end_reason, EndReason::ErrorPolicyGraph);
    EXPECT_EQ(faulty.errors, 3u);
}

TEST(GraphRunner_test, AComponentThatRefusesToBeCreatedFailsTheNodeStepAndLeavesNoSegment) {
    GraphUnderTest graph(R"({
      "schema_version": 1,
      "name": "refusing-in-process",
      "channels": [{"name": "a", "slot_bytes": 64}],
      "nodes": [{"id": "camera0", "plugin": "test_throws", "outputs": ["a"]},
                {"id": "sink", "plugin": "stats", "inputs": ["a"]}]
    })");
    ASSERT_EQ(graph.problems(), "");
    auto created = graph.runner();
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().step, SetupStep::Node);
    EXPECT_EQ(exit_code_of(created.error().step), ExitCode::PluginError);
    EXPECT_NE(created.error().error.message.find("camera0"), std::string::npos) << created.error().error.message;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
        EXPECT_EQ(entry.path().filename().string().find("refusing-in-process"), std::string::npos) << entry.path();
    }
}

/// Sets an environment variable for the test's lifetime (test_init_once reads its settings from there).
class ScopedEnvironment {
public:
    ScopedEnvironment(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
    ~ScopedEnvironment() { ::unsetenv(name_); }
    ScopedEnvironment(const ScopedEnvironment&) = delete;
    ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

private:
    const char* name_;
};

constexpr const char* INIT_ONCE_GRAPH = R"({
  "schema_version": 1,
  "channels": [{"name": "a", "slot_bytes": 64}, {"name": "b", "slot_bytes": 64}],
  "nodes": [{"id": "first", "plugin": "test_init_once", "outputs": ["a"]},
            {"id": "second", "plugin": "test_init_once", "outputs": ["b"]},
            {"id": "sink_a", "plugin": "stats", "inputs": ["a"]},
            {"id": "sink_b", "plugin": "stats", "inputs": ["b"]}]
})";

TEST(GraphRunner_test, APluginsInitRunsOnceBeforeItsNodesAndShutdownOnceAfterThem) {
    dhub::testing::TempDir dir("dhub-init");
    const std::string log = (dir.path() / "calls").string();
    const ScopedEnvironment logging("DHUB_TEST_INIT_LOG", log);
    {
        GraphUnderTest graph(INIT_ONCE_GRAPH);
        ASSERT_EQ(graph.problems(), "");
        EXPECT_FALSE(std::filesystem::exists(log)) << "validation must not initialise a plugin";
        auto created = graph.runner();
        ASSERT_TRUE(created) << created.error().error.message;
        EXPECT_EQ(dhub::testing::read_text_file(log), "init\n");
        created.value()->start();
        EXPECT_EQ(created.value()->wait(), ExitCode::Ok);
        EXPECT_EQ(report_of(created.value()->reports(), "sink_b").slots_in, 10u);
    }
    EXPECT_EQ(dhub::testing::read_text_file(log), "init\nshutdown\n");
}

TEST(GraphRunner_test, AFailingPluginInitRefusesTheRunWithThePluginsMessage) {
    dhub::testing::TempDir dir("dhub-init");
    const std::string log = (dir.path() / "calls").string();
    const ScopedEnvironment logging("DHUB_TEST_INIT_LOG", log);
    const ScopedEnvironment failing("DHUB_TEST_INIT_FAIL", "no frame grabber on PCIe slot 3");
    GraphUnderTest graph(INIT_ONCE_GRAPH);
    ASSERT_EQ(graph.problems(), "");
    auto created = graph.runner();
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().step, SetupStep::Plugin);
    const std::string& message = created.error().error.message;
    EXPECT_NE(message.find("node 'first'"), std::string::npos) << message;
    EXPECT_NE(message.find("dhub-test_init_once.so failed to initialise"), std::string::npos) << message;
    EXPECT_NE(message.find("no frame grabber on PCIe slot 3"), std::string::npos) << message;
    // Not initialised, so not shut down.
    EXPECT_EQ(dhub::testing::read_text_file(log), "init\n");
}

}  // namespace
}  // namespace dhub::runtime
