// SPDX-License-Identifier: Apache-2.0
// dhub.stage.throttle: passes at most max_rate_hz slots per second and skips (DHUB_SKIP) the rest. A
// passed slot is a byte copy with its timestamp, so it takes any schema ("*").
//
// Time is the slots' own timestamps, not the host clock: the rate is that of the data, the same whether
// the slots arrive live, in a backlog after the stage was descheduled, or from a lossless ring that
// filled up, and the same input always keeps the same slots. Which slots pass: rate_schedule.hpp.
#pragma once

#include <cstdint>

#include "dhub/sdk/plugin.hpp"
#include "rate_schedule.hpp"

namespace dhub::plugins::throttle {

class Throttle : public sdk::Stage<sdk::Bytes, sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.stage.throttle";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Passes at most max_rate_hz slots per second of slot time (any schema, byte copy) and skips the others";
    // "*": a byte copy never looks inside, so any slot passes. The output channel's own "schema" names
    // what it carries (docs/graph.md); a channel without one is not checked against its readers.
    static constexpr const char* input_schema = "*";
    static constexpr const char* output_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"max_rate_hz","type":"number","min":0.001,"max":1000000000,"unit":"Hz",
 "doc":"most slots passed per second of slot timestamps, evenly spaced"}
])json";

    explicit Throttle(sdk::NodeContext& context);

    dhub_status process(sdk::NodeContext& context,
                        const sdk::InputSlot<sdk::Bytes>& in,
                        sdk::OutputSlot<sdk::Bytes>& out);

private:
    RateSchedule schedule_;
    bool restart_logged_ = false;
};

}  // namespace dhub::plugins::throttle
