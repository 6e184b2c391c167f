// SPDX-License-Identifier: Apache-2.0
#include "scale.hpp"

#include <cstring>
#include <string>

#include "dhub/plugins/linear_map.hpp"

namespace dhub::plugins::scale {

Scale::Scale(sdk::NodeContext& context)
    : gain_(context.params().number("gain")), offset_(context.params().number("offset")) {}

dhub_status Scale::process(sdk::NodeContext& context,
                           const sdk::InputSlot<sdk::Bytes>& in,
                           sdk::OutputSlot<sdk::Bytes>& out) {
    const formats::WaveformParse frame = formats::parse_waveform(in.bytes());
    if (!frame.ok()) {
        context.log().error("input sequence " + std::to_string(in.sequence()) + ": " + frame.error);
        return DHUB_ERR_SCHEMA_MISMATCH;
    }
    const std::uint64_t bytes = in.bytes().size();
    if (out.capacity() < bytes) {
        context.log().error("output slot holds " + std::to_string(out.capacity()) + " bytes, the input frame " +
                            std::to_string(bytes) +
                            ": set slot_bytes of the output channel to at least that of the input");
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    std::memcpy(out.bytes().data(), in.bytes().data(), formats::WAVEFORM_HEADER_BYTES);
    const std::span<double> samples = formats::waveform_samples(out.bytes(), frame.view.samples.size());
    plugins::map_linear(frame.view.samples.data(), samples.data(), samples.size(), gain_, offset_);
    out.set_bytes(bytes);
    out.set_timestamp_ns(in.timestamp_ns());
    return DHUB_OK;
}

}  // namespace dhub::plugins::scale

DHUB_PLUGIN("scale",
            "1.0.0",
            "Apache-2.0",
            "Waveform gain and offset (dhub.stage.scale)",
            dhub::sdk::component<dhub::plugins::scale::Scale>())
