// SPDX-License-Identifier: Apache-2.0
// SourcePacer: a paced source's ticks (a node's "pacing", docs/graph.md) — deadlines counted from the first tick,
// late calls caught up or skipped, lateness counted.
#include <gtest/gtest.h>

#include "source_pacer.hpp"

namespace dhub::runtime {
namespace {

constexpr std::uint64_t START = 1'000'000'000;

graph::Pacing pacing(double rate_hz, graph::Pacing::Late late = graph::Pacing::Late::CatchUp) {
    graph::Pacing result;
    result.rate_hz = rate_hz;
    result.late = late;
    return result;
}

TEST(SourcePacer, DeadlinesAreCountedFromTheFirstTickSoAPeriodOfAFractionNeverDrifts) {
    SourcePacer sut(pacing(3000.0));  // 333 333.33... ns: an accumulating pacer loses 1 ns every 3 ticks
    sut.anchor(START);
    EXPECT_EQ(sut.deadline_ns(), START);
    for (int tick = 0; tick < 3'000'000; ++tick)
        sut.on_call(sut.deadline_ns() + 1000);                   // every call a microsecond late
    EXPECT_EQ(sut.deadline_ns(), START + 1'000'000'000'000ULL);  // 3e6 ticks at 3 kHz: exactly 1000 s on
    const PacingReport report = sut.report();
    EXPECT_EQ(report.ticks, 3'000'000u);
    EXPECT_EQ(report.late_ticks, 0u);
    EXPECT_EQ(report.max_lateness_ns, 1000u);
    EXPECT_EQ(report.total_lateness_ns, 3'000'000'000u);
    EXPECT_EQ(report.rate_hz, 3000.0);
}

TEST(SourcePacer, CatchUpMakesEveryMissedTickDueAtOnceAndCountsTheLateOnes) {
    SourcePacer sut(pacing(1000.0));  // 1 ms
    sut.anchor(START);
    sut.on_call(START);
    // Stalled 4.5 ms: ticks 1..4 are past; each call comes at once, the first three a period or more late.
    const std::uint64_t now = START + 4'500'000;
    for (std::uint64_t tick = 1; tick <= 4; ++tick) {
        EXPECT_EQ(sut.deadline_ns(), START + tick * 1'000'000);
        sut.on_call(now);
    }
    EXPECT_EQ(sut.deadline_ns(), START + 5'000'000);  // on schedule again
    const PacingReport report = sut.report();
    EXPECT_EQ(report.ticks, 5u);
    EXPECT_EQ(report.late_ticks, 3u);  // 3.5, 2.5 and 1.5 ms late; tick 4 only 0.5 ms
    EXPECT_EQ(report.skipped_ticks, 0u);
    EXPECT_EQ(report.max_lateness_ns, 3'500'000u);
}

TEST(SourcePacer, SkipDropsTheTicksALateCallPassedAndWaitsForTheNextOne) {
    SourcePacer sut(pacing(1000.0, graph::Pacing::Late::Skip));
    sut.anchor(START);
    sut.on_call(START);
    sut.on_call(START + 4'500'000);  // tick 1, 3.5 ms late: ticks 2, 3 and 4 are past too
    EXPECT_EQ(sut.deadline_ns(), START + 5'000'000);
    sut.on_call(START + 5'000'000);  // on time again
    const PacingReport report = sut.report();
    EXPECT_EQ(report.ticks, 3u);
    EXPECT_EQ(report.late_ticks, 1u);
    EXPECT_EQ(report.skipped_ticks, 3u);
    EXPECT_EQ(sut.deadline_ns(), START + 6'000'000);
}

TEST(SourcePacer, SkipKeepsATickDueRightNow) {
    SourcePacer sut(pacing(1000.0, graph::Pacing::Late::Skip));
    sut.anchor(START);
    sut.on_call(START + 999'999);  // late, but tick 1 (START + 1 ms) is still ahead
    EXPECT_EQ(sut.deadline_ns(), START + 1'000'000);
    sut.on_call(START + 1'000'000);
    sut.on_call(START + 3'000'000);  // tick 2 a period late; tick 3 is due right now: kept, called at once
    EXPECT_EQ(sut.deadline_ns(), START + 3'000'000);
    EXPECT_EQ(sut.report().skipped_ticks, 0u);
    EXPECT_EQ(sut.report().late_ticks, 1u);
}

}  // namespace
}  // namespace dhub::runtime
