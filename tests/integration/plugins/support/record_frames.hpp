// SPDX-License-Identifier: Apache-2.0
// Makes a recording with the real recorder plugin, for the replay tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"

namespace dhub::test {

/// Records the frames (in order, sequences as given) to path through dhub.sink.recorder.
inline void record_frames(const std::string& path,
                          const std::vector<sdk::testing::Frame>& frames,
                          std::uint64_t slot_capacity,
                          const std::string& schema = "test.schema@1") {
    sdk::testing::Harness recorder(plugin_component("recorder", "dhub.sink.recorder"),
                                   {{"path", path}, {"schema", schema}});
    recorder.set_input_capacity(slot_capacity);
    ASSERT_EQ(recorder.start(), DHUB_OK) << recorder.log_text();
    for (const sdk::testing::Frame& frame : frames)
        ASSERT_EQ(recorder.consume(frame), DHUB_OK) << recorder.log_text();
    recorder.stop();
}

/// A frame of `bytes` bytes whose content depends on its sequence.
inline sdk::testing::Frame patterned_frame(std::uint64_t sequence, std::uint64_t timestamp_ns, std::size_t bytes) {
    sdk::testing::Frame frame;
    frame.sequence = sequence;
    frame.timestamp_ns = timestamp_ns;
    frame.bytes.resize(bytes);
    for (std::size_t index = 0; index < bytes; ++index)
        frame.bytes[index] = static_cast<std::byte>((sequence * 31 + index) & 0xFFU);
    return frame;
}

}  // namespace dhub::test
