// SPDX-License-Identifier: Apache-2.0
// dhub.stage.decimate: passes frames 0, factor, 2*factor, ... of those it receives, unchanged, and skips
// the rest. It counts the frames it is given rather than looking at sequence numbers, so frames lost
// upstream do not shift which ones pass. It decimates frames, not samples: a passed frame is a byte copy.
#pragma once

#include <cstdint>

#include "dhub/plugins/waveform.hpp"
#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::decimate {

class Decimate : public sdk::Stage<sdk::Bytes, sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.stage.decimate";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Passes every factor-th waveform frame and skips the others";
    static constexpr const char* input_schema = WAVEFORM_SCHEMA_ID;
    static constexpr const char* output_schema = WAVEFORM_SCHEMA_ID;
    static constexpr const char* params_schema = R"json([
{"name":"factor","type":"integer","default":2,"min":1,"max":1000000,"doc":"pass one frame out of factor"}
])json";

    explicit Decimate(sdk::NodeContext& context);

    dhub_status process(sdk::NodeContext& context,
                        const sdk::InputSlot<sdk::Bytes>& in,
                        sdk::OutputSlot<sdk::Bytes>& out);

private:
    std::uint64_t factor_;
    std::uint64_t received_ = 0;
};

}  // namespace dhub::plugins::decimate
