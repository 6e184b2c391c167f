// SPDX-License-Identifier: Apache-2.0
// dhub.sink.recorder: writes every slot of its input channel to a recording, byte for byte, with an index
// that also marks gaps (sequences that never arrived). dhub.source.replay plays it back. Format:
// dhub/formats/recording.hpp and docs/plugins.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dhub/sdk/plugin.hpp"
#include "recording_writer.hpp"

namespace dhub::plugins::recorder {

class Recorder : public sdk::Sink<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.sink.recorder";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Records every slot of a channel to <path> with an index <path>.idx";
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"path","type":"path","doc":"data file to create (overwritten); the index is <path>.idx; relative to the graph file"},
{"name":"flush_every","type":"integer","default":64,"min":1,"doc":"flush both files after this many slots"},
{"name":"schema","type":"string","default":"*","doc":"schema id stored in the recording; * (default): the input channel's schema"}
])json";

    explicit Recorder(sdk::NodeContext& context);

    dhub_status start(sdk::NodeContext& context);
    dhub_status consume(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in);
    void stop(sdk::NodeContext& context);

private:
    std::string path_;
    std::string schema_;
    std::uint64_t flush_every_;
    std::optional<RecordingWriter> writer_;
    std::optional<std::uint64_t> expected_sequence_;  ///< none before the first slot
    std::uint64_t slots_ = 0;
    std::uint64_t gaps_ = 0;
    std::uint64_t missing_ = 0;
    std::uint64_t unflushed_ = 0;
};

}  // namespace dhub::plugins::recorder
