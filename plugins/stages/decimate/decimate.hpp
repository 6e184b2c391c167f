// SPDX-License-Identifier: Apache-2.0
// dhub.stage.decimate: passes slots 0, factor, 2*factor, ... of those it receives, unchanged, and skips
// the rest. It counts the slots it is given rather than looking at sequence numbers, so slots lost
// upstream do not shift which ones pass. It decimates slots, not samples: a passed slot is a byte copy,
// so it takes any schema ("*") and its output carries what its input carries.
#pragma once

#include <cstdint>

#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::decimate {

class Decimate : public sdk::Stage<sdk::Bytes, sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.stage.decimate";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Passes every factor-th slot (any schema, byte copy) and skips the others";
    // "*": a byte copy never looks inside, so any slot passes. The output channel's own "schema" names
    // what it carries (docs/graph.md); a channel without one is not checked against its readers.
    static constexpr const char* input_schema = "*";
    static constexpr const char* output_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"factor","type":"integer","default":2,"min":1,"max":1000000,"doc":"pass one slot out of factor"}
])json";

    explicit Decimate(sdk::NodeContext& context);

    dhub_status process(sdk::NodeContext& context,
                        const sdk::InputSlot<sdk::Bytes>& in,
                        sdk::OutputSlot<sdk::Bytes>& out);
#if DHUB_SDK_CHECK_VERSION(1, 2, 0)  // built against SDK 1.1 too (tests/test_plugins/sdk11): slot by slot there
    /// Several slots per call (node "burst" > 1): process() on each, outputs packed.
    dhub_status process_burst(sdk::NodeContext& context,
                              sdk::InputBurst<sdk::Bytes>& in,
                              sdk::OutputBurst<sdk::Bytes>& out) {
        return sdk::each_slot(in, out, [&](const sdk::InputSlot<sdk::Bytes>& slot, sdk::OutputSlot<sdk::Bytes>& into) {
            return process(context, slot, into);
        });
    }
#endif

private:
    std::uint64_t factor_;
    std::uint64_t received_ = 0;
};

}  // namespace dhub::plugins::decimate
