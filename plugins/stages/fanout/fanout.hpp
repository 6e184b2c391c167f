// SPDX-License-Identifier: Apache-2.0
// dhub.stage.tee copies every input slot to each of its outputs (a recorder and an analysis chain that
// must not share a channel's policy); dhub.stage.demux sends each slot to one of its outputs by a rule
// (demux_rule.hpp). Both are byte copies: any schema, committed bytes and timestamp unchanged.
#pragma once

#include <cstdint>
#include <optional>

#include "demux_rule.hpp"
#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::fanout {

class Tee : public sdk::MultiPort<DHUB_KIND_STAGE> {
public:
    static constexpr const char* id = "dhub.stage.tee";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Copies every slot to each of its outputs (any schema)";
    static constexpr dhub_port_descriptor ports[] = {
        sdk::input("in", "*", 0, 0, "the stream to copy"),
        sdk::output("out", "*", 0, sdk::many_channels, "one or more copies of the input"),
    };

    explicit Tee(sdk::NodeContext& context) : outputs_(context.port(sdk::Direction::Output, "out")) {}
    dhub_status process(sdk::NodeContext& context, sdk::Ports& io);

private:
    sdk::NodeContext::PortIndices outputs_;
};

class Demux : public sdk::MultiPort<DHUB_KIND_STAGE> {
public:
    static constexpr const char* id = "dhub.stage.demux";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Sends each slot to one of its outputs by a rule (any schema)";
    static constexpr const char* params_schema = R"json([
{"name":"rule","type":"string","default":"round_robin","enum":["round_robin","sequence","field"],
 "doc":"in turn; by sequence number modulo the outputs; or by the value of an integer field of the slot"},
{"name":"offset","type":"integer","default":0,"min":0,"unit":"bytes","doc":"rule field: where the field starts"},
{"name":"width","type":"integer","default":4,"min":1,"max":8,"unit":"bytes",
 "doc":"rule field: 1, 2, 4 or 8 bytes, unsigned little-endian; its value is the output index"}
])json";
    static constexpr dhub_port_descriptor ports[] = {
        sdk::input("in", "*", 0, 0, "the stream to copy"),
        sdk::output("out", "*", 0, sdk::many_channels, "the outputs, indexed from 0 in the graph's order"),
    };

    explicit Demux(sdk::NodeContext& context);
    void stop(sdk::NodeContext& context);
    dhub_status process(sdk::NodeContext& context, sdk::Ports& io);

private:
    sdk::NodeContext::PortIndices outputs_;
    DemuxRule rule_;
    std::uint64_t unrouted_ = 0;
};

}  // namespace dhub::plugins::fanout
