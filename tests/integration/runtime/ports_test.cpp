// SPDX-License-Identifier: Apache-2.0
// Components with several ports (SDK 1.2) in the kernel: the built dhub-correlate.so and dhub-fanout.so fed by
// real sources, their outputs recorded by dhub-recorder.so and read back from the files.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/formats/correlated.hpp"
#include "dhub/formats/waveform.hpp"
#include "dhub/runtime/plugin_clock.hpp"
#include "support/child_process.hpp"
#include "support/graph_under_test.hpp"
#include "support/recording_files.hpp"
#include "support/temp_dir.hpp"

namespace dhub::runtime {
namespace {

using dhub::testing::report_of;
using dhub::testing::wait_until;
using Json = nlohmann::json;

constexpr std::uint64_t MS = 1'000'000;

class GraphUnderTest : public dhub::testing::GraphUnderTest {
public:
    explicit GraphUnderTest(const Json& document)
        : dhub::testing::GraphUnderTest(document.dump(), {DHUB_PLUGIN_DIR, DHUB_TEST_PLUGIN_DIR}) {}
};

std::uint64_t tick_of(std::span<const std::byte> payload) {
    std::uint64_t value = 0;
    EXPECT_EQ(payload.size(), sizeof value);
    if (payload.size() >= sizeof value) std::memcpy(&value, payload.data(), sizeof value);
    return value;
}

std::unique_ptr<GraphRunner> run_to_end(GraphUnderTest& graph, std::shared_ptr<const PluginClock> clock = {}) {
    EXPECT_EQ(graph.problems(), "");
    auto created = graph.runner(std::move(clock));
    EXPECT_TRUE(created) << (created ? "" : created.error().error.message);
    if (!created) return nullptr;
    return std::move(created.value());
}

/// A sim_source of 1-channel, 4-sample counter frames (max_frames 0: no end) writing channel.
Json sim_node(const char* id, double rate, int frames, const char* channel) {
    return Json{{"id", id},
                {"plugin", "sim_source"},
                {"params",
                 {{"rate_hz", rate},
                  {"channels", 1},
                  {"samples_per_channel", 4},
                  {"max_frames", frames},
                  {"waveform", "counter"}}},
                {"outputs", {channel}}};
}

// Two tickers of 3000 slots each, paired by sequence: every pair holds equal ticks, in order, none lost.
TEST(Ports_test, CorrelateBySequencePairsEverySlotOfTwoSources) {
    dhub::testing::TempDir dir("dhub-ports");
    const std::string pairs = (dir.path() / "pairs.dhr").string();
    GraphUnderTest graph(
        Json{{"schema_version", 1},
             {"channels",
              {{{"name", "a"}, {"slot_bytes", 64}},
               {{"name", "b"}, {"slot_bytes", 64}},
               {{"name", "pairs"}, {"slot_bytes", 256}}}},
             {"nodes",
              {{{"id", "tick_a"},
                {"plugin", "test_ticker"},
                {"component", "test.source.ticker"},
                {"params", {{"count", 3000}}},
                {"outputs", {"a"}}},
               {{"id", "tick_b"},
                {"plugin", "test_ticker"},
                {"component", "test.source.ticker"},
                {"params", {{"count", 3000}}},
                {"outputs", {"b"}}},
               {{"id", "pair"},
                {"plugin", "correlate"},
                {"params", {{"match", "sequence"}}},
                {"inputs", {{"in", {"a", "b"}}}},
                {"outputs", {{"out", "pairs"}}}},
               {{"id", "rec"}, {"plugin", "recorder"}, {"params", {{"path", pairs}}}, {"inputs", {"pairs"}}}}}});
    auto runner = run_to_end(graph);
    ASSERT_NE(runner, nullptr);
    runner->start();
    EXPECT_EQ(runner->wait(), ExitCode::Ok);
    const auto reports = runner->reports();
    EXPECT_EQ(report_of(reports, "pair").end_reason, EndReason::InputClosed);
    EXPECT_EQ(report_of(reports, "pair").slots_in, 6000u);
    EXPECT_EQ(report_of(reports, "pair").slots_out, 3000u);
    EXPECT_EQ(report_of(reports, "pair").errors, 0u);

    const auto recording = dhub::test::read_recording(pairs);
    ASSERT_EQ(recording.records.size(), 3000u);
    for (std::size_t i = 0; i < recording.records.size(); ++i) {
        const std::vector<std::byte> slot = recording.slot_bytes(recording.records[i]);
        const auto parts = formats::parse_correlated(slot);
        ASSERT_TRUE(parts.has_value()) << "record " << i;
        ASSERT_EQ(parts->size(), 2u);
        EXPECT_EQ((*parts)[0].part.sequence, i);
        EXPECT_EQ((*parts)[1].part.sequence, i);
        EXPECT_EQ(tick_of((*parts)[0].payload), i);
        EXPECT_EQ(tick_of((*parts)[1].payload), i);
    }
}

// A 1 kHz and a 500 Hz source on one manual clock: every 500 Hz frame has a 1 kHz partner with the same
// timestamp; the 1 kHz frames between them find none and go, unchanged, to the "unmatched" output.
TEST(Ports_test, CorrelateByTimestampSendsTheUnmatchedToTheirOwnOutput) {
    dhub::testing::TempDir dir("dhub-ports");
    const std::string sets = (dir.path() / "sets.dhr").string();
    const std::string unmatched = (dir.path() / "unmatched.dhr").string();
    GraphUnderTest graph(Json{
        {"schema_version", 1},
        {"channels",
         {{{"name", "fast"}, {"slot_bytes", 256}},
          {{"name", "slow"}, {"slot_bytes", 256}},
          {{"name", "sets"}, {"slot_bytes", 1024}},
          {{"name", "lonely"}, {"slot_bytes", 256}}}},
        {"nodes",
         {sim_node("fast_src", 1000, 100, "fast"),
          sim_node("slow_src", 500, 50, "slow"),
          {{"id", "pair"},
           {"plugin", "correlate"},
           {"params", {{"match", "timestamp"}, {"tolerance_ns", 100000}}},
           {"inputs", {{"in", {"fast", "slow"}}}},
           {"outputs", {{"out", "sets"}, {"unmatched", "lonely"}}}},
          {{"id", "rec_sets"}, {"plugin", "recorder"}, {"params", {{"path", sets}}}, {"inputs", {"sets"}}},
          {{"id", "rec_lonely"}, {"plugin", "recorder"}, {"params", {{"path", unmatched}}}, {"inputs", {"lonely"}}}}}});
    auto clock = std::make_shared<ManualClock>();
    const std::uint64_t start = clock->now_ns();
    auto runner = run_to_end(graph, clock);
    ASSERT_NE(runner, nullptr);
    runner->start();
    // Time moves a millisecond at a time, once the frames due so far are out: no source ever falls behind.
    for (std::uint64_t ms = 1; ms <= 100; ++ms) {
        ASSERT_TRUE(wait_until([&] {
            const auto reports = runner->reports();
            return report_of(reports, "fast_src").slots_out >= std::min<std::uint64_t>(ms, 100) &&
                   report_of(reports, "slow_src").slots_out >= std::min<std::uint64_t>((ms + 1) / 2, 50);
        })) << "at "
            << ms << " ms";
        clock->advance(MS);
    }
    EXPECT_EQ(runner->wait(), ExitCode::Ok);
    const auto reports = runner->reports();
    EXPECT_EQ(report_of(reports, "pair").errors, 0u);

    const auto matched = dhub::test::read_recording(sets);
    ASSERT_EQ(matched.records.size(), 50u);
    for (std::size_t j = 0; j < matched.records.size(); ++j) {
        const std::vector<std::byte> slot = matched.slot_bytes(matched.records[j]);
        const auto parts = formats::parse_correlated(slot);
        ASSERT_TRUE(parts.has_value());
        ASSERT_EQ(parts->size(), 2u);
        EXPECT_EQ((*parts)[0].part.timestamp_ns, start + 2 * j * MS) << "set " << j;  // fast frame 2j
        EXPECT_EQ((*parts)[1].part.timestamp_ns, start + 2 * j * MS);                 // slow frame j
        EXPECT_EQ((*parts)[0].part.sequence, 2 * j);
        EXPECT_EQ((*parts)[1].part.sequence, j);
        EXPECT_EQ((*parts)[0].payload.size(), formats::waveform_frame_bytes(1, 4));
    }
    const auto lonely = dhub::test::read_recording(unmatched);
    ASSERT_EQ(lonely.records.size(), 50u);
    for (std::size_t k = 0; k < lonely.records.size(); ++k) {
        EXPECT_EQ(lonely.records[k].timestamp_ns, start + (2 * k + 1) * MS) << "unmatched " << k;  // odd frames
    }
}

// A partner input that stays open but silent: with max_wait_ns the correlator gives its slots up (the kernel
// calls it every 100 ms while it keeps slots); without, they would wait for as long as that input is open.
TEST(Ports_test, CorrelateGivesUpOnAPartnerThatNeverComesAfterMaxWait) {
    dhub::testing::TempDir dir("dhub-ports");
    const std::string unmatched = (dir.path() / "unmatched.dhr").string();
    GraphUnderTest graph(Json{
        {"schema_version", 1},
        {"channels",
         {{{"name", "fast"}, {"slot_bytes", 256}},
          {{"name", "silent"}, {"slot_bytes", 256}},
          {{"name", "sets"}, {"slot_bytes", 1024}},
          {{"name", "lonely"}, {"slot_bytes", 256}}}},
        {"nodes",
         {sim_node("fast_src", 1000, 5, "fast"),
          sim_node("silent_src", 0.001, 0, "silent"),
          {{"id", "pair"},
           {"plugin", "correlate"},
           {"params", {{"tolerance_ns", 0}, {"max_wait_ns", 5 * MS}}},
           {"inputs", {{"in", {"fast", "silent"}}}},
           {"outputs", {{"out", "sets"}, {"unmatched", "lonely"}}}},
          {{"id", "sets"}, {"plugin", "stats"}, {"inputs", {"sets"}}},
          {{"id", "rec_lonely"}, {"plugin", "recorder"}, {"params", {{"path", unmatched}}}, {"inputs", {"lonely"}}}}}});
    auto clock = std::make_shared<ManualClock>();
    auto runner = run_to_end(graph, clock);
    ASSERT_NE(runner, nullptr);
    runner->start();
    // Frame 0 of both sources is due at once and matches; fast frames 1..4 follow, their partner never does.
    // The match must happen before the clock moves: a fast frame 0 seen alone at 24 ms is rightly given up.
    ASSERT_TRUE(wait_until([&] { return report_of(runner->reports(), "sets").slots_in == 1; }));
    for (std::uint64_t ms = 1; ms <= 4; ++ms) {
        ASSERT_TRUE(wait_until([&] { return report_of(runner->reports(), "fast_src").slots_out >= ms; }));
        clock->advance(MS);
    }
    clock->advance(20 * MS);  // now every held fast frame is more than max_wait_ns old
    EXPECT_TRUE(wait_until([&] { return report_of(runner->reports(), "rec_lonely").slots_in == 4; }))
        << report_of(runner->reports(), "rec_lonely").slots_in;
    runner->request_stop();
    EXPECT_EQ(runner->wait(), ExitCode::Ok);
    EXPECT_EQ(report_of(runner->reports(), "sets").slots_in, 1u);
    EXPECT_EQ(dhub::test::read_recording(unmatched).records.size(), 4u);
}

std::vector<std::uint64_t> recorded_ticks(const std::string& path) {
    const auto recording = dhub::test::read_recording(path);
    std::vector<std::uint64_t> ticks;
    for (const auto& record : recording.records)
        ticks.push_back(tick_of(recording.slot_bytes(record)));
    return ticks;
}

// A stage's bursts (SDK 1.2): sum3 consumes whole groups of three and leaves a partial group to be offered
// again with more. Slot by slot and in bursts of every size, the same sums, none lost or doubled.
TEST(Ports_test, AStageInBurstsConsumesWhatItTakesAndIsOfferedTheRestAgain) {
    for (const int burst : {1, 3, 4, 32}) {
        dhub::testing::TempDir dir("dhub-ports");
        const std::string sums = (dir.path() / "sums.dhr").string();
        GraphUnderTest graph(Json{
            {"schema_version", 1},
            {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}}, {{"name", "sums"}, {"slot_bytes", 64}}}},
            {"nodes",
             {{{"id", "tick"},
               {"plugin", "test_ticker"},
               {"component", "test.source.ticker"},
               {"params", {{"count", 3001}}},
               {"outputs", {"ticks"}}},
              {{"id", "sum"}, {"plugin", "test_sum3"}, {"burst", burst}, {"inputs", {"ticks"}}, {"outputs", {"sums"}}},
              {{"id", "rec"}, {"plugin", "recorder"}, {"params", {{"path", sums}}}, {"inputs", {"sums"}}}}}});
        auto runner = run_to_end(graph);
        ASSERT_NE(runner, nullptr);
        runner->start();
        EXPECT_EQ(runner->wait(), ExitCode::Ok);
        const NodeReport sum = report_of(runner->reports(), "sum");
        EXPECT_EQ(sum.errors, 0u) << "burst " << burst;
        EXPECT_EQ(sum.slots_in, 3001u) << "burst " << burst << ": every tick consumed once (the last one alone)";
        if (burst > 1) {
            EXPECT_GT(sum.burst_calls, 0u);
        }
        std::vector<std::uint64_t> expected;
        for (std::uint64_t group = 0; group < 1000; ++group)
            expected.push_back(9 * group + 3);  // 3g + (3g + 1) + (3g + 2)
        EXPECT_EQ(recorded_ticks(sums), expected) << "burst " << burst;
    }
}

// A burst smaller than what the stage needs at once: it consumes nothing of a full burst, which would offer
// it the same slots forever. The kernel says so (an error) and releases them; the graph still ends.
TEST(Ports_test, AStageThatConsumesNothingOfAFullBurstIsToldAndDoesNotWedgeItsInput) {
    GraphUnderTest graph(
        Json{{"schema_version", 1},
             {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}}, {{"name", "sums"}, {"slot_bytes", 64}}}},
             {"nodes",
              {{{"id", "tick"},
                {"plugin", "test_ticker"},
                {"component", "test.source.ticker"},
                {"params", {{"count", 300}}},
                {"outputs", {"ticks"}}},
               {{"id", "sum"},
                {"plugin", "test_sum3"},
                {"burst", 2},
                {"inputs", {"ticks"}},
                {"outputs", {"sums"}},
                {"on_error", {{"action", "continue"}}}},
               {{"id", "drain"}, {"plugin", "stats"}, {"inputs", {"sums"}}}}}});
    auto runner = run_to_end(graph);
    ASSERT_NE(runner, nullptr);
    runner->start();
    EXPECT_EQ(runner->wait(), ExitCode::Ok);
    const NodeReport sum = report_of(runner->reports(), "sum");
    EXPECT_GT(sum.errors, 0u);
    EXPECT_EQ(sum.slots_in, 300u);
    EXPECT_EQ(sum.end_reason, EndReason::InputClosed);
}

/// One ticker into a fanout component with three outputs, each recorded.
Json fanout_graph(const char* component, const Json& params, const std::vector<std::string>& files) {
    Json channels = {{{"name", "ticks"}, {"slot_bytes", 64}}};
    Json outputs = Json::array();
    Json nodes = {{{"id", "tick"},
                   {"plugin", "test_ticker"},
                   {"component", "test.source.ticker"},
                   {"params", {{"count", 3000}}},
                   {"outputs", {"ticks"}}}};
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string name = "out" + std::to_string(i);
        channels.push_back({{"name", name}, {"slot_bytes", 64}});
        outputs.push_back(name);
        nodes.push_back({{"id", "rec" + std::to_string(i)},
                         {"plugin", "recorder"},
                         {"params", {{"path", files[i]}}},
                         {"inputs", {name}}});
    }
    nodes.push_back({{"id", "fan"},
                     {"plugin", "fanout"},
                     {"component", component},
                     {"params", params},
                     {"inputs", {"ticks"}},
                     {"outputs", {{"out", outputs}}}});
    return {{"schema_version", 1}, {"channels", channels}, {"nodes", nodes}};
}

TEST(Ports_test, TeeCopiesEverySlotToEveryOutput) {
    dhub::testing::TempDir dir("dhub-ports");
    std::vector<std::string> files;
    for (int i = 0; i < 3; ++i)
        files.push_back((dir.path() / ("tee" + std::to_string(i) + ".dhr")).string());
    GraphUnderTest graph(fanout_graph("dhub.stage.tee", Json::object(), files));
    auto runner = run_to_end(graph);
    ASSERT_NE(runner, nullptr);
    runner->start();
    EXPECT_EQ(runner->wait(), ExitCode::Ok);
    std::vector<std::uint64_t> expected(3000);
    for (std::uint64_t i = 0; i < expected.size(); ++i)
        expected[i] = i;
    for (const std::string& file : files)
        EXPECT_EQ(recorded_ticks(file), expected) << file;
}

TEST(Ports_test, DemuxSendsEachSlotToTheOutputItsRuleNames) {
    dhub::testing::TempDir dir("dhub-ports");
    std::vector<std::string> files;
    for (int i = 0; i < 3; ++i)
        files.push_back((dir.path() / ("demux" + std::to_string(i) + ".dhr")).string());
    // The tick's low byte as the output index: ticks 0, 1, 2 go to outputs 0, 1, 2; 3 and up name none.
    GraphUnderTest graph(fanout_graph("dhub.stage.demux", {{"rule", "field"}, {"offset", 0}, {"width", 1}}, files));
    auto runner = run_to_end(graph);
    ASSERT_NE(runner, nullptr);
    runner->start();
    EXPECT_EQ(runner->wait(), ExitCode::Ok);
    std::vector<std::vector<std::uint64_t>> expected(3);
    for (std::uint64_t tick = 0; tick < 3000; ++tick) {
        if ((tick & 0xff) < 3) expected[tick & 0xff].push_back(tick);
    }
    for (std::size_t i = 0; i < files.size(); ++i)
        EXPECT_EQ(recorded_ticks(files[i]), expected[i]) << files[i];
    EXPECT_EQ(report_of(runner->reports(), "fan").slots_in, 3000u);
}

TEST(Ports_test, DemuxBySequenceSpreadsEvenly) {
    dhub::testing::TempDir dir("dhub-ports");
    std::vector<std::string> files;
    for (int i = 0; i < 3; ++i)
        files.push_back((dir.path() / ("seq" + std::to_string(i) + ".dhr")).string());
    GraphUnderTest graph(fanout_graph("dhub.stage.demux", {{"rule", "sequence"}}, files));
    auto runner = run_to_end(graph);
    ASSERT_NE(runner, nullptr);
    runner->start();
    EXPECT_EQ(runner->wait(), ExitCode::Ok);
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto ticks = recorded_ticks(files[i]);
        ASSERT_EQ(ticks.size(), 1000u) << files[i];
        for (std::size_t k = 0; k < ticks.size(); ++k)
            EXPECT_EQ(ticks[k], 3 * k + i);
    }
}

}  // namespace
}  // namespace dhub::runtime
