// SPDX-License-Identifier: Apache-2.0
// dhub.source.replay through the harness, loaded from the built dhub-replay.so, on recordings made by
// the real recorder.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/record_frames.hpp"
#include "support/recording_files.hpp"
#include "support/temp_dir.hpp"

namespace {

using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;
using dhub::test::patterned_frame;

constexpr std::uint64_t SLOT_CAPACITY = 512;
constexpr std::uint64_t ONE_MS_NS = 1'000'000;
constexpr std::uint64_t RECORDED_START_NS = 5'000 * ONE_MS_NS;

class Replay_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("replay", "dhub.source.replay");
    }
    /// Three slots recorded 10 ms and then 30 ms apart.
    void record_three() {
        dhub::test::record_frames(
            path_,
            {patterned_frame(0, RECORDED_START_NS, 16), patterned_frame(1, RECORDED_START_NS + 10 * ONE_MS_NS, 32),
             patterned_frame(2, RECORDED_START_NS + 40 * ONE_MS_NS, 48)},
            SLOT_CAPACITY);
    }

    dhub::testing::TempDir dir_;
    std::string path_ = dir_.file("replay.dhubrec");
};

TEST_F(Replay_test, DescriptorDeclaresASourceOfAnySchema) {
    EXPECT_EQ(component()->kind, DHUB_KIND_SOURCE);
    EXPECT_STREQ(component()->output_schema, "*");
}

TEST_F(Replay_test, KeepsTheRecordedSpacingBetweenSlots) {
    record_three();
    Harness sut(component(), {{"path", path_}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK) << sut.log_text();

    std::vector<std::uint64_t> timestamps;
    for (int slot = 0; slot < 3; ++slot) {
        const auto result = sut.produce(SLOT_CAPACITY);
        ASSERT_EQ(result.status, DHUB_OK) << sut.log_text();
        timestamps.push_back(result.output.timestamp_ns);
        sut.clock().advance_ns(ONE_MS_NS);  // time spent downstream does not shift the schedule
    }

    EXPECT_EQ(timestamps, (std::vector<std::uint64_t>{start_ns, start_ns + 10 * ONE_MS_NS, start_ns + 40 * ONE_MS_NS}));
    EXPECT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_END_OF_STREAM);
}

TEST_F(Replay_test, MaxRatePlaysWithoutWaiting) {
    record_three();
    Harness sut(component(), {{"path", path_}, {"rate", "max"}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK);

    for (int slot = 0; slot < 3; ++slot)
        ASSERT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_OK);

    EXPECT_EQ(sut.clock().now_ns(), start_ns);
    EXPECT_TRUE(sut.host().sleep_deadlines().empty());
}

TEST_F(Replay_test, LoopsBackToTheFirstSlotWhenAskedTo) {
    record_three();
    Harness sut(component(), {{"path", path_}, {"loop", true}});
    const std::uint64_t start_ns = sut.clock().now_ns();
    ASSERT_EQ(sut.start(), DHUB_OK);

    std::vector<std::size_t> sizes;
    std::vector<std::uint64_t> timestamps;
    for (int slot = 0; slot < 7; ++slot) {
        const auto result = sut.produce(SLOT_CAPACITY);
        ASSERT_EQ(result.status, DHUB_OK) << sut.log_text();
        sizes.push_back(result.output.bytes.size());
        timestamps.push_back(result.output.timestamp_ns);
    }

    EXPECT_EQ(sizes, (std::vector<std::size_t>{16, 32, 48, 16, 32, 48, 16}));
    // The second pass starts one average spacing (20 ms) after the last slot of the first.
    EXPECT_EQ(timestamps[3], start_ns + 60 * ONE_MS_NS);
    EXPECT_EQ(timestamps[6], start_ns + 120 * ONE_MS_NS);
}

TEST_F(Replay_test, EmptyRecordingEndsAtOnceEvenWhenLooping) {
    dhub::test::record_frames(path_, {}, SLOT_CAPACITY);
    Harness sut(component(), {{"path", path_}, {"loop", true}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_END_OF_STREAM);
}

TEST_F(Replay_test, StopsWaitingWhenAskedToStop) {
    record_three();
    Harness sut(component(), {{"path", path_}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    ASSERT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_OK);

    sut.request_stop();

    EXPECT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_STOPPING);
}

TEST_F(Replay_test, TooSmallOutputSlotIsAnErrorAndTheSlotIsNotLost) {
    record_three();
    Harness sut(component(), {{"path", path_}, {"rate", "max"}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.produce(8).status, DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "set slot_bytes of the output channel to at least 512")) << sut.log_text();
    EXPECT_EQ(sut.produce(SLOT_CAPACITY).output.bytes, patterned_frame(0, 0, 16).bytes);
}

TEST_F(Replay_test, MissingRecordingFailsToStartNamingTheFile) {
    Harness sut(component(), {{"path", path_}});

    EXPECT_EQ(sut.start(), DHUB_ERR_IO);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, path_)) << sut.log_text();
}

TEST_F(Replay_test, RefusesAFileThatIsNotARecording) {
    record_three();
    std::filesystem::resize_file(path_, 10);
    Harness sut(component(), {{"path", path_}});

    EXPECT_EQ(sut.start(), DHUB_ERR_IO);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, "too short")) << sut.log_text();
}

TEST_F(Replay_test, IndexPointingPastTheDataEndsTheStreamWithAWarning) {
    record_three();
    const std::uint64_t header_bytes = dhub::test::read_recording(path_).data_header.header_bytes;
    std::filesystem::resize_file(path_, header_bytes + 16 + 32 + 10);  // the third slot is cut short
    Harness sut(component(), {{"path", path_}, {"rate", "max"}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_OK);
    EXPECT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_OK);
    EXPECT_EQ(sut.produce(SLOT_CAPACITY).status, DHUB_END_OF_STREAM);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_WARN, "points past the end")) << sut.log_text();
}

TEST_F(Replay_test, PathIsRequiredAndRateIsAnEnum) {
    EXPECT_THROW(Harness(component(), {}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"path", path_}, {"rate", "fast"}}), HarnessError);
}

}  // namespace
