// SPDX-License-Identifier: Apache-2.0
#include "range_validator.hpp"

#include <cmath>
#include <string>

#include "dhub/plugins/text_format.hpp"

namespace dhub::plugins::range_validator {

RangeValidator::RangeValidator(sdk::NodeContext& context)
    : min_(context.params().number("min")), max_(context.params().number("max")) {
    if (!(min_ <= max_)) {
        throw sdk::HostError(
            DHUB_ERR_INVALID_ARGUMENT,
            "min (" + format_number(min_) + ") must not be greater than max (" + format_number(max_) + ")");
    }
}

sdk::Verdict RangeValidator::validate(sdk::NodeContext& /*context*/, const sdk::InputSlot<sdk::Bytes>& in) const {
    const formats::WaveformParse frame = formats::parse_waveform(in.bytes());
    if (!frame.ok()) return sdk::Verdict::reject_as("malformed", frame.error);
    const std::uint32_t per_channel = frame.view.header.samples_per_channel;
    for (std::uint32_t channel = 0; channel < frame.view.header.channels; ++channel) {
        const std::span<const double> samples = frame.view.channel(channel);
        for (std::uint32_t sample = 0; sample < per_channel; ++sample) {
            const double value = samples[sample];
            // Written so that NaN fails too.
            if (!(value >= min_ && value <= max_)) {
                return sdk::Verdict::reject_as(
                    std::isnan(value) ? "not_finite" : "out_of_range",
                    "channel " + std::to_string(channel) + " sample " + std::to_string(sample) + " = " +
                        format_number(value) + " outside [" + format_number(min_) + ", " + format_number(max_) + "]");
            }
        }
    }
    return sdk::Verdict::accept();
}

}  // namespace dhub::plugins::range_validator

DHUB_PLUGIN("range_validator",
            "1.0.0",
            "Apache-2.0",
            "Waveform range validator (dhub.validator.range)",
            dhub::sdk::component<dhub::plugins::range_validator::RangeValidator>())
