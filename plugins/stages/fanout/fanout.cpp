// SPDX-License-Identifier: Apache-2.0
#include "fanout.hpp"

#include <string>

#include "dhub/plugins/slot_copy.hpp"

namespace dhub::plugins::fanout {
namespace {

/// Copies the input's slot (bytes and timestamp) to output index `output`.
dhub_status copy_to(sdk::NodeContext& context, sdk::Ports& io, std::uint32_t output) {
    const sdk::InputSlot<sdk::Bytes> in = io.input(0).slot();
    dhub_status copied = DHUB_OK;
    const dhub_status pushed = io.output<sdk::Bytes>(output).push([&](sdk::OutputSlot<sdk::Bytes>& out) {
        copied = copy_slot(context, in, out);
        return copied == DHUB_OK;
    });
    return copied != DHUB_OK ? copied : pushed;
}

DemuxRule make_rule(const sdk::Params& params, std::uint32_t outputs) {
    const auto kind = DemuxRule::parse(params.string("rule"));
    const std::int64_t width = params.integer("width");
    if (width != 1 && width != 2 && width != 4 && width != 8) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                             "width must be 1, 2, 4 or 8 bytes, got " + std::to_string(width));
    }
    return DemuxRule(kind.value_or(DemuxRule::Kind::RoundRobin), outputs,
                     static_cast<std::uint64_t>(params.integer("offset")), static_cast<std::uint32_t>(width));
}

}  // namespace

dhub_status Tee::process(sdk::NodeContext& context, sdk::Ports& io) {
    if (!io.input(0).ready()) return DHUB_SKIP;  // the input closed: nothing to copy
    dhub_status first_failure = DHUB_OK;
    for (std::uint32_t output = outputs_.first; output < outputs_.first + outputs_.count; ++output) {
        // One output refusing (a slot too small) must not starve the others: copy to all, report the first
        // failure. DHUB_STOPPING (asked to stop while waiting for space) ends the copying.
        const dhub_status status = copy_to(context, io, output);
        if (status == DHUB_STOPPING) return status;
        if (status != DHUB_OK && first_failure == DHUB_OK) first_failure = status;
    }
    return first_failure;
}

Demux::Demux(sdk::NodeContext& context)
    : outputs_(context.port(sdk::Direction::Output, "out")), rule_(make_rule(context.params(), outputs_.count)) {}

void Demux::stop(sdk::NodeContext& context) {
    if (unrouted_ > 0) {
        context.log().warn(std::to_string(unrouted_) +
                           " slots named no output (field value out of range, or the slot too short) and were "
                           "dropped");
    }
}

dhub_status Demux::process(sdk::NodeContext& context, sdk::Ports& io) {
    const sdk::PortInput input = io.input(0);
    if (!input.ready()) return DHUB_SKIP;
    const auto output = rule_.route(input.sequence(), input.slot().bytes());
    if (!output) {
        ++unrouted_;
        return DHUB_SKIP;
    }
    return copy_to(context, io, outputs_.first + *output);
}

}  // namespace dhub::plugins::fanout

DHUB_PLUGIN("fanout",
            "1.0.0",
            "Apache-2.0",
            "One stream to several: tee (copies to all) and demux (one output per slot by a rule)",
            dhub::sdk::component<dhub::plugins::fanout::Tee>(),
            dhub::sdk::component<dhub::plugins::fanout::Demux>())
