// SPDX-License-Identifier: Apache-2.0
// A stage's burst handler written as its per-slot handler (SDK 1.2): one line gives a stage the burst path,
// one hand-over per burst instead of one per slot (docs/sdk.md, "Bursts").
//
//   dhub_status process_burst(NodeContext& context, InputBurst<In>& in, OutputBurst<Out>& out) {
//       return dhub::sdk::each_slot(in, out, [&](const InputSlot<In>& slot, OutputSlot<Out>& into) {
//           return process(context, slot, into);
//       });
//   }
#pragma once

#include <cstddef>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/slots.hpp"

namespace dhub::sdk {

/// Calls handle(input, output) for the input slots in turn, as process() is called one slot at a time, each
/// time with a fresh output slot (whole length, timestamp 0: stamped at commit). Outputs are packed: a slot it
/// returns DHUB_SKIP for takes none. It stops at the first other status (an error, DHUB_END_OF_STREAM,
/// DHUB_STOPPING): that slot is consumed and the status returned, so the kernel counts it for that slot as
/// it would one slot at a time, and the slots after it are offered again in the next call.
template <typename In, typename Out, typename Handle>
dhub_status each_slot(InputBurst<In>& in, OutputBurst<Out>& out, Handle&& handle) {
    std::size_t filled = 0;
    for (std::size_t index = 0; index < in.size(); ++index) {
        OutputSlot<Out> into = out[filled];
        into.set_bytes(into.capacity());  // nothing a skipped or failed call wrote into it carries over
        into.set_timestamp_ns(0);
        const dhub_status status = handle(in[index], into);
        if (status == DHUB_OK) ++filled;
        if (status == DHUB_OK || status == DHUB_SKIP) continue;
        out.set_filled(filled);
        in.set_consumed(index + 1);
        return status;
    }
    out.set_filled(filled);
    in.set_consumed(in.size());
    return DHUB_OK;
}

}  // namespace dhub::sdk
