// SPDX-License-Identifier: Apache-2.0
// dhub.stage.decimate through the harness, loaded from the built dhub-decimate.so.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/waveform_frames.hpp"

namespace {

using dhub::sdk::testing::Frame;
using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;

constexpr std::uint64_t LARGE_SLOT_BYTES = 1 << 16;

class Decimate_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("decimate", "dhub.stage.decimate");
    }
    static dhub::sdk::testing::Frame frame(std::uint64_t sequence) {
        return dhub::test::make_waveform(sequence, 1000 + sequence, 1, 2, [&](std::uint32_t, std::uint32_t s) {
            return static_cast<double>(sequence * 10 + s);
        });
    }
    /// Feeds frames with these sequences; returns the sequences that passed.
    static std::vector<std::uint64_t> passed(Harness& sut, const std::vector<std::uint64_t>& sequences) {
        std::vector<std::uint64_t> out;
        for (const std::uint64_t sequence : sequences) {
            const auto in = frame(sequence);
            const auto result = sut.process(in, LARGE_SLOT_BYTES);
            if (result.status == DHUB_OK) {
                EXPECT_EQ(result.output.bytes, in.bytes);
                EXPECT_EQ(result.output.timestamp_ns, in.timestamp_ns);
                out.push_back(dhub::test::header_of(result.output).sequence);
            } else {
                EXPECT_EQ(result.status, DHUB_SKIP);
            }
        }
        return out;
    }
};

TEST_F(Decimate_test, PassesExactlyEveryFactorthFrame) {
    Harness sut(component(), {{"factor", 3}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(passed(sut, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), (std::vector<std::uint64_t>{0, 3, 6, 9}));
}

TEST_F(Decimate_test, CountsFramesRatherThanTrustingSequenceNumbers) {
    Harness sut(component(), {{"factor", 2}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(passed(sut, {0, 5, 6, 20, 21, 22}), (std::vector<std::uint64_t>{0, 6, 21}));
}

TEST_F(Decimate_test, DefaultFactorIsTwo) {
    Harness sut(component());
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(passed(sut, {0, 1, 2, 3}), (std::vector<std::uint64_t>{0, 2}));
}

TEST_F(Decimate_test, FactorOnePassesEveryFrame) {
    Harness sut(component(), {{"factor", 1}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(passed(sut, {0, 1, 2}), (std::vector<std::uint64_t>{0, 1, 2}));
}

TEST_F(Decimate_test, TooSmallOutputSlotIsAnError) {
    Harness sut(component(), {{"factor", 1}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.process(frame(0), 8).status, DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "slot_bytes")) << sut.log_text();
}

TEST_F(Decimate_test, PassesACustomStructUnchanged) {
    // A 24-byte slot of the kind users define, no waveform header: decimate copies bytes, whatever they are.
    struct Reading {
        std::uint64_t index;
        double volts;
        std::uint64_t adc_ticks;
    };
    static_assert(sizeof(Reading) == 24);
    constexpr std::uint64_t TIMESTAMP_NS = 7'000'000'123;
    Harness sut(component(), {{"factor", 2}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    std::vector<std::uint64_t> kept;

    for (std::uint64_t i = 0; i < 6; ++i) {
        const auto in = Frame::of(Reading{i, 0.25 * static_cast<double>(i), ~i}, i, TIMESTAMP_NS + i);
        const auto result = sut.process(in, sizeof(Reading));
        if (result.status != DHUB_OK) continue;
        EXPECT_EQ(result.output.bytes, in.bytes);
        EXPECT_EQ(result.output.timestamp_ns, in.timestamp_ns);
        kept.push_back(result.output.as<Reading>().index);
    }

    EXPECT_EQ(kept, (std::vector<std::uint64_t>{0, 2, 4}));
}

TEST_F(Decimate_test, TakesAnySchema) {
    EXPECT_STREQ(component()->input_schema, "*");
    EXPECT_STREQ(component()->output_schema, "*");
}

TEST_F(Decimate_test, SchemaRejectsFactorZero) {
    EXPECT_THROW(Harness(component(), {{"factor", 0}}), HarnessError);
}

}  // namespace
