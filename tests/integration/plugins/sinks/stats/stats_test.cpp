// SPDX-License-Identifier: Apache-2.0
// dhub.sink.stats through the harness, loaded from the built dhub-stats.so; time comes from the manual
// clock, so rates and latencies are exact.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/record_frames.hpp"

namespace {

using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;
using dhub::test::patterned_frame;

constexpr std::uint64_t ONE_MS_NS = 1'000'000;
constexpr std::size_t FRAME_BYTES = 100'000;

class Stats_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("stats", "dhub.sink.stats");
    }

    /// One frame with the given sequence, stamped latency_ns before now.
    static dhub_status feed(Harness& sut, std::uint64_t sequence, std::uint64_t latency_ns) {
        return sut.consume(patterned_frame(sequence, sut.clock().now_ns() - latency_ns, FRAME_BYTES));
    }
    static std::vector<std::string> info_lines(const Harness& sut) {
        std::vector<std::string> lines;
        for (const auto& line : sut.host().logs()) {
            if (line.level == DHUB_LOG_INFO) lines.push_back(line.message);
        }
        return lines;
    }
};

TEST_F(Stats_test, LogsRateThroughputAndLatencyOncePerInterval) {
    Harness sut(component(), {{"interval_s", 1.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    // 11 frames 100 ms apart span exactly one second; each arrives 2 ms after its timestamp.
    for (std::uint64_t sequence = 0; sequence <= 10; ++sequence) {
        ASSERT_EQ(feed(sut, sequence, 2 * ONE_MS_NS), DHUB_OK);
        sut.clock().advance_ns(100 * ONE_MS_NS);
    }

    const auto lines = info_lines(sut);
    ASSERT_EQ(lines.size(), 1U) << sut.log_text();
    EXPECT_EQ(lines[0], "11.0 frames/s, 1.10 MB/s, latency p50 2.0 ms p99 2.0 ms max 2.0 ms, gaps 0 (0 slots missing)");
}

TEST_F(Stats_test, ReportsLatencyPercentilesOfTheInterval) {
    Harness sut(component(), {{"interval_s", 10.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    // Latencies 1..100 ms, in shuffled order; the 100th frame closes the interval.
    for (std::uint64_t index = 0; index < 100; ++index) {
        const std::uint64_t latency_ms = (index * 37) % 100 + 1;
        if (index == 99) sut.clock().advance_ns(10'000 * ONE_MS_NS);
        ASSERT_EQ(feed(sut, index, latency_ms * ONE_MS_NS), DHUB_OK);
    }

    const auto lines = info_lines(sut);
    ASSERT_EQ(lines.size(), 1U) << sut.log_text();
    EXPECT_NE(lines[0].find("latency p50 50.0 ms p99 99.0 ms max 100.0 ms"), std::string::npos) << lines[0];
}

TEST_F(Stats_test, CountsGapsInTheSequence) {
    Harness sut(component(), {{"interval_s", 1.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    for (const std::uint64_t sequence : {0, 1, 5, 6, 8})
        ASSERT_EQ(feed(sut, sequence, 0), DHUB_OK);
    sut.clock().advance_ns(1000 * ONE_MS_NS);
    ASSERT_EQ(feed(sut, 9, 0), DHUB_OK);

    EXPECT_TRUE(sut.has_log(DHUB_LOG_INFO, "gaps 2 (4 slots missing)")) << sut.log_text();
}

TEST_F(Stats_test, LogsASummaryAtStop) {
    Harness sut(component(), {{"interval_s", 60.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    for (std::uint64_t sequence = 0; sequence < 4; ++sequence) {
        ASSERT_EQ(feed(sut, sequence * 2, ONE_MS_NS), DHUB_OK);
        sut.clock().advance_ns(500 * ONE_MS_NS);
    }

    sut.stop();

    const auto lines = info_lines(sut);
    ASSERT_EQ(lines.size(), 1U) << sut.log_text();
    EXPECT_EQ(lines[0],
              "summary: 4 frames, 0.40 MB in 2.0 s (2.0 frames/s, 0.20 MB/s), latency max 1.0 ms, gaps 3 (3 "
              "slots missing)");
}

TEST_F(Stats_test, SummaryOfAnIdleChannelSaysNothingArrived) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);

    sut.stop();

    EXPECT_TRUE(sut.has_log(DHUB_LOG_INFO, "summary: no frames received")) << sut.log_text();
}

TEST_F(Stats_test, SchemaRejectsANonPositiveInterval) {
    EXPECT_THROW(Harness(component(), {{"interval_s", 0.0}}), HarnessError);
}

}  // namespace
