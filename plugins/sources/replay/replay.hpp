// SPDX-License-Identifier: Apache-2.0
// dhub.source.replay: plays back a recording of dhub.sink.recorder. Each output slot carries exactly the
// recorded bytes. rate "recorded" keeps the recorded spacing between slots (deadlines computed from the
// recorded timestamps, so no drift); "max" plays as fast as the channel takes them. Gaps in the
// recording are counted and logged; they cannot be replayed. Slot timestamps are replay time (the
// recorded times stay inside the payload, e.g. in a waveform header).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dhub/formats/recording.hpp"
#include "dhub/sdk/plugin.hpp"
#include "recording_reader.hpp"

namespace dhub::plugins::replay {

class Replay : public sdk::Source<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.source.replay";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Plays back a recording of dhub.sink.recorder, byte for byte";
    static constexpr const char* output_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"path","type":"path","doc":"recording data file (its index is <path>.idx); relative to the graph file"},
{"name":"rate","type":"string","default":"recorded","enum":["recorded","max"],
 "doc":"recorded: the original spacing between slots; max: as fast as possible"},
{"name":"loop","type":"boolean","default":false,"doc":"start again at the end instead of ending the stream"}
])json";

    explicit Replay(sdk::NodeContext& context);

    dhub_status start(sdk::NodeContext& context);
    dhub_status produce(sdk::NodeContext& context, sdk::OutputSlot<sdk::Bytes>& out);
    void stop(sdk::NodeContext& context);

private:
    /// Finds the next slot record (counting gaps, wrapping if looping); DHUB_END_OF_STREAM at the end.
    dhub_status fetch_next(sdk::NodeContext& context);
    /// When the pending slot is due, from its recorded timestamp.
    std::uint64_t deadline_of(const formats::recording::IndexRecord& record, std::uint64_t now_ns);

    std::string path_;
    bool recorded_rate_;
    bool loop_;
    std::optional<RecordingReader> reader_;
    std::optional<formats::recording::IndexRecord> pending_;

    // The schedule of the current pass: slot i plays at pass_start_ns_ + (its timestamp - the first's).
    bool pass_started_ = false;
    std::uint64_t pass_start_ns_ = 0;
    std::uint64_t pass_first_timestamp_ns_ = 0;
    std::uint64_t pass_last_timestamp_ns_ = 0;
    std::uint64_t pass_slots_ = 0;
    std::uint64_t last_deadline_ns_ = 0;

    std::uint64_t played_ = 0;
    std::uint64_t passes_ = 1;
    std::uint64_t gaps_ = 0;
    bool reported_small_slot_ = false;
    bool reported_truncation_ = false;
};

}  // namespace dhub::plugins::replay
