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

/// Calls handle(input, output) for every input slot in turn, as process() is called one slot at a time.
/// Outputs are packed: a slot it returns DHUB_SKIP for, or fails, takes no output slot. Every input is
/// consumed. Returns DHUB_OK, else the first status other than DHUB_OK/DHUB_SKIP (the kernel counts it once
/// for the call); DHUB_END_OF_STREAM and DHUB_STOPPING stop at that slot, which is still consumed.
template <typename In, typename Out, typename Handle>
dhub_status each_slot(InputBurst<In>& in, OutputBurst<Out>& out, Handle&& handle) {
    dhub_status first_failure = DHUB_OK;
    std::size_t filled = 0;
    std::size_t index = 0;
    for (; index < in.size(); ++index) {
        OutputSlot<Out> into = out[filled];
        const dhub_status status = handle(in[index], into);
        if (status == DHUB_OK) {
            ++filled;
            continue;
        }
        if (status == DHUB_SKIP) continue;
        if (first_failure == DHUB_OK) first_failure = status;
        if (status == DHUB_END_OF_STREAM || status == DHUB_STOPPING) {
            ++index;
            break;
        }
    }
    out.set_filled(filled);
    in.set_consumed(index);
    return first_failure;
}

}  // namespace dhub::sdk
