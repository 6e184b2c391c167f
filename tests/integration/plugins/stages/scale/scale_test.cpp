// SPDX-License-Identifier: Apache-2.0
// dhub.stage.scale through the harness, loaded from the built dhub-scale.so.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "dhub/formats/waveform.hpp"
#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/waveform_frames.hpp"

namespace {

using dhub::sdk::testing::Harness;

constexpr std::uint64_t LARGE_SLOT_BYTES = 1 << 16;
constexpr std::uint32_t CHANNELS = 3;
constexpr std::uint32_t SAMPLES = 4;
constexpr std::uint64_t SEQUENCE = 17;
constexpr std::uint64_t TIMESTAMP_NS = 123'456'789;

class Scale_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("scale", "dhub.stage.scale");
    }
    static double input_value(std::uint32_t c, std::uint32_t s) { return 10.0 * c + s - 5.0; }
    static dhub::sdk::testing::Frame input() {
        return dhub::test::make_waveform(SEQUENCE, TIMESTAMP_NS, CHANNELS, SAMPLES, &input_value);
    }
};

TEST_F(Scale_test, DescriptorDeclaresAWaveformStage) {
    const dhub_component_descriptor* sut = component();

    EXPECT_EQ(sut->kind, DHUB_KIND_STAGE);
    EXPECT_STREQ(sut->input_schema, "dhub.waveform.f64@1");
    EXPECT_STREQ(sut->output_schema, "dhub.waveform.f64@1");
}

TEST_F(Scale_test, MapsEverySampleToSampleTimesGainPlusOffset) {
    constexpr double GAIN = -2.5;
    constexpr double OFFSET = 0.25;
    Harness sut(component(), {{"gain", GAIN}, {"offset", OFFSET}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto result = sut.process(input(), LARGE_SLOT_BYTES);

    ASSERT_EQ(result.status, DHUB_OK) << sut.log_text();
    const auto samples = dhub::test::samples_of(result.output);
    ASSERT_EQ(samples.size(), CHANNELS * SAMPLES);
    for (std::uint32_t c = 0; c < CHANNELS; ++c) {
        for (std::uint32_t s = 0; s < SAMPLES; ++s)
            EXPECT_EQ(samples[c * SAMPLES + s], input_value(c, s) * GAIN + OFFSET);
    }
}

TEST_F(Scale_test, MapsEverySampleOfAFrameWhoseCountIsNoMultipleOfFour) {
    // The samples are mapped four at a time (linear_map.hpp): 3 x 5 leaves three for the tail.
    constexpr std::uint32_t ODD_SAMPLES = 5;
    Harness sut(component(), {{"gain", 1.5}, {"offset", -4.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    const auto result = sut.process(
        dhub::test::make_waveform(SEQUENCE, TIMESTAMP_NS, CHANNELS, ODD_SAMPLES, &input_value), LARGE_SLOT_BYTES);

    ASSERT_EQ(result.status, DHUB_OK) << sut.log_text();
    const auto samples = dhub::test::samples_of(result.output);
    ASSERT_EQ(samples.size(), CHANNELS * ODD_SAMPLES);
    for (std::uint32_t c = 0; c < CHANNELS; ++c) {
        for (std::uint32_t s = 0; s < ODD_SAMPLES; ++s)
            EXPECT_EQ(samples[c * ODD_SAMPLES + s], input_value(c, s) * 1.5 - 4.0)
                << "channel " << c << ", sample " << s;
    }
}

TEST_F(Scale_test, CopiesTheHeaderAndTheTimestampUnchanged) {
    Harness sut(component(), {{"gain", 3.0}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    const auto in = input();

    const auto result = sut.process(in, LARGE_SLOT_BYTES);

    ASSERT_EQ(result.output.bytes.size(), in.bytes.size());
    EXPECT_EQ(std::memcmp(result.output.bytes.data(), in.bytes.data(), dhub::formats::WAVEFORM_HEADER_BYTES), 0);
    EXPECT_EQ(result.output.timestamp_ns, TIMESTAMP_NS);
}

TEST_F(Scale_test, DefaultsLeaveSamplesUnchanged) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);
    const auto in = input();

    EXPECT_EQ(sut.process(in, LARGE_SLOT_BYTES).output.bytes, in.bytes);
}

TEST_F(Scale_test, RejectsAMalformedFrame) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);
    auto truncated = input();
    truncated.bytes.resize(truncated.bytes.size() - sizeof(double));

    EXPECT_EQ(sut.process(truncated, LARGE_SLOT_BYTES).status, DHUB_ERR_SCHEMA_MISMATCH);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "malformed waveform")) << sut.log_text();
}

TEST_F(Scale_test, TooSmallOutputSlotIsAnError) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.process(input(), dhub::formats::WAVEFORM_HEADER_BYTES).status, DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "slot_bytes")) << sut.log_text();
}

}  // namespace
