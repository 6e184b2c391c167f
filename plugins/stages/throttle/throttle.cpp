// SPDX-License-Identifier: Apache-2.0
#include "throttle.hpp"

#include <string>

#include "dhub/plugins/slot_copy.hpp"

namespace dhub::plugins::throttle {

Throttle::Throttle(sdk::NodeContext& context) : schedule_(context.params().number("max_rate_hz")) {}

dhub_status Throttle::process(sdk::NodeContext& context,
                              const sdk::InputSlot<sdk::Bytes>& in,
                              sdk::OutputSlot<sdk::Bytes>& out) {
    const RateSchedule::Verdict verdict = schedule_.offer(in.timestamp_ns());
    if (verdict == RateSchedule::Verdict::Drop) return DHUB_SKIP;
    if (verdict == RateSchedule::Verdict::Restart && !restart_logged_) {
        // Once: a source on another time base would otherwise log on every slot.
        context.log().warn("input sequence " + std::to_string(in.sequence()) +
                           ": timestamp earlier than the last passed slot's; the rate schedule starts again here "
                           "(logged once)");
        restart_logged_ = true;
    }
    return copy_slot(context, in, out);
}

}  // namespace dhub::plugins::throttle

DHUB_PLUGIN("throttle",
            "1.0.0",
            "Apache-2.0",
            "Slot rate limit by slot timestamp, any schema (dhub.stage.throttle)",
            dhub::sdk::component<dhub::plugins::throttle::Throttle>())
