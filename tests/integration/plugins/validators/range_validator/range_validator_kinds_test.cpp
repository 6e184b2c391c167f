// SPDX-License-Identifier: Apache-2.0
// The kinds dhub.validator.range gives its rejections (SDK 1.2), which the kernel counts per validator and kind.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/waveform_frames.hpp"

namespace {

using dhub::sdk::testing::Frame;
using dhub::sdk::testing::Harness;

Frame frame_with(double value) {
    return dhub::test::make_waveform(0, 0, 2, 3,
                                     [&](std::uint32_t c, std::uint32_t s) { return c == 1 && s == 2 ? value : 0.0; });
}

class RangeValidatorKinds_test : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(sut_.start(), DHUB_OK) << sut_.log_text(); }

    Harness sut_{dhub::test::plugin_component("range_validator", "dhub.validator.range"),
                 {{"min", -1.0}, {"max", 1.0}}};
};

TEST_F(RangeValidatorKinds_test, AcceptsWithoutAKind) {
    const auto verdict = sut_.validate(frame_with(0.5));

    EXPECT_TRUE(verdict.valid) << verdict.reason;
    EXPECT_EQ(verdict.kind, "");
}

TEST_F(RangeValidatorKinds_test, ASampleOutsideTheRangeIsOutOfRange) {
    const auto verdict = sut_.validate(frame_with(-std::numeric_limits<double>::infinity()));

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "out_of_range");
    EXPECT_EQ(verdict.reason, "channel 1 sample 2 = -inf outside [-1, 1]");
}

TEST_F(RangeValidatorKinds_test, NaNIsNotFinite) {
    const auto verdict = sut_.validate(frame_with(std::numeric_limits<double>::quiet_NaN()));

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "not_finite");
    EXPECT_EQ(verdict.reason, "channel 1 sample 2 = nan outside [-1, 1]");
}

TEST_F(RangeValidatorKinds_test, AFrameThatDoesNotParseIsMalformed) {
    Frame frame = frame_with(0.0);
    frame.bytes.resize(20);

    const auto verdict = sut_.validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "malformed");
    EXPECT_EQ(verdict.reason, "malformed waveform: 20 bytes, fewer than the 64-byte header");
}

}  // namespace
