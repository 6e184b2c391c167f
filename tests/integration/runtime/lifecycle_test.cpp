// SPDX-License-Identifier: Apache-2.0
// A node's life (docs/kernel.md, "A node's life"): created, starting, running, paused, draining, stopped or
// failed. Each change is a node_state event with its reason and the node's state in the counters page; errors
// and a latest-only input's gaps are events too, paced so that a node failing on every slot cannot flood the
// stream. Real plugins in this process, real time.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dhub/counters/page_reader.hpp"
#include "support/child_process.hpp"
#include "support/event_file.hpp"
#include "support/graph_under_test.hpp"
#include "support/temp_dir.hpp"

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;
using dhub::testing::report_of;
using dhub::testing::wait_until;
using nlohmann::json;

/// tick (test.source.ticker) -> ticks (`sync`, 8 slots) -> sink (test.sink.ticker, delay_ms).
std::string ticker_graph(const std::string& sync, double sink_delay_ms, const std::string& sink = "test.sink.ticker") {
    json graph = {
        {"schema_version", 1},
        {"name", "life"},
        {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}, {"sync", sync}}}},
        {"nodes",
         {{{"id", "tick"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
          {{"id", "sink"}, {"plugin", "test_ticker"}, {"component", sink}, {"inputs", {"ticks"}}}}}};
    if (sink == "test.sink.ticker") graph["nodes"][1]["params"] = {{"delay_ms", sink_delay_ms}};
    return graph.dump();
}

class Lifecycle_test : public ::testing::Test {
protected:
    void start(const std::string& graph_json) {
        graph_ = std::make_unique<dhub::testing::GraphUnderTest>(
            graph_json, std::vector<std::filesystem::path>{DHUB_PLUGIN_DIR, DHUB_TEST_PLUGIN_DIR});
        ASSERT_EQ(graph_->problems(), "");
        RunnerOptions options;
        options.segment_prefix = "life-" + std::to_string(::getpid()) + "-" + std::to_string(++runs_);
        options.events_file = events_file();
        auto created = graph_->runner(options);
        ASSERT_TRUE(created) << created.error().error.message;
        runner_ = std::move(created.value());
        runner_->start();
        page_ = "dhubctr1." + options.segment_prefix;
    }
    std::filesystem::path events_file() const { return dir_.path() / "events.jsonl"; }
    /// The node_state events of node, as "from>to:reason".
    std::vector<std::string> states_of(const std::string& node) const {
        std::vector<std::string> states;
        for (const json& event : dhub::testing::read_event_file(events_file())) {
            if (event.value("event", "") != "node_state" || event.value("node", "") != node) continue;
            states.push_back(event.value("from", "") + ">" + event.value("to", "") + ":" + event.value("reason", ""));
        }
        return states;
    }
    std::size_t count(const std::string& event, const json& fields = json::object()) const {
        return dhub::testing::count_events_in(events_file(), event, fields);
    }
    /// The node's state as the counters page shows it to another process.
    std::string page_state(const std::string& node) const {
        auto reader = counters::PageReader::open(page_);
        if (!reader) return "no page: " + reader.error().message;
        for (const counters::NodeCounts& counts : reader.value().read().nodes) {
            if (counts.id == node) return counters::to_string(counts.state) + std::string(":") + counts.end_reason;
        }
        return "no node " + node;
    }
    std::uint64_t slots_in(const std::string& node) const { return report_of(runner_->reports(), node).slots_in; }
    std::uint64_t slots_out(const std::string& node) const { return report_of(runner_->reports(), node).slots_out; }

    dhub::testing::TempDir dir_;
    std::unique_ptr<dhub::testing::GraphUnderTest> graph_;
    std::unique_ptr<GraphRunner> runner_;
    std::string page_;
    static inline int runs_ = 0;
};

TEST_F(Lifecycle_test, EveryNodeGoesThroughItsStatesAndEachChangeIsAnEventWithItsReason) {
    start(ticker_graph("single_reader", 0));
    ASSERT_TRUE(wait_until([&] { return slots_in("sink") > 10; }));
    EXPECT_EQ(page_state("sink"), "running:");
    runner_->request_stop();
    EXPECT_EQ(runner_->wait(), ExitCode::Ok);

    // The source is stopped; the sink drains what the ring holds and ends when its input closes.
    EXPECT_EQ(states_of("tick"), (std::vector<std::string>{"created>starting:thread_started",
                                                           "starting>running:started", "running>stopped:stopped"}));
    EXPECT_EQ(states_of("sink"),
              (std::vector<std::string>{"created>starting:thread_started", "starting>running:started",
                                        "running>draining:graph_stopping", "draining>stopped:input_closed"}));
    EXPECT_EQ(page_state("tick"), "stopped:stopped");
    EXPECT_EQ(page_state("sink"), "stopped:input_closed");
    EXPECT_EQ(slots_in("sink"), slots_out("tick"));  // draining lost nothing
}

TEST_F(Lifecycle_test, APausedNodeTakesNoSlotUntilResumedAndItsLosslessInputHoldsTheProducerBack) {
    start(ticker_graph("single_reader", 0));
    ASSERT_TRUE(wait_until([&] { return slots_in("sink") > 10; }));
    ASSERT_TRUE(runner_->pause_node("sink")) << "a running node pauses";
    EXPECT_EQ(page_state("sink"), "paused:");
    // It finishes the step it is in, then takes nothing: its count stands still, and the source fills the ring
    // of 8 and waits.
    std::uint64_t held = 0;
    ASSERT_TRUE(wait_until(
        [&] {
            const std::uint64_t before = slots_in("sink");
            std::this_thread::sleep_for(30ms);
            held = before;
            return slots_in("sink") == before;
        },
        5s));
    EXPECT_LE(slots_out("tick"), held + 8 + 1) << "the producer kept writing past a full ring";

    auto again = runner_->pause_node("sink");
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("node 'sink' is paused: only a running node can be paused"), std::string::npos)
        << again.error().message;
    auto unknown = runner_->pause_node("nobody");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::NotFound);
    auto running = runner_->resume_node("tick");
    ASSERT_FALSE(running);
    EXPECT_NE(running.error().message.find("node 'tick' is running, not paused"), std::string::npos);

    ASSERT_TRUE(runner_->resume_node("sink"));
    EXPECT_TRUE(wait_until([&] { return slots_in("sink") > held + 100; })) << "resumed, it reads again";
    runner_->request_stop();
    EXPECT_EQ(runner_->wait(), ExitCode::Ok);
    EXPECT_EQ(slots_in("sink"), slots_out("tick"));
    const auto states = states_of("sink");
    ASSERT_GE(states.size(), 4u);
    EXPECT_EQ(states[2], "running>paused:pause_requested");
    EXPECT_EQ(states[3], "paused>running:resume_requested");
}

TEST_F(Lifecycle_test, APausedNodeResumesToDrainWhenTheGraphStops) {
    start(ticker_graph("single_reader", 0));
    ASSERT_TRUE(wait_until([&] { return slots_in("sink") > 10; }));
    ASSERT_TRUE(runner_->pause_node("sink"));
    runner_->request_stop();
    EXPECT_EQ(runner_->wait(), ExitCode::Ok);
    EXPECT_EQ(slots_in("sink"), slots_out("tick")) << "the paused sink drained the ring before it ended";
    const auto states = states_of("sink");
    ASSERT_EQ(states.size(), 5u) << ::testing::PrintToString(states);
    EXPECT_EQ(states[3], "paused>draining:graph_stopping");
    EXPECT_EQ(states[4], "draining>stopped:input_closed");
}

TEST_F(Lifecycle_test, AQueueModeComponentCannotBePausedAndSaysWhy) {
    // tick -> ticks -> relay (queue mode) -> relayed -> sink
    json graph = json::parse(ticker_graph("single_reader", 0));
    graph["channels"].push_back({{"name", "relayed"}, {"slot_bytes", 64}, {"slot_count", 8}});
    graph["nodes"][1]["inputs"] = {"relayed"};
    graph["nodes"].push_back({{"id", "relay"},
                              {"plugin", "test_ticker"},
                              {"component", "test.stage.ticker_relay"},
                              {"inputs", {"ticks"}},
                              {"outputs", {"relayed"}}});
    start(graph.dump());
    ASSERT_TRUE(wait_until([&] { return slots_in("sink") > 10; }));
    auto refused = runner_->pause_node("relay");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("runs its own loop (queue mode)"), std::string::npos)
        << refused.error().message;
    runner_->request_stop();
    EXPECT_EQ(runner_->wait(), ExitCode::Ok);
}

TEST_F(Lifecycle_test, AFailedNodeSaysWhyAndItsErrorsAreEventsButNotOnePerSlot) {
    // A stage that fails every slot, with on_error continue: thousands of errors, a few events.
    json graph = json::parse(ticker_graph("single_reader", 0));
    graph["channels"].push_back({{"name", "out"}, {"slot_bytes", 64}, {"slot_count", 8}});
    graph["nodes"][1]["inputs"] = {"out"};
    graph["nodes"].push_back({{"id", "broken"},
                              {"plugin", "test_failing"},
                              {"inputs", {"ticks"}},
                              {"outputs", {"out"}},
                              {"on_error", {{"action", "stop_node"}, {"max_consecutive", 2500}}}});
    start(graph.dump());
    ASSERT_TRUE(
        wait_until([&] { return report_of(runner_->reports(), "broken").end_reason != EndReason::Running; }, 20s));
    runner_->request_stop();
    EXPECT_EQ(runner_->wait(), ExitCode::Ok);
    EXPECT_EQ(page_state("broken"), "failed:error_policy_node");
    const auto states = states_of("broken");
    ASSERT_FALSE(states.empty());
    EXPECT_EQ(states.back(), "running>failed:error_policy_node");
    // 2500 errors: the first ten, then the 1000th and the 2000th.
    EXPECT_EQ(report_of(runner_->reports(), "broken").errors, 2500u);
    EXPECT_EQ(count("node_error", {{"node", "broken"}}), 12u);
    EXPECT_EQ(count("node_error", {{"node", "broken"}, {"errors", 2000}}), 1u);
}

TEST_F(Lifecycle_test, ALatestOnlyReadersGapsAreEventsAtMostOnceASecond) {
    const auto began = std::chrono::steady_clock::now();
    start(ticker_graph("latest_only", 5));  // the source writes as fast as it can; the sink takes 5 ms a tick
    ASSERT_TRUE(wait_until([&] { return count("input_gap", {{"node", "sink"}}) >= 2; }, 10s));
    runner_->request_stop();
    EXPECT_EQ(runner_->wait(), ExitCode::Ok);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    std::uint64_t missed = 0;
    std::vector<std::uint64_t> gaps;
    for (const json& event : dhub::testing::read_event_file(events_file())) {
        if (event.value("event", "") != "input_gap") continue;
        EXPECT_EQ(event["node"], "sink");
        EXPECT_EQ(event["input"], "ticks");
        missed += event["missed"].get<std::uint64_t>();
        gaps.push_back(event["gaps"].get<std::uint64_t>());
    }
    ASSERT_GE(gaps.size(), 2u);
    EXPECT_LE(static_cast<double>(gaps.size()), seconds + 1) << "more than one input_gap event a second";
    // Each event carries the slots missed since the last one: summed, they are the ledger's total at the last.
    EXPECT_EQ(missed, gaps.back());
    EXPECT_GT(missed, 100u);
    auto reader = counters::PageReader::open(page_);
    ASSERT_TRUE(reader);
    const counters::KernelCounters kernel = reader.value().read();
    ASSERT_EQ(kernel.inputs.size(), 1u);
    EXPECT_GE(kernel.inputs[0].gaps, missed);
    EXPECT_GE(kernel.inputs[0].gap_events, gaps.size());
}

}  // namespace
}  // namespace dhub::runtime
