// SPDX-License-Identifier: Apache-2.0
// Validators that gate a channel, in dhub-kernel: a validator rejecting one numbered frame in ten runs in the
// producer's node before publication, slot by slot, in bursts and from a queue-mode component. The recorder of
// the channel gets exactly the other nine, in order; the quarantine channel's recorder gets exactly the
// rejected ones, byte for byte; the counts are in --report and in dhub-shm inspect; stop_graph ends the run.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::uint64_t FRAMES = 2000;
constexpr std::uint64_t EVERY = 10;
constexpr std::uint64_t PHASE = 3;

bool rejected(std::uint64_t number) {
    return number % EVERY == PHASE;
}

/// test.source.tick_frames' frame `number` (tests/test_plugins/gate.cpp), `bytes` long (a relay of the 8-byte
/// ticker ticks keeps only the number).
std::string frame(std::uint64_t number, std::size_t bytes) {
    std::uint64_t words[8] = {number};
    for (std::uint64_t i = 1; i < 8; ++i)
        words[i] = number * 0x9E3779B97F4A7C15ULL + i;
    return std::string(reinterpret_cast<const char*>(words), bytes);
}

std::uint64_t number_of(const RecordedSlot& slot) {
    std::uint64_t number = ~0ULL;
    if (slot.bytes.size() >= sizeof number) std::memcpy(&number, slot.bytes.data(), sizeof number);
    return number;
}

json gate_node(const std::string& id, const std::string& component) {
    return {{"id", id}, {"plugin", "test_gate"}, {"component", component}};
}

json recorder(const std::string& id, const std::string& channel, const std::filesystem::path& file) {
    return {{"id", id}, {"plugin", "recorder"}, {"params", {{"path", file.string()}}}, {"inputs", {channel}}};
}

/// The guarded channel "ticks": "tenth" rejects frame n when n % 10 == 3 (its copy goes to "ticks.rejected"),
/// then "pass" accepts the rest.
json guarded_channels(const std::string& on_reject = "quarantine") {
    json tenth = {{"name", "tenth"},
                  {"plugin", "test_gate"},
                  {"component", "test.validator.every_nth"},
                  {"params", {{"every", EVERY}, {"phase", PHASE}, {"kind", "tenth_frame"}}},
                  {"on_reject", on_reject}};
    if (on_reject == "quarantine") tenth["quarantine"] = "ticks.rejected";
    json channels = {
        {{"name", "ticks"},
         {"slot_bytes", 64},
         {"slot_count", 32},
         {"sync", "every_reader"},
         {"validators",
          {tenth, {{"name", "pass"}, {"plugin", "test_gate"}, {"component", "test.validator.accept_all"}}}}}};
    if (on_reject == "quarantine") channels.push_back({{"name", "ticks.rejected"}, {"slot_count", 32}});
    return channels;
}

struct ProducerPath {
    const char* label;
    std::size_t frame_bytes;
    /// The nodes up to the guarded channel "ticks".
    json (*nodes)();
};

json per_slot_source() {
    json source = gate_node("src", "test.source.tick_frames");
    source["params"] = {{"count", FRAMES}};
    source["burst"] = 1;
    source["outputs"] = {"ticks"};
    return json::array({source});
}

json burst_source() {
    json source = gate_node("src", "test.source.tick_frames");
    source["params"] = {{"count", FRAMES}};
    source["burst"] = 32;
    source["outputs"] = {"ticks"};
    return json::array({source});
}

/// A queue-mode relay publishes with the host's commit call.
json queue_relay() {
    return {{{"id", "src"},
             {"plugin", "test_ticker"},
             {"component", "test.source.ticker"},
             {"params", {{"count", FRAMES}}},
             {"outputs", {"raw"}}},
            {{"id", "relay"},
             {"plugin", "test_ticker"},
             {"component", "test.stage.ticker_relay"},
             {"inputs", {"raw"}},
             {"outputs", {"ticks"}}}};
}

class ChannelValidators_test : public ::testing::TestWithParam<ProducerPath> {};

TEST_P(ChannelValidators_test, ConsumersGetExactlyTheAcceptedFramesAndTheQuarantineExactlyTheRejected) {
    TempDir dir;
    json nodes = GetParam().nodes();
    nodes.push_back(recorder("rec", "ticks", dir / "ticks.dhr"));
    nodes.push_back(recorder("keep", "ticks.rejected", dir / "rejected.dhr"));
    json channels = guarded_channels();
    if (nodes[0]["outputs"][0] == "raw") channels.push_back({{"name", "raw"}, {"slot_bytes", 64}});
    const json graph = {{"schema_version", 1}, {"name", "guarded"}, {"channels", channels}, {"nodes", nodes}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;

    const std::size_t bytes = GetParam().frame_bytes;
    const Recording accepted = read_recording(dir / "ticks.dhr");
    const Recording quarantined = read_recording(dir / "rejected.dhr");
    ASSERT_TRUE(accepted.error.empty()) << accepted.error;
    ASSERT_TRUE(quarantined.error.empty()) << quarantined.error;
    std::vector<std::uint64_t> expected_accepted;
    std::vector<std::uint64_t> expected_rejected;
    for (std::uint64_t number = 0; number < FRAMES; ++number)
        (rejected(number) ? expected_rejected : expected_accepted).push_back(number);

    ASSERT_EQ(accepted.slots.size(), expected_accepted.size()) << run.output;
    for (std::size_t i = 0; i < accepted.slots.size(); ++i) {
        ASSERT_EQ(number_of(accepted.slots[i]), expected_accepted[i]) << "recorded slot " << i;
        ASSERT_EQ(accepted.slots[i].bytes, frame(expected_accepted[i], bytes)) << "recorded slot " << i;
        // A rejected slot leaves no gap in the sequence numbers the consumers see.
        ASSERT_EQ(accepted.slots[i].sequence, i);
    }
    ASSERT_EQ(quarantined.slots.size(), expected_rejected.size()) << run.output;
    for (std::size_t i = 0; i < quarantined.slots.size(); ++i) {
        ASSERT_EQ(quarantined.slots[i].bytes, frame(expected_rejected[i], bytes)) << "quarantined slot " << i;
    }
    EXPECT_EQ(accepted.gaps, 0u);

    const json& validators = run.report["validators"];
    ASSERT_EQ(validators.size(), 2u) << run.report.dump(2);
    EXPECT_EQ(validators[0]["channel"], "ticks");
    EXPECT_EQ(validators[0]["validator"], "tenth");
    EXPECT_EQ(validators[0]["on_reject"], "quarantine");
    EXPECT_EQ(validators[0]["quarantine"], "ticks.rejected");
    EXPECT_EQ(validators[0]["judged"], FRAMES);
    EXPECT_EQ(validators[0]["rejected"], expected_rejected.size());
    EXPECT_EQ(validators[0]["reasons"], json({{"tenth_frame", expected_rejected.size()}}));
    // The second validator never sees what the first rejected.
    EXPECT_EQ(validators[1]["validator"], "pass");
    EXPECT_EQ(validators[1]["judged"], expected_accepted.size());
    EXPECT_EQ(validators[1]["rejected"], 0);
    EXPECT_EQ(run.node("rec")["handled"], expected_accepted.size());
    EXPECT_EQ(run.node("keep")["handled"], expected_rejected.size());
}

INSTANTIATE_TEST_SUITE_P(Paths,
                         ChannelValidators_test,
                         ::testing::Values(ProducerPath{"SlotBySlot", 64, &per_slot_source},
                                           ProducerPath{"InBursts", 64, &burst_source},
                                           ProducerPath{"QueueMode", 8, &queue_relay}),
                         [](const ::testing::TestParamInfo<ProducerPath>& param_info) {
                             return std::string(param_info.param.label);
                         });

TEST(ChannelValidatorsOrder_test, EachValidatorSeesEachSlotOnceInOrderEvenWhenALaterOneRejects) {
    // monotonic_timestamp keeps the last timestamp it accepted: had it been asked about a slot twice (a burst
    // judged again after the next validator rejected one), it would reject the second time.
    TempDir dir;
    json nodes = burst_source();
    nodes[0]["params"]["stamp"] = true;
    nodes.push_back(recorder("rec", "ticks", dir / "ticks.dhr"));
    json channels = guarded_channels("drop");
    json& validators = channels[0]["validators"];
    validators = json::array({{{"name", "order"}, {"plugin", "monotonic_timestamp"}}, validators[0]});
    const json graph = {{"schema_version", 1}, {"name", "guarded"}, {"channels", channels}, {"nodes", nodes}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const json& report = run.report["validators"];
    ASSERT_EQ(report.size(), 2u) << run.report.dump(2);
    EXPECT_EQ(report[0]["judged"], FRAMES);
    EXPECT_EQ(report[0]["rejected"], 0) << run.output;
    EXPECT_EQ(report[1]["judged"], FRAMES);
    EXPECT_EQ(report[1]["rejected"], FRAMES / EVERY);
    const Recording accepted = read_recording(dir / "ticks.dhr");
    ASSERT_EQ(accepted.slots.size(), FRAMES - FRAMES / EVERY);
    for (const RecordedSlot& slot : accepted.slots)
        ASSERT_EQ(slot.timestamp_ns, 1000 + number_of(slot));
}

TEST(ChannelValidatorsFailure_test, AValidatorThatFailsVouchesForNothingItsSlotIsNotPublished) {
    TempDir dir;
    json nodes = burst_source();
    nodes.push_back(recorder("rec", "ticks", dir / "ticks.dhr"));
    json channels = guarded_channels("drop");
    channels[0]["validators"][0]["params"]["throw"] = true;
    const json graph = {{"schema_version", 1}, {"name", "guarded"}, {"channels", channels}, {"nodes", nodes}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const json& validator = run.report["validators"][0];
    EXPECT_EQ(validator["rejected"], FRAMES / EVERY) << run.report.dump(2);
    EXPECT_EQ(validator["reasons"], json({{"validator_error", FRAMES / EVERY}}));
    EXPECT_NE(run.output.find("cannot judge frame 3"), std::string::npos) << run.output;
    const Recording accepted = read_recording(dir / "ticks.dhr");
    ASSERT_EQ(accepted.slots.size(), FRAMES - FRAMES / EVERY);
    for (const RecordedSlot& slot : accepted.slots)
        ASSERT_FALSE(rejected(number_of(slot))) << "frame " << number_of(slot) << " was published";
}

TEST(ChannelValidatorsStop_test, ARejectionWithStopGraphEndsTheRunAndIsNeverPublished) {
    TempDir dir;
    json nodes = burst_source();
    nodes.push_back(recorder("rec", "ticks", dir / "ticks.dhr"));
    const json graph = {
        {"schema_version", 1}, {"name", "guarded"}, {"channels", guarded_channels("stop_graph")}, {"nodes", nodes}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    EXPECT_TRUE(run.status.exited && run.status.code == 4) << run.output;
    EXPECT_EQ(count_events(dir, "stop_requested", {{"cause", "validator"}}), 1u) << run.output;
    EXPECT_NE(run.output.find("validator 'tenth' of channel 'ticks' rejected a slot"), std::string::npos) << run.output;
    EXPECT_GE(run.report["validators"][0]["rejected"].get<std::uint64_t>(), 1u) << run.report.dump(2);
    const Recording accepted = read_recording(dir / "ticks.dhr");
    ASSERT_TRUE(accepted.error.empty()) << accepted.error;
    for (const RecordedSlot& slot : accepted.slots)
        ASSERT_FALSE(rejected(number_of(slot))) << "frame " << number_of(slot) << " was published";
}

TEST(ChannelValidatorsInspect_test, DhubShmInspectShowsTheRejectionsOfALiveChannel) {
    TempDir dir;
    json source = gate_node("src", "test.source.tick_frames");
    source["params"] = {{"rate_hz", 2000}};
    source["outputs"] = {"ticks"};
    const json graph = {{"schema_version", 1},
                        {"name", "guarded"},
                        {"channels", guarded_channels("drop")},
                        {"nodes", {source, recorder("rec", "ticks", dir / "ticks.dhr")}}};
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(wait_until([&] { return count_events(dir, "graph_started") == 1; }))
        << read_text_file((dir / "kernel.log").string());
    std::string prefix;
    for (const json& event : read_events(dir)) {
        if (event["event"] == "graph_started") prefix = event["segment_prefix"];
    }
    json rows;
    const bool counted = wait_until(
        [&] {
            auto inspect = ChildProcess::spawn(DHUB_SHM_CLI, {"inspect", prefix + ".ticks", "--json"},
                                               (dir / "inspect.json").string());
            const ExitStatus inspected = inspect.wait(10s);
            if (!inspected.exited || inspected.code != 0) return false;
            const json info = json::parse(read_text_file((dir / "inspect.json").string()), nullptr, false);
            if (info.is_discarded()) return false;
            rows = info["validators"];
            return rows.size() == 1 && rows[0]["rejected"].get<std::uint64_t>() >= 5;
        },
        15s);
    ASSERT_TRUE(counted) << rows.dump(2) << read_text_file((dir / "inspect.json").string());
    EXPECT_EQ(rows[0]["validator"], "tenth");
    EXPECT_EQ(rows[0]["reason"], "tenth_frame");
    EXPECT_EQ(rows[0]["on_reject"], "drop");

    // The text form names them too.
    auto text = ChildProcess::spawn(DHUB_SHM_CLI, {"inspect", prefix + ".ticks"}, (dir / "inspect.txt").string());
    ASSERT_TRUE(text.wait(10s).exited);
    const std::string printed = read_text_file((dir / "inspect.txt").string());
    EXPECT_NE(printed.find("validators (rejected slots, never published)"), std::string::npos) << printed;
    EXPECT_NE(printed.find("tenth_frame"), std::string::npos) << printed;

    kernel.kill(SIGINT);
    const ExitStatus status = kernel.wait(30s);
    EXPECT_EQ(status.code, 0) << read_text_file((dir / "kernel.log").string());
}

}  // namespace
}  // namespace dhub::testing
