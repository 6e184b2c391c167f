// SPDX-License-Identifier: Apache-2.0
// dhub.source.sim through the harness, loaded from the built dhub-sim_source.so.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>

#include "dhub/formats/waveform.hpp"
#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/waveform_frames.hpp"

namespace {

using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;
using dhub::sdk::testing::ManualClock;
using dhub::sdk::testing::ParamMap;

constexpr std::uint64_t ONE_MS_NS = 1'000'000;
constexpr std::uint64_t ONE_S_NS = 1'000'000'000;
constexpr std::uint64_t LARGE_SLOT_BYTES = 1 << 20;

class SimSource_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("sim_source", "dhub.source.sim");
    }
};

TEST_F(SimSource_test, DescriptorDeclaresAWaveformSource) {
    const dhub_component_descriptor* sut = component();

    EXPECT_EQ(sut->kind, DHUB_KIND_SOURCE);
    EXPECT_EQ(sut->mode, DHUB_MODE_REALTIME);
    EXPECT_STREQ(sut->output_schema, "dhub.waveform.f64@1");
    EXPECT_EQ(sut->input_schema, nullptr);
    EXPECT_EQ(sut->output_min_slot_bytes, dhub::formats::WAVEFORM_HEADER_BYTES);
}

TEST_F(SimSource_test, FillsTheHeaderAndPublishesTheExactFrameSize) {
    constexpr std::uint32_t CHANNELS = 3;
    constexpr std::uint32_t SAMPLES = 5;
    constexpr double RATE_HZ = 100;
    Harness sut(component(), {{"channels", CHANNELS}, {"samples_per_channel", SAMPLES}, {"rate_hz", RATE_HZ}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto result = sut.produce(LARGE_SLOT_BYTES);

    ASSERT_EQ(result.status, DHUB_OK) << sut.log_text();
    ASSERT_EQ(result.output.bytes.size(), dhub::formats::waveform_frame_bytes(CHANNELS, SAMPLES));
    const auto header = dhub::test::header_of(result.output);
    EXPECT_EQ(header.sequence, 0U);
    EXPECT_EQ(header.timestamp_ns, start_ns);
    EXPECT_EQ(header.channels, CHANNELS);
    EXPECT_EQ(header.samples_per_channel, SAMPLES);
    EXPECT_EQ(header.sample_rate_hz, RATE_HZ * SAMPLES);
    EXPECT_EQ(result.output.timestamp_ns, start_ns);
    EXPECT_TRUE(dhub::formats::parse_waveform(result.output.bytes).ok());
}

TEST_F(SimSource_test, CounterWaveformHoldsTheExactRunningSampleCount) {
    constexpr std::uint32_t CHANNELS = 2;
    constexpr std::uint32_t SAMPLES = 4;
    Harness sut(component(), {{"waveform", "counter"}, {"channels", CHANNELS}, {"samples_per_channel", SAMPLES}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    for (std::uint64_t frame = 0; frame < 3; ++frame) {
        const auto result = sut.produce(LARGE_SLOT_BYTES);
        ASSERT_EQ(result.status, DHUB_OK);
        EXPECT_EQ(dhub::test::header_of(result.output).sequence, frame);
        const auto samples = dhub::test::samples_of(result.output);
        ASSERT_EQ(samples.size(), CHANNELS * SAMPLES);
        for (std::uint32_t c = 0; c < CHANNELS; ++c) {
            for (std::uint32_t s = 0; s < SAMPLES; ++s) {
                EXPECT_EQ(samples[c * SAMPLES + s], static_cast<double>(frame * CHANNELS * SAMPLES + c * SAMPLES + s));
            }
        }
    }
}

TEST_F(SimSource_test, RampRisesFromZeroToJustBelowTheAmplitudeInEveryChannel) {
    Harness sut(component(), {{"waveform", "ramp"}, {"channels", 2}, {"samples_per_channel", 4}, {"amplitude", 2.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto samples = dhub::test::samples_of(sut.produce(LARGE_SLOT_BYTES).output);

    EXPECT_EQ(samples, (std::vector<double>{0.0, 0.5, 1.0, 1.5, 0.0, 0.5, 1.0, 1.5}));
}

TEST_F(SimSource_test, SineHasTheAmplitudeAndAChannelPhaseShift) {
    constexpr double AMPLITUDE = 3.0;
    constexpr std::uint32_t CHANNELS = 4;
    constexpr std::uint32_t SAMPLES = 100;
    // 10 Hz sine at 100 frames/s x 100 samples = 10 kHz sample rate: one cycle every 1000 samples.
    Harness sut(component(), {{"waveform", "sine"},
                              {"channels", CHANNELS},
                              {"samples_per_channel", SAMPLES},
                              {"amplitude", AMPLITUDE},
                              {"frequency_hz", 10.0},
                              {"rate_hz", 100.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto samples = dhub::test::samples_of(sut.produce(LARGE_SLOT_BYTES).output);

    EXPECT_NEAR(samples[0], 0.0, 1e-12);                  // channel 0 starts at phase 0
    EXPECT_NEAR(samples[1 * SAMPLES], AMPLITUDE, 1e-12);  // channel 1 a quarter cycle ahead
    EXPECT_NEAR(samples[50], AMPLITUDE * std::sin(2 * std::numbers::pi * 50.0 / 1000.0), 1e-12);
    for (const double value : samples)
        EXPECT_LE(std::fabs(value), AMPLITUDE);
}

TEST_F(SimSource_test, SineContinuesAcrossFrames) {
    constexpr std::uint32_t SAMPLES = 10;
    Harness sut(component(),
                {{"channels", 1}, {"samples_per_channel", SAMPLES}, {"frequency_hz", 7.0}, {"rate_hz", 50.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    (void)sut.produce(LARGE_SLOT_BYTES);
    const auto second = dhub::test::samples_of(sut.produce(LARGE_SLOT_BYTES).output);

    const double sample_rate_hz = 50.0 * SAMPLES;
    EXPECT_NEAR(second[0], std::sin(2 * std::numbers::pi * 7.0 * SAMPLES / sample_rate_hz), 1e-12);
}

TEST_F(SimSource_test, NoiseIsDeterministicForASeedAndWithinTheAmplitude) {
    const ParamMap params{{"waveform", "noise"}, {"amplitude", 0.5}, {"seed", 42}};
    ManualClock clock;
    Harness first(component(), params, clock);
    Harness second(component(), params, clock);
    Harness other_seed(component(), {{"waveform", "noise"}, {"amplitude", 0.5}, {"seed", 43}}, clock);
    ASSERT_EQ(first.start(), DHUB_OK);
    ASSERT_EQ(second.start(), DHUB_OK);
    ASSERT_EQ(other_seed.start(), DHUB_OK);

    const auto a = dhub::test::samples_of(first.produce(LARGE_SLOT_BYTES).output);
    const auto b = dhub::test::samples_of(second.produce(LARGE_SLOT_BYTES).output);
    const auto c = dhub::test::samples_of(other_seed.produce(LARGE_SLOT_BYTES).output);

    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    for (const double value : a) {
        EXPECT_GE(value, -0.5);
        EXPECT_LT(value, 0.5);
    }
}

TEST_F(SimSource_test, HoldsARateOfOneKilohertzWithoutDrift) {
    constexpr std::uint64_t FRAMES = 1000;
    constexpr std::uint64_t WORK_NS = 300'000;  // each frame takes the consumer 0.3 ms
    Harness sut(component(), {{"rate_hz", 1000.0}, {"channels", 1}, {"samples_per_channel", 8}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK);

    std::uint64_t last_timestamp_ns = 0;
    for (std::uint64_t frame = 0; frame < FRAMES; ++frame) {
        const auto result = sut.produce(LARGE_SLOT_BYTES);
        ASSERT_EQ(result.status, DHUB_OK);
        ASSERT_EQ(result.output.timestamp_ns, start_ns + frame * ONE_MS_NS) << "frame " << frame;
        last_timestamp_ns = dhub::test::header_of(result.output).timestamp_ns;
        sut.clock().advance_ns(WORK_NS);
    }

    EXPECT_EQ(last_timestamp_ns, start_ns + 999 * ONE_MS_NS);
    EXPECT_EQ(sut.host().sleep_deadlines().back(), start_ns + 999 * ONE_MS_NS);
    EXPECT_EQ(sut.host().log_count(DHUB_LOG_WARN), 0U);
}

TEST_F(SimSource_test, BurstPublishesEveryFrameAlreadyDueAndNoneEarly) {
    Harness sut(component(),
                {{"waveform", "counter"}, {"rate_hz", 1000.0}, {"channels", 1}, {"samples_per_channel", 4}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto first = sut.produce_burst(8, LARGE_SLOT_BYTES);  // frame 0 is due at once, frame 1 is not
    ASSERT_EQ(first.status, DHUB_OK);
    ASSERT_EQ(first.outputs.size(), 1U);

    sut.clock().advance_ns(3 * ONE_MS_NS + ONE_MS_NS / 2);  // frames 1, 2 and 3 are due, 4 is not
    const auto late = sut.produce_burst(8, LARGE_SLOT_BYTES);
    ASSERT_EQ(late.status, DHUB_OK);
    ASSERT_EQ(late.outputs.size(), 3U);
    for (std::uint64_t i = 0; i < 3; ++i) {
        EXPECT_EQ(dhub::test::header_of(late.outputs[i]).sequence, i + 1);
        EXPECT_EQ(late.outputs[i].timestamp_ns, start_ns + (i + 1) * ONE_MS_NS) << "stamped with its own deadline";
        EXPECT_EQ(dhub::test::samples_of(late.outputs[i]).front(), static_cast<double>(4 * (i + 1)));
    }

    sut.clock().advance_ns(20 * ONE_MS_NS);  // many due: the burst is the limit
    EXPECT_EQ(sut.produce_burst(4, LARGE_SLOT_BYTES).outputs.size(), 4U);
}

TEST_F(SimSource_test, BurstStopsAtMaxFramesThenEndsTheStream) {
    Harness sut(component(), {{"rate_hz", 1000.0}, {"channels", 1}, {"samples_per_channel", 1}, {"max_frames", 3}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    sut.clock().advance_ns(ONE_S_NS / 2);
    (void)sut.produce_burst(1, LARGE_SLOT_BYTES);
    sut.clock().advance_ns(10 * ONE_MS_NS);
    const auto rest = sut.produce_burst(8, LARGE_SLOT_BYTES);
    EXPECT_EQ(rest.outputs.size(), 2U);
    EXPECT_EQ(sut.produce_burst(8, LARGE_SLOT_BYTES).status, DHUB_END_OF_STREAM);
}

TEST_F(SimSource_test, PeriodsOfFractionalNanosecondsDoNotAccumulateRounding) {
    constexpr std::uint64_t FRAMES = 3001;  // 1000 s at 3 Hz
    Harness sut(component(), {{"rate_hz", 3.0}, {"channels", 1}, {"samples_per_channel", 1}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK);

    std::uint64_t last_timestamp_ns = 0;
    for (std::uint64_t frame = 0; frame < FRAMES; ++frame)
        last_timestamp_ns = sut.produce(LARGE_SLOT_BYTES).output.timestamp_ns;

    const auto error_ns = static_cast<std::int64_t>(last_timestamp_ns - (start_ns + 1000 * ONE_S_NS));
    EXPECT_LE(std::abs(error_ns), 1);
}

TEST_F(SimSource_test, ResynchronisesAndWarnsOnceWhenFarBehindSchedule) {
    Harness sut(component(), {{"rate_hz", 100.0}, {"channels", 1}, {"samples_per_channel", 1}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    (void)sut.produce(LARGE_SLOT_BYTES);

    sut.clock().advance_ns(5 * ONE_S_NS);
    const auto resynced = sut.produce(LARGE_SLOT_BYTES);
    const auto next = sut.produce(LARGE_SLOT_BYTES);
    sut.clock().advance_ns(5 * ONE_S_NS);
    (void)sut.produce(LARGE_SLOT_BYTES);

    EXPECT_EQ(next.output.timestamp_ns, resynced.output.timestamp_ns + 10 * ONE_MS_NS);
    EXPECT_EQ(dhub::test::header_of(next.output).sequence, 2U);  // late, not dropped
    EXPECT_EQ(sut.host().log_count(DHUB_LOG_WARN), 1U) << sut.log_text();
    EXPECT_TRUE(sut.has_log(DHUB_LOG_WARN, "resynchronised"));
}

TEST_F(SimSource_test, SmallLagIsCaughtUpWithoutResynchronising) {
    Harness sut(component(), {{"rate_hz", 100.0}, {"channels", 1}, {"samples_per_channel", 1}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK);
    (void)sut.produce(LARGE_SLOT_BYTES);

    sut.clock().advance_ns(500 * ONE_MS_NS);
    const auto late = sut.produce(LARGE_SLOT_BYTES);

    EXPECT_EQ(late.output.timestamp_ns, start_ns + 10 * ONE_MS_NS);
    EXPECT_EQ(sut.host().log_count(DHUB_LOG_WARN), 0U);
}

TEST_F(SimSource_test, EndsTheStreamAfterMaxFrames) {
    constexpr std::int64_t MAX_FRAMES = 3;
    Harness sut(component(), {{"max_frames", MAX_FRAMES}, {"channels", 1}, {"samples_per_channel", 1}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    for (std::int64_t frame = 0; frame < MAX_FRAMES; ++frame)
        ASSERT_EQ(sut.produce(LARGE_SLOT_BYTES).status, DHUB_OK);

    EXPECT_EQ(sut.produce(LARGE_SLOT_BYTES).status, DHUB_END_OF_STREAM);
    EXPECT_EQ(sut.produce(LARGE_SLOT_BYTES).status, DHUB_END_OF_STREAM);
}

TEST_F(SimSource_test, ReturnsStoppingWhenAskedToStopWhileWaiting) {
    Harness sut(component(), {});
    ASSERT_EQ(sut.start(), DHUB_OK);

    sut.request_stop();

    EXPECT_EQ(sut.produce(LARGE_SLOT_BYTES).status, DHUB_STOPPING);
}

TEST_F(SimSource_test, TooSmallOutputSlotIsAnErrorThatSaysHowToFixIt) {
    constexpr std::uint64_t SMALL_SLOT_BYTES = 100;
    Harness sut(component(), {{"channels", 4}, {"samples_per_channel", 256}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto first = sut.produce(SMALL_SLOT_BYTES);
    const auto second = sut.produce(SMALL_SLOT_BYTES);

    EXPECT_EQ(first.status, DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(second.status, DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "output slot holds 100 bytes")) << sut.log_text();
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "needs 8256")) << sut.log_text();
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "set slot_bytes of the output channel to at least 8256")) << sut.log_text();
    EXPECT_EQ(sut.host().log_count(DHUB_LOG_ERROR), 1U);  // said once, not per frame
}

TEST_F(SimSource_test, SchemaRejectsOutOfRangeParams) {
    EXPECT_THROW(Harness(component(), {{"channels", 0}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"channels", 1025}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"rate_hz", 0.0}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"waveform", "square"}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"max_frames", -1}}), HarnessError);
}

}  // namespace
