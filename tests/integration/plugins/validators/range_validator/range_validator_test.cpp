// SPDX-License-Identifier: Apache-2.0
// dhub.validator.range through the harness, loaded from the built dhub-range_validator.so.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "dhub/formats/waveform.hpp"
#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/waveform_frames.hpp"

namespace {

using dhub::sdk::testing::Frame;
using dhub::sdk::testing::Harness;

constexpr std::uint32_t CHANNELS = 3;
constexpr std::uint32_t SAMPLES = 4;

class RangeValidator_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("range_validator", "dhub.validator.range");
    }
    /// Samples in [-1, 1] except those the test sets.
    static Frame frame_with(std::uint32_t channel, std::uint32_t sample, double value) {
        return dhub::test::make_waveform(0, 0, CHANNELS, SAMPLES, [&](std::uint32_t c, std::uint32_t s) {
            return c == channel && s == sample ? value : 0.25 * s - 0.5;
        });
    }
    static Frame in_range() { return frame_with(CHANNELS, SAMPLES, 0); }
};

TEST_F(RangeValidator_test, DescriptorDeclaresAWaveformValidator) {
    EXPECT_EQ(component()->kind, DHUB_KIND_VALIDATOR);
    EXPECT_NE(component()->validate, nullptr);
    EXPECT_EQ(component()->process, nullptr);
    EXPECT_STREQ(component()->input_schema, "dhub.waveform.f64@1");
}

TEST_F(RangeValidator_test, AcceptsAFrameInsideTheRange) {
    Harness sut(component(), {{"min", -1.0}, {"max", 1.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto verdict = sut.validate(in_range());

    EXPECT_EQ(verdict.status, DHUB_OK);
    EXPECT_TRUE(verdict.valid) << verdict.reason;
}

TEST_F(RangeValidator_test, AcceptsSamplesOnTheBounds) {
    Harness sut(component(), {{"min", -0.5}, {"max", 0.25}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_TRUE(sut.validate(in_range()).valid);
}

TEST_F(RangeValidator_test, RejectsTheFirstSampleOutsideTheRangeNamingIt) {
    Harness sut(component(), {{"min", -1.0}, {"max", 1.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    Frame frame = frame_with(1, 2, 5.0);
    // A later offender must not be the one reported.
    frame = [&] {
        auto later = dhub::test::samples_of(frame);
        later[2 * SAMPLES + 3] = -7.0;
        std::memcpy(frame.bytes.data() + dhub::formats::WAVEFORM_HEADER_BYTES, later.data(),
                    later.size() * sizeof(double));
        return frame;
    }();

    const auto verdict = sut.validate(frame);

    EXPECT_EQ(verdict.status, DHUB_OK);
    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.reason, "channel 1 sample 2 = 5 outside [-1, 1]");
}

TEST_F(RangeValidator_test, RejectsNotANumber) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto verdict = sut.validate(frame_with(0, 0, std::numeric_limits<double>::quiet_NaN()));

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.reason, "channel 0 sample 0 = nan outside [-1e+300, 1e+300]");
}

TEST_F(RangeValidator_test, RejectsAFrameShorterThanTheHeader) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);
    Frame frame = in_range();
    frame.bytes.resize(20);

    const auto verdict = sut.validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.reason, "malformed waveform: 20 bytes, fewer than the 64-byte header");
}

TEST_F(RangeValidator_test, RejectsAHeaderThatDisagreesWithTheSlotSize) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);
    Frame frame = in_range();
    frame.bytes.resize(frame.bytes.size() - sizeof(double));

    const auto verdict = sut.validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.reason,
              "malformed waveform: header says 3 channels x 4 samples = 160 bytes, but the slot holds 152 bytes");
}

TEST_F(RangeValidator_test, RejectsAHeaderWithZeroChannels) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);
    Frame frame = in_range();
    auto header = dhub::test::header_of(frame);
    header.channels = 0;
    std::memcpy(frame.bytes.data(), &header, sizeof header);

    EXPECT_FALSE(sut.validate(frame).valid);
}

TEST_F(RangeValidator_test, RefusesMinAboveMax) {
    Harness sut(component(), {{"min", 2.0}, {"max", 1.0}});

    EXPECT_EQ(sut.create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "min (2) must not be greater than max (1)")) << sut.log_text();
}

}  // namespace
