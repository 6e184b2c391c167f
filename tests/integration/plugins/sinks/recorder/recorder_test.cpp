// SPDX-License-Identifier: Apache-2.0
// dhub.sink.recorder through the harness, loaded from the built dhub-recorder.so; the files are read back
// with the format header alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>

#include "dhub/formats/recording.hpp"
#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"
#include "support/record_frames.hpp"
#include "support/recording_files.hpp"
#include "support/temp_dir.hpp"

namespace {

using dhub::formats::recording::RecordKind;
using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;

constexpr std::uint64_t SLOT_CAPACITY = 256;
constexpr const char* SCHEMA = "dhub.waveform.f64@1";

class Recorder_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("recorder", "dhub.sink.recorder");
    }

    dhub::testing::TempDir dir_;
    std::string path_ = dir_.file("run.dhubrec");
};

TEST_F(Recorder_test, DescriptorDeclaresASinkOfAnySchema) {
    EXPECT_EQ(component()->kind, DHUB_KIND_SINK);
    EXPECT_STREQ(component()->input_schema, "*");
}

TEST_F(Recorder_test, WritesHeadersSchemaSlotBytesAndIndex) {
    Harness sut(component(), {{"path", path_}, {"schema", SCHEMA}});
    sut.set_input_capacity(SLOT_CAPACITY);
    ASSERT_EQ(sut.start(), DHUB_OK) << sut.log_text();
    const auto first = dhub::test::patterned_frame(0, 1000, 100);
    const auto second = dhub::test::patterned_frame(1, 2000, 3);

    ASSERT_EQ(sut.consume(first), DHUB_OK);
    ASSERT_EQ(sut.consume(second), DHUB_OK);
    sut.stop();

    const auto files = dhub::test::read_recording(path_);
    EXPECT_EQ(std::memcmp(files.data_header.magic, "DHUBREC1", 8), 0);
    EXPECT_EQ(files.data_header.format_version, 1U);
    EXPECT_EQ(files.data_header.slot_capacity, SLOT_CAPACITY);
    EXPECT_EQ(files.data_header.header_bytes % 64, 0U);
    EXPECT_EQ(files.schema, SCHEMA);
    EXPECT_EQ(std::memcmp(files.index_header.magic, "DHUBIDX1", 8), 0);
    EXPECT_EQ(files.index_header.record_bytes, sizeof(dhub::formats::recording::IndexRecord));
    ASSERT_EQ(files.records.size(), 2U);
    EXPECT_EQ(files.records[0].kind, RecordKind::Slot);
    EXPECT_EQ(files.records[0].sequence, 0U);
    EXPECT_EQ(files.records[0].timestamp_ns, 1000U);
    EXPECT_EQ(files.records[0].offset, files.data_header.header_bytes);
    EXPECT_EQ(files.records[1].offset, files.data_header.header_bytes + 100);
    EXPECT_EQ(files.slot_bytes(files.records[0]), first.bytes);
    EXPECT_EQ(files.slot_bytes(files.records[1]), second.bytes);
    EXPECT_EQ(files.data.size(), files.data_header.header_bytes + 103U);
}

TEST_F(Recorder_test, MarksMissingSequencesWithAGapRecord) {
    dhub::test::record_frames(path_,
                              {dhub::test::patterned_frame(10, 1, 8), dhub::test::patterned_frame(11, 2, 8),
                               dhub::test::patterned_frame(14, 5, 8), dhub::test::patterned_frame(15, 6, 8)},
                              SLOT_CAPACITY);

    const auto records = dhub::test::read_recording(path_).records;

    ASSERT_EQ(records.size(), 5U);
    EXPECT_EQ(records[2].kind, RecordKind::Gap);
    EXPECT_EQ(records[2].sequence, 12U);
    EXPECT_EQ(records[2].missing, 2U);
    EXPECT_EQ(records[2].timestamp_ns, 5U);
    EXPECT_EQ(records[2].bytes, 0U);
    EXPECT_EQ(records[3].kind, RecordKind::Slot);
    EXPECT_EQ(records[3].sequence, 14U);
}

TEST_F(Recorder_test, FlushesToDiskEveryFlushEverySlots) {
    constexpr std::size_t FRAME_BYTES = 40;
    Harness sut(component(), {{"path", path_}, {"flush_every", 2}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    const std::uint64_t header_bytes = dhub::test::read_recording(path_).data_header.header_bytes;

    ASSERT_EQ(sut.consume(dhub::test::patterned_frame(0, 0, FRAME_BYTES)), DHUB_OK);
    ASSERT_EQ(sut.consume(dhub::test::patterned_frame(1, 0, FRAME_BYTES)), DHUB_OK);

    EXPECT_EQ(std::filesystem::file_size(path_), header_bytes + 2 * FRAME_BYTES);
    EXPECT_EQ(dhub::test::read_recording(path_).records.size(), 2U);
}

TEST_F(Recorder_test, StoresTheDefaultAnySchemaWhenNoneIsGiven) {
    dhub::test::record_frames(path_, {}, SLOT_CAPACITY, "*");

    const auto files = dhub::test::read_recording(path_);

    EXPECT_EQ(files.schema, "*");
    EXPECT_EQ(files.data_header.slot_capacity, 0U);  // nothing recorded: unknown
    EXPECT_TRUE(files.records.empty());
}

TEST_F(Recorder_test, StoresTheInputChannelsSchemaWhenNoneIsGiven) {
    Harness sut(component(), {{"path", path_}});
    sut.host().set_port_schema(dhub::sdk::Direction::Input, 0, "acme.reading@2");  // as the kernel reports it
    ASSERT_EQ(sut.start(), DHUB_OK) << sut.log_text();
    sut.stop();
    EXPECT_EQ(dhub::test::read_recording(path_).schema, "acme.reading@2");
}

TEST_F(Recorder_test, AGivenSchemaWinsOverTheChannels) {
    Harness sut(component(), {{"path", path_}, {"schema", SCHEMA}});
    sut.host().set_port_schema(dhub::sdk::Direction::Input, 0, "acme.reading@2");
    ASSERT_EQ(sut.start(), DHUB_OK) << sut.log_text();
    sut.stop();
    EXPECT_EQ(dhub::test::read_recording(path_).schema, SCHEMA);
}

TEST_F(Recorder_test, FailsToStartWhenTheFileCannotBeCreated) {
    const std::string unwritable = dir_.file("missing-directory/run.dhubrec");
    Harness sut(component(), {{"path", unwritable}});

    EXPECT_EQ(sut.start(), DHUB_ERR_IO);
    EXPECT_TRUE(sut.has_log(DHUB_LOG_ERROR, unwritable)) << sut.log_text();
}

TEST_F(Recorder_test, PathIsRequired) {
    EXPECT_THROW(Harness(component(), {}), HarnessError);
}

}  // namespace
