// SPDX-License-Identifier: Apache-2.0
// What the transport tests (zmq_transport_test.cpp, kafka_transport_test.cpp) build their kernel pairs from: a
// channel of counter waveforms, the source and recorder nodes at either end, and the checks on what arrived.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/formats/waveform.hpp"

namespace dhub::testing {

/// "raw": counter waveforms under the sim source's schema, every reader lossless.
inline nlohmann::json waveform_channel(std::uint64_t slot_bytes, std::uint32_t slots) {
    return {{"name", "raw"},
            {"slot_bytes", slot_bytes},
            {"slot_count", slots},
            {"sync", "every_reader"},
            {"schema", formats::WAVEFORM_SCHEMA_ID}};
}

/// sim: a counter waveform of `samples` per frame into "raw", `frames` of them at `rate_hz` (0 frames: no end).
inline nlohmann::json counter_source(std::uint64_t frames, double rate_hz, std::uint32_t samples) {
    return {{"id", "sim"},
            {"plugin", "sim_source"},
            {"params",
             {{"waveform", "counter"},
              {"channels", 1},
              {"samples_per_channel", samples},
              {"rate_hz", rate_hz},
              {"max_frames", frames}}},
            {"outputs", {"raw"}}};
}

/// A recorder of "raw" to path; with flush_every_slot, what a SIGKILLed kernel recorded is on disk.
inline nlohmann::json raw_recorder(const std::string& id, const std::filesystem::path& path, bool flush_every_slot) {
    nlohmann::json params = {{"path", path.string()}};
    if (flush_every_slot) params["flush_every"] = 1;
    return {{"id", id}, {"plugin", "recorder"}, {"params", params}, {"inputs", {"raw"}}};
}

/// A counter of a node's --report entry; 0 when the node or the field is missing.
inline std::uint64_t count_of(const nlohmann::json& node, const char* field) {
    return node.is_object() && node.contains(field) ? node[field].get<std::uint64_t>() : 0;
}

/// Every frame counter from first to first + n - 1, in order.
inline void expect_contiguous(const std::vector<std::uint64_t>& frames, const std::string& what) {
    for (std::size_t i = 1; i < frames.size(); ++i) {
        ASSERT_EQ(frames[i], frames[i - 1] + 1)
            << what << ": frame " << frames[i - 1] << " is followed by " << frames[i];
    }
}

}  // namespace dhub::testing
