// SPDX-License-Identifier: Apache-2.0
#include "decimate.hpp"

#include <cstring>
#include <string>

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
    const std::span<const std::byte> bytes = in.bytes();
    if (out.capacity() < bytes.size()) {
        context.log().error("output slot holds " + std::to_string(out.capacity()) + " bytes, the input frame " +
                            std::to_string(bytes.size()) +
                            ": set slot_bytes of the output channel to at least that of the input");
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    if (!bytes.empty()) std::memcpy(out.bytes().data(), bytes.data(), bytes.size());
    out.set_bytes(bytes.size());
    out.set_timestamp_ns(in.timestamp_ns());
    return DHUB_OK;
}

}  // namespace dhub::plugins::decimate

DHUB_PLUGIN("decimate",
            "1.0.0",
            "Apache-2.0",
            "Frame decimation (dhub.stage.decimate)",
            dhub::sdk::component<dhub::plugins::decimate::Decimate>())
