// SPDX-License-Identifier: Apache-2.0
// dhub.source.sim: writes synthetic waveforms (dhub.waveform.f64@1) at rate_hz frames per second, for
// trying out graphs and for tests. Parameters and patterns: docs/plugins.md.
#pragma once

#include <cstdint>

#include "dhub/formats/waveform.hpp"
#include "dhub/sdk/plugin.hpp"
#include "frame_pacer.hpp"
#include "waveform_pattern.hpp"

namespace dhub::plugins::sim {

class SimSource : public sdk::Source<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.source.sim";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Synthetic waveforms (sine, noise, ramp, counter) at a fixed frame rate";
    static constexpr const char* output_schema = formats::WAVEFORM_SCHEMA_ID;
    static constexpr std::uint64_t output_min_slot_bytes = formats::WAVEFORM_HEADER_BYTES;
    static constexpr const char* params_schema = R"json([
{"name":"waveform","type":"string","default":"sine","enum":["sine","noise","ramp","counter"],
 "doc":"sample pattern: sine, uniform noise, a per-frame ramp, or an exact running sample counter"},
{"name":"channels","type":"integer","default":4,"min":1,"max":1024,"doc":"channels per frame"},
{"name":"samples_per_channel","type":"integer","default":256,"min":1,"max":1000000,"doc":"samples per channel per frame"},
{"name":"rate_hz","type":"number","default":100,"min":0.001,"max":1000000,"unit":"Hz","doc":"frames per second"},
{"name":"amplitude","type":"number","default":1.0,"doc":"peak value of sine, noise and ramp"},
{"name":"frequency_hz","type":"number","default":10,"unit":"Hz","doc":"sine frequency"},
{"name":"seed","type":"integer","default":1,"doc":"noise generator seed: the same seed gives the same samples"},
{"name":"max_frames","type":"integer","default":0,"min":0,"doc":"end of stream after this many frames; 0 = unlimited"}
])json";

    /// How far behind its schedule the source may fall before it gives up catching up.
    static constexpr std::uint64_t MAX_LAG_NS = 1'000'000'000;

    explicit SimSource(sdk::NodeContext& context);

    dhub_status produce(sdk::NodeContext& context, sdk::OutputSlot<sdk::Bytes>& out);
    /// Waits for the next frame's deadline like produce(), then also writes every later frame already due
    /// (high rates, or after a late wake-up): they are published together, none before its deadline.
    dhub_status produce_burst(sdk::NodeContext& context, sdk::OutputBurst<sdk::Bytes>& out);
    void stop(sdk::NodeContext& context);

private:
    /// Checks the slot and sleeps until the next frame is due; DHUB_OK when it is.
    dhub_status wait_for_next_frame(sdk::NodeContext& context, std::uint64_t slot_capacity);
    /// Writes the frame that is due into out and moves the schedule on.
    void write_frame(sdk::OutputSlot<sdk::Bytes> out);
    bool finished() const noexcept { return max_frames_ != 0 && frames_ >= max_frames_; }

    double rate_hz_;
    PatternSettings settings_;
    std::uint64_t max_frames_;
    std::uint64_t frame_bytes_;
    WaveformPattern pattern_;
    FramePacer pacer_;
    std::uint64_t frames_ = 0;
    std::uint64_t resyncs_ = 0;
    bool reported_small_slot_ = false;
};

}  // namespace dhub::plugins::sim
