// SPDX-License-Identifier: Apache-2.0
// dhub.sink.recorder then dhub.source.replay: what comes out is what went in, byte for byte, and the gaps
// the recorder saw are in the recording.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/record_frames.hpp"
#include "support/recording_files.hpp"
#include "support/temp_dir.hpp"
#include "support/waveform_frames.hpp"

namespace {

using dhub::formats::recording::RecordKind;
using dhub::sdk::testing::Frame;
using dhub::sdk::testing::Harness;

constexpr std::uint64_t SLOT_CAPACITY = 4096;

class RecordReplayRoundTrip_test : public ::testing::Test {
protected:
    dhub::testing::TempDir dir_;
    std::string path_ = dir_.file("round-trip.dhubrec");
};

TEST_F(RecordReplayRoundTrip_test, ReplaysEveryRecordedSlotByteForByteAndKeepsTheGaps) {
    // Waveforms of different shapes and plain bytes, with sequences 3..4 and 7 missing.
    const std::vector<Frame> recorded = {
        dhub::test::make_waveform(0, 1'000, 2, 8, [](auto c, auto s) { return c * 100.0 + s; }),
        dhub::test::make_waveform(1, 2'000, 1, 3, [](auto, auto s) { return -1.0 * s; }),
        dhub::test::patterned_frame(2, 3'000, 1),
        dhub::test::make_waveform(5, 6'000, 4, 16, [](auto c, auto s) { return c - 0.5 * s; }),
        dhub::test::patterned_frame(6, 7'000, 0),
        dhub::test::patterned_frame(8, 9'000, SLOT_CAPACITY),
    };
    dhub::test::record_frames(path_, recorded, SLOT_CAPACITY, "dhub.waveform.f64@1");
    Harness sut(dhub::test::plugin_component("replay", "dhub.source.replay"), {{"path", path_}, {"rate", "max"}});
    ASSERT_EQ(sut.start(), DHUB_OK) << sut.log_text();

    std::vector<Frame> replayed;
    for (std::size_t index = 0; index < recorded.size(); ++index) {
        auto result = sut.produce(SLOT_CAPACITY);
        ASSERT_EQ(result.status, DHUB_OK) << "slot " << index << "\n" << sut.log_text();
        replayed.push_back(std::move(result.output));
    }
    const dhub_status after_last = sut.produce(SLOT_CAPACITY).status;
    sut.stop();

    for (std::size_t index = 0; index < recorded.size(); ++index) {
        EXPECT_EQ(replayed[index].bytes, recorded[index].bytes) << "slot " << index;
    }
    EXPECT_EQ(after_last, DHUB_END_OF_STREAM);
    const auto records = dhub::test::read_recording(path_).records;
    ASSERT_EQ(records.size(), recorded.size() + 2);
    EXPECT_EQ(records[3].kind, RecordKind::Gap);
    EXPECT_EQ(records[3].sequence, 3U);
    EXPECT_EQ(records[3].missing, 2U);
    EXPECT_EQ(records[6].kind, RecordKind::Gap);
    EXPECT_EQ(records[6].sequence, 7U);
    EXPECT_EQ(records[6].missing, 1U);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_INFO, "2 gaps in the recording")) << sut.log_text();
}

}  // namespace
