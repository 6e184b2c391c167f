// SPDX-License-Identifier: Apache-2.0
// A node's "pacing" (docs/graph.md): the kernel calls any realtime source once per tick — here test_ticker,
// which has no pacing of its own and would otherwise publish as fast as it can — on a manual clock, so that
// late ticks are made by the test, not by the machine.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "dhub/runtime/plugin_clock.hpp"
#include "support/child_process.hpp"
#include "support/graph_under_test.hpp"

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;
using dhub::testing::report_of;
using dhub::testing::wait_until;

constexpr std::uint64_t MS = 1'000'000;

std::string ticker_graph(const std::string& late) {
    return R"({"schema_version": 1,
      "channels": [{"name": "ticks", "slot_bytes": 64, "slot_count": 64}],
      "nodes": [
        {"id": "tick", "plugin": "test_ticker", "component": "test.source.ticker", "params": {"count": 1000000},
         "pacing": {"rate_hz": 1000, "late": ")" +
           late + R"("}, "outputs": ["ticks"]},
        {"id": "sink", "plugin": "stats", "inputs": ["ticks"]}]})";
}

class Pacing_test : public ::testing::Test {
protected:
    void start(const std::string& late) {
        graph_ = std::make_unique<dhub::testing::GraphUnderTest>(
            ticker_graph(late), std::vector<std::filesystem::path>{DHUB_PLUGIN_DIR, DHUB_TEST_PLUGIN_DIR});
        ASSERT_EQ(graph_->problems(), "");
        auto created = graph_->runner(clock_);
        ASSERT_TRUE(created) << created.error().error.message;
        runner_ = std::move(created.value());
        runner_->start();
    }
    std::uint64_t ticks_out() const { return report_of(runner_->reports(), "tick").slots_out; }
    /// Waits until exactly count slots are out, and checks no more come while the clock stands still.
    void expect_out(std::uint64_t count) const {
        ASSERT_TRUE(wait_until([&] { return ticks_out() >= count; })) << ticks_out() << " of " << count;
        std::this_thread::sleep_for(20ms);  // real time passes, virtual time does not: no tick is due
        EXPECT_EQ(ticks_out(), count);
    }
    NodeReport stop() {
        runner_->request_stop();  // interrupts the wait for the next tick at once
        EXPECT_EQ(runner_->wait(), ExitCode::Ok);
        return report_of(runner_->reports(), "tick");
    }

    std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
    std::unique_ptr<dhub::testing::GraphUnderTest> graph_;
    std::unique_ptr<GraphRunner> runner_;
};

TEST_F(Pacing_test, ASourceWithoutPacingOfItsOwnIsCalledOncePerTick) {
    start("catch_up");
    expect_out(1);  // tick 0, due at the start
    for (std::uint64_t ms = 1; ms <= 5; ++ms) {
        clock_->advance(MS);
        expect_out(ms + 1);
    }
    const NodeReport report = stop();
    EXPECT_EQ(report.pacing.rate_hz, 1000.0);
    EXPECT_EQ(report.pacing.ticks, 6u);
    EXPECT_EQ(report.pacing.late_ticks, 0u);
    EXPECT_EQ(report.pacing.max_lateness_ns, 0u);
    EXPECT_EQ(report.burst_calls, 0u);  // one slot per call, though test_ticker has a burst handler
}

TEST_F(Pacing_test, CatchUpCallsForEveryMissedTickAtOnce) {
    start("catch_up");
    expect_out(1);
    clock_->advance(MS);
    expect_out(2);
    clock_->advance(5 * MS);  // ticks 2..6 are all due now: 2, 3, 4 and 5 a period or more late
    expect_out(7);
    const NodeReport report = stop();
    EXPECT_EQ(report.pacing.ticks, 7u);
    EXPECT_EQ(report.pacing.late_ticks, 4u);
    EXPECT_EQ(report.pacing.skipped_ticks, 0u);
    EXPECT_EQ(report.pacing.max_lateness_ns, 4 * MS);
    EXPECT_EQ(report.pacing.total_lateness_ns, (4 + 3 + 2 + 1) * MS);
}

TEST_F(Pacing_test, SkipDropsTheMissedTicksAndCountsThem) {
    start("skip");
    expect_out(1);
    clock_->advance(MS);
    expect_out(2);
    clock_->advance(5 * MS);  // tick 2 is called 4 ms late; 3, 4 and 5 are past and dropped; 6 is due now
    expect_out(4);
    clock_->advance(MS);
    expect_out(5);  // on schedule again: tick 7
    const NodeReport report = stop();
    EXPECT_EQ(report.pacing.ticks, 5u);
    EXPECT_EQ(report.pacing.late_ticks, 1u);
    EXPECT_EQ(report.pacing.skipped_ticks, 3u);
    EXPECT_EQ(report.pacing.max_lateness_ns, 4 * MS);
}

}  // namespace
}  // namespace dhub::runtime
