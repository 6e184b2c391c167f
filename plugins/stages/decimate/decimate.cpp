// SPDX-License-Identifier: Apache-2.0
#include "decimate.hpp"

#include <string>

#include "dhub/plugins/slot_copy.hpp"

namespace dhub::plugins::decimate {
namespace {

std::uint64_t read_factor(const sdk::Params& params) {
    const std::int64_t factor = params.integer("factor");
    if (factor < 1 || factor > 1'000'000) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                             "factor must be in [1, 1000000], got " + std::to_string(factor));
    }
    return static_cast<std::uint64_t>(factor);
}

}  // namespace

Decimate::Decimate(sdk::NodeContext& context) : factor_(read_factor(context.params())) {}

dhub_status Decimate::process(sdk::NodeContext& context,
                              const sdk::InputSlot<sdk::Bytes>& in,
                              sdk::OutputSlot<sdk::Bytes>& out) {
    const std::uint64_t index = received_++;
    if (index % factor_ != 0) return DHUB_SKIP;
    return copy_slot(context, in, out);
}

}  // namespace dhub::plugins::decimate

DHUB_PLUGIN("decimate",
            "1.0.0",
            "Apache-2.0",
            "Slot decimation, any schema (dhub.stage.decimate)",
            dhub::sdk::component<dhub::plugins::decimate::Decimate>())
