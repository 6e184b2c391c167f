// SPDX-License-Identifier: Apache-2.0
// dhub.stage.correlate: pairs the slots of two or more inputs (a camera and a detector, several detectors)
// into one output slot per matched set, by timestamp within a tolerance or by equal sequence numbers
// (sources that share a trigger). A slot that can never be part of a set is counted as unmatched and, when
// the optional "unmatched" output is wired, copied there as it came. The output is dhub.correlated@1
// (dhub/formats/correlated.hpp): every input's slot side by side, with its sequence and timestamp.
#pragma once

#include <cstdint>
#include <vector>

#include "dhub/formats/correlated.hpp"
#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::correlate {

class Correlate : public sdk::MultiPort<DHUB_KIND_STAGE> {
public:
    static constexpr const char* id = "dhub.stage.correlate";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Pairs the slots of two or more inputs by timestamp (within a tolerance) or by sequence";
    static constexpr const char* params_schema = R"json([
{"name":"match","type":"string","default":"timestamp","enum":["timestamp","sequence"],
 "doc":"pair slots whose timestamps differ by at most tolerance_ns, or slots with equal sequence numbers"},
{"name":"tolerance_ns","type":"integer","default":1000000,"min":0,"unit":"ns",
 "doc":"largest timestamp difference within a set (match: timestamp)"},
{"name":"max_wait_ns","type":"integer","default":0,"min":0,"unit":"ns",
 "doc":"give a slot up as unmatched once it is this much older than the kernel's clock (0: wait as long as its partner's input is open); needs timestamps on the kernel's clock"}
])json";
    static constexpr dhub_port_descriptor ports[] = {
        sdk::input("in", "*", 0, sdk::many_channels, "the streams to pair, two or more"),
        sdk::output("out", formats::CORRELATED_SCHEMA_ID, 0, 0, "one slot per matched set (dhub.correlated@1)"),
        sdk::output("unmatched", "*", 0, sdk::optional_port, "slots that found no partner, unchanged"),
    };

    explicit Correlate(sdk::NodeContext& context);
    void stop(sdk::NodeContext& context);
    dhub_status process(sdk::NodeContext& context, sdk::Ports& io);

private:
    dhub_status write_set(sdk::NodeContext& context, sdk::Ports& io);
    dhub_status write_unmatched(sdk::Ports& io, std::uint32_t input);

    bool by_sequence_;
    std::uint64_t tolerance_ns_;
    std::uint64_t max_wait_ns_;
    sdk::NodeContext::PortIndices inputs_;
    sdk::NodeContext::PortIndices out_;
    sdk::NodeContext::PortIndices unmatched_;
    std::uint64_t matched_ = 0;
    std::vector<std::uint64_t> unmatched_per_input_;
};

}  // namespace dhub::plugins::correlate
