// SPDX-License-Identifier: Apache-2.0
// An n:1 stage with a burst handler that consumes only whole groups (SDK 1.2, dhub_burst_args.consumed):
// every three ticks become their sum. Slot by slot it keeps a partial sum itself; in bursts it takes the
// whole groups it was given and leaves the rest to be offered again with more. Both give the same output.
#include <cstdint>

#include "dhub/sdk/plugin.hpp"

namespace {

struct Tick {
    std::uint64_t value;
};

class Sum3 : public dhub::sdk::Stage<Tick, Tick> {
public:
    static constexpr const char* id = "test.stage.sum3";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "the sum of every three ticks (an n:1 stage)";
    static constexpr const char* input_schema = "test.tick@1";
    static constexpr const char* output_schema = "test.tick@1";

    dhub_status process(dhub::sdk::NodeContext&,
                        const dhub::sdk::InputSlot<Tick>& in,
                        dhub::sdk::OutputSlot<Tick>& out) {
        sum_ += in.value().value;
        if (++pending_ < 3) return DHUB_SKIP;
        out.value().value = sum_;
        out.set_bytes(sizeof(Tick));
        sum_ = 0;
        pending_ = 0;
        return DHUB_OK;
    }

    dhub_status process_burst(dhub::sdk::NodeContext&,
                              dhub::sdk::InputBurst<Tick>& in,
                              dhub::sdk::OutputBurst<Tick>& out) {
        const std::size_t groups = in.size() / 3;
        for (std::size_t group = 0; group < groups; ++group) {
            out[group].value().value =
                in[3 * group].value().value + in[3 * group + 1].value().value + in[3 * group + 2].value().value;
            out[group].set_bytes(sizeof(Tick));
        }
        out.set_filled(groups);
        in.set_consumed(3 * groups);  // a partial group waits for the rest
        return DHUB_OK;
    }

private:
    std::uint64_t sum_ = 0;
    int pending_ = 0;
};

}  // namespace

DHUB_PLUGIN("test_sum3", "1.0.0", "Apache-2.0", "an n:1 burst stage", dhub::sdk::component<Sum3>());
