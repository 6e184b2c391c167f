// SPDX-License-Identifier: Apache-2.0
// dhub.stage.throttle through the harness, loaded from the built dhub-throttle.so. Which slots pass is
// decided by their timestamps, so every expected list below is exact.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <vector>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"

namespace {

using dhub::sdk::testing::Frame;
using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;
using dhub::sdk::testing::ManualClock;

constexpr std::uint64_t SLOT_BYTES = 64;
constexpr std::uint64_t MS = 1'000'000;
constexpr std::uint64_t SECOND = 1'000'000'000;
/// Where the test timelines start: far from 0, like CLOCK_MONOTONIC on a machine that has been up a while.
constexpr std::uint64_t T0 = 5'000 * SECOND;

/// A slot type of the kind users define: 24 bytes, no waveform header.
struct Reading {
    std::uint64_t index;
    double volts;
    std::uint64_t adc_ticks;
};
static_assert(sizeof(Reading) == 24);

Frame reading(std::uint64_t index, std::uint64_t timestamp_ns) {
    return Frame::of(Reading{index, 0.5 * static_cast<double>(index), index * 7}, index, timestamp_ns);
}

/// Timestamps of `count` slots at `rate_hz`, from T0.
std::vector<std::uint64_t> regular(std::uint64_t count, std::uint64_t rate_hz) {
    std::vector<std::uint64_t> stamps;
    for (std::uint64_t i = 0; i < count; ++i)
        stamps.push_back(T0 + i * SECOND / rate_hz);
    return stamps;
}

class Throttle_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("throttle", "dhub.stage.throttle");
    }
    /// Feeds one slot per timestamp; returns the indices of the slots that passed, each checked to be an
    /// unchanged copy.
    static std::vector<std::uint64_t> passed(Harness& sut, const std::vector<std::uint64_t>& stamps) {
        std::vector<std::uint64_t> out;
        for (std::uint64_t i = 0; i < stamps.size(); ++i) {
            const Frame in = reading(i, stamps[i]);
            const auto result = sut.process(in, SLOT_BYTES);
            if (result.status == DHUB_OK) {
                EXPECT_EQ(result.output.bytes, in.bytes) << "slot " << i;
                EXPECT_EQ(result.output.timestamp_ns, in.timestamp_ns) << "slot " << i;
                out.push_back(result.output.as<Reading>().index);
            } else {
                EXPECT_EQ(result.status, DHUB_SKIP) << "slot " << i;
            }
        }
        return out;
    }
};

struct RegularInput {
    const char* name;
    std::uint64_t input_hz;
    double max_rate_hz;
    std::uint64_t slots;
    std::vector<std::uint64_t> first_passed;  ///< the start of the passed indices
    std::size_t passed_count;
};

// Test names and failure messages show the case's name rather than its bytes.
void PrintTo(const RegularInput& input, std::ostream* out) {
    *out << input.name;
}

class ThrottleRegularInput_test : public Throttle_test, public ::testing::WithParamInterface<RegularInput> {};

TEST_P(ThrottleRegularInput_test, KeepsExactlyTheScheduledSlots) {
    const RegularInput& input = GetParam();
    Harness sut(component(), {{"max_rate_hz", input.max_rate_hz}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const std::vector<std::uint64_t> kept = passed(sut, regular(input.slots, input.input_hz));

    ASSERT_GE(kept.size(), input.first_passed.size());
    EXPECT_EQ(
        std::vector<std::uint64_t>(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(input.first_passed.size())),
        input.first_passed);
    EXPECT_EQ(kept.size(), input.passed_count);
}

// One second of input each (except the slow one): the rate is met exactly, as evenly as the input's
// spacing allows (100 Hz to 40 Hz: gaps of 30 and 20 ms), never more.
INSTANTIATE_TEST_SUITE_P(
    Rates,
    ThrottleRegularInput_test,
    ::testing::Values(RegularInput{"From100HzTo40Hz", 100, 40, 100, {0, 3, 5, 8, 10, 13, 15, 18}, 40},
                      RegularInput{"From100HzTo30Hz", 100, 30, 100, {0, 4, 7, 10, 14, 17, 20}, 30},
                      RegularInput{"From1kHzTo10Hz", 1000, 10, 1000, {0, 100, 200, 300}, 10},
                      RegularInput{"SlowerThanTheRatePassesWhole", 10, 40, 50, {0, 1, 2, 3, 4, 5}, 50},
                      RegularInput{"FractionalPeriod", 3, 1, 9, {0, 3, 6}, 3}),
    [](const ::testing::TestParamInfo<RegularInput>& param_info) { return param_info.param.name; });

TEST_F(Throttle_test, AStreamAtTheRateWithJitterLosesOnlyTheFirstEarlySlot) {
    // 40 Hz, every slot 6 ms (just under a quarter period) late or early. "At least one period since the
    // last pass" would keep every other slot; the schedule settles behind the jitter after one early slot.
    constexpr std::uint64_t SLOTS = 100;
    constexpr std::uint64_t JITTER_NS = 6 * MS;
    std::vector<std::uint64_t> stamps{T0};
    for (std::uint64_t i = 1; i < SLOTS; ++i)
        stamps.push_back(T0 + i * 25 * MS + (i % 2 == 1 ? JITTER_NS : 0) - (i % 2 == 0 ? JITTER_NS : 0));
    Harness sut(component(), {{"max_rate_hz", 40.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const std::vector<std::uint64_t> kept = passed(sut, stamps);

    std::vector<std::uint64_t> expected;
    for (std::uint64_t i = 0; i < SLOTS; ++i) {
        if (i != 2) expected.push_back(i);
    }
    EXPECT_EQ(kept, expected);
}

TEST_F(Throttle_test, PassedSlotsAreNeverCloserThanHalfAPeriod) {
    // A burst of slots 1 ms apart right after a gap: the schedule catches up by at most half a period.
    Harness sut(component(), {{"max_rate_hz", 10.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    std::vector<std::uint64_t> stamps{T0};
    for (std::uint64_t i = 0; i < 200; ++i)
        stamps.push_back(T0 + 10 * SECOND + i * MS);

    EXPECT_EQ(passed(sut, stamps), (std::vector<std::uint64_t>{0, 1, 51, 151}));
}

TEST_F(Throttle_test, TheHostClockDoesNotChangeWhichSlotsPass) {
    // A backlog handled at one instant and the same slots handled a second apart keep the same slots.
    ManualClock clock;
    Harness sut(component(), {{"max_rate_hz", 40.0}}, clock);
    ASSERT_EQ(sut.start(), DHUB_OK);
    const std::vector<std::uint64_t> stamps = regular(100, 100);
    const std::vector<std::uint64_t> at_one_instant = passed(sut, stamps);

    ManualClock other_clock;
    Harness slow(component(), {{"max_rate_hz", 40.0}}, other_clock);
    ASSERT_EQ(slow.start(), DHUB_OK);
    std::vector<std::uint64_t> spread;
    for (std::uint64_t i = 0; i < stamps.size(); ++i) {
        other_clock.advance_ns(SECOND);
        if (slow.process(reading(i, stamps[i]), SLOT_BYTES).status == DHUB_OK) spread.push_back(i);
    }

    EXPECT_EQ(at_one_instant.size(), 40U);
    EXPECT_EQ(spread, at_one_instant);
}

TEST_F(Throttle_test, ATimestampGoingBackwardsRestartsTheScheduleWithOneWarning) {
    Harness sut(component(), {{"max_rate_hz", 10.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    // A producer restarted on an earlier time base twice; without the restart nothing would pass for 100 s.
    const std::vector<std::uint64_t> stamps{
        T0 + 100 * SECOND, T0 + 100 * SECOND + 50 * MS, T0, T0 + 50 * MS, T0 + 100 * MS, T0 - SECOND};

    EXPECT_EQ(passed(sut, stamps), (std::vector<std::uint64_t>{0, 2, 4, 5}));
    EXPECT_EQ(sut.host().log_count(DHUB_LOG_WARN), 1U) << sut.log_text();
    EXPECT_TRUE(sut.has_log(DHUB_LOG_WARN, "starts again")) << sut.log_text();
}

TEST_F(Throttle_test, TooSmallOutputSlotIsAnError) {
    Harness sut(component(), {{"max_rate_hz", 10.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.process(reading(0, T0), sizeof(Reading) - 1).status, DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "slot_bytes")) << sut.log_text();
}

TEST_F(Throttle_test, SchemaRequiresARateInRange) {
    EXPECT_THROW(Harness(component(), {}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"max_rate_hz", 0.0}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"max_rate_hz", 2e9}}), HarnessError);
}

TEST_F(Throttle_test, TakesAnySchema) {
    EXPECT_STREQ(component()->input_schema, "*");
    EXPECT_STREQ(component()->output_schema, "*");
}

}  // namespace
