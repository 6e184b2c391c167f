// SPDX-License-Identifier: Apache-2.0
// dhub.stage.scale: copies a waveform frame with every sample mapped to sample * gain + offset. The header
// (sequence, timestamp, shape) and the slot timestamp pass through unchanged.
#pragma once

#include <cstdint>

#include "dhub/formats/waveform.hpp"
#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::scale {

class Scale : public sdk::Stage<sdk::Bytes, sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.stage.scale";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Linear map of waveform samples: out = in * gain + offset";
    static constexpr const char* input_schema = formats::WAVEFORM_SCHEMA_ID;
    static constexpr const char* output_schema = formats::WAVEFORM_SCHEMA_ID;
    static constexpr std::uint64_t input_min_slot_bytes = formats::WAVEFORM_HEADER_BYTES;
    static constexpr std::uint64_t output_min_slot_bytes = formats::WAVEFORM_HEADER_BYTES;
    static constexpr const char* params_schema = R"json([
{"name":"gain","type":"number","default":1,"doc":"factor applied to every sample"},
{"name":"offset","type":"number","default":0,"doc":"added after the gain"}
])json";

    explicit Scale(sdk::NodeContext& context);

    dhub_status process(sdk::NodeContext& context,
                        const sdk::InputSlot<sdk::Bytes>& in,
                        sdk::OutputSlot<sdk::Bytes>& out);

private:
    double gain_;
    double offset_;
};

}  // namespace dhub::plugins::scale
