// SPDX-License-Identifier: Apache-2.0
// dhub.stage.scale: copies a waveform frame with every sample mapped to sample * gain + offset. The header
// (sequence, timestamp, shape) and the slot timestamp pass through unchanged.
#pragma once

#include <cstdint>
#include <string_view>

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
#if DHUB_SDK_CHECK_VERSION(1, 4, 0)
    // Both may be changed while the node runs (dhub-ctl params set): on_param takes the new values.
    static constexpr const char* params_schema = R"json([
{"name":"gain","type":"number","default":1,"live":true,"doc":"factor applied to every sample"},
{"name":"offset","type":"number","default":0,"live":true,"doc":"added after the gain"}
])json";
#else  // built against SDK 1.1 too (tests/test_plugins/sdk11), which has no live parameters
    static constexpr const char* params_schema = R"json([
{"name":"gain","type":"number","default":1,"doc":"factor applied to every sample"},
{"name":"offset","type":"number","default":0,"doc":"added after the gain"}
])json";
#endif

    explicit Scale(sdk::NodeContext& context);

    dhub_status process(sdk::NodeContext& context,
                        const sdk::InputSlot<sdk::Bytes>& in,
                        sdk::OutputSlot<sdk::Bytes>& out);
#if DHUB_SDK_CHECK_VERSION(1, 2, 0)  // built against SDK 1.1 too (tests/test_plugins/sdk11): slot by slot there
    /// Several slots per call (node "burst" > 1): process() on each, outputs packed.
    dhub_status process_burst(sdk::NodeContext& context,
                              sdk::InputBurst<sdk::Bytes>& in,
                              sdk::OutputBurst<sdk::Bytes>& out) {
        return sdk::each_slot(in, out, [&](const sdk::InputSlot<sdk::Bytes>& slot, sdk::OutputSlot<sdk::Bytes>& into) {
            return process(context, slot, into);
        });
    }
#endif

#if DHUB_SDK_CHECK_VERSION(1, 4, 0)
    /// gain or offset changed: the next frame is mapped with the new value.
    void on_param(sdk::NodeContext& context, std::string_view name) {
        if (name == "gain") gain_ = context.params().number("gain");
        if (name == "offset") offset_ = context.params().number("offset");
    }
#endif

private:
    double gain_;
    double offset_;
};

}  // namespace dhub::plugins::scale
