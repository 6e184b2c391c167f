// SPDX-License-Identifier: Apache-2.0
// dhub.validator.range: accepts a waveform frame when it is well-formed and every sample lies in
// [min, max]; otherwise rejects it naming the first offending sample ("channel 2 sample 17 = 3.5 outside
// [-1, 1]") or what is malformed. NaN is outside every range.
#pragma once

#include <cstdint>

#include "dhub/formats/waveform.hpp"
#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::range_validator {

class RangeValidator : public sdk::Validator<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.validator.range";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Rejects waveform frames that are malformed or have samples outside [min, max]";
    static constexpr const char* input_schema = formats::WAVEFORM_SCHEMA_ID;
    static constexpr const char* params_schema = R"json([
{"name":"min","type":"number","default":-1e300,"doc":"smallest accepted sample value (inclusive)"},
{"name":"max","type":"number","default":1e300,"doc":"largest accepted sample value (inclusive)"}
])json";

    explicit RangeValidator(sdk::NodeContext& context);

    sdk::Verdict validate(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in) const;

private:
    double min_;
    double max_;
};

}  // namespace dhub::plugins::range_validator
