// SPDX-License-Identifier: Apache-2.0
// dhub.source.bench: writes `count` slots as fast as the channel takes them, touching them exactly as the
// bare DataBlock one-way case does (payload_touch.hpp): the sequence in the first and last 8 bytes.
#include <cstdint>

#include "dhub/sdk/plugin.hpp"
#include "harness/payload_touch.hpp"

namespace {

class BenchSource : public dhub::sdk::Source<dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.source.bench";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "benchmark source: unpaced, stamps each slot's ends";
    static constexpr const char* params_schema = R"json([
        {"name": "count", "type": "integer", "default": 1000000, "min": 1, "doc": "slots to write"}])json";

    explicit BenchSource(dhub::sdk::NodeContext& context)
        : count_(static_cast<std::uint64_t>(context.params().integer("count"))) {}

    dhub_status produce(dhub::sdk::NodeContext&, dhub::sdk::OutputSlot<dhub::sdk::Bytes>& out) {
        if (next_ == count_) return DHUB_END_OF_STREAM;
        const auto bytes = out.bytes();
        dhub::bench::write_payload(bytes.data(), bytes.size(), next_++, dhub::bench::touch_mode_for(bytes.size()));
        return DHUB_OK;
    }

private:
    std::uint64_t count_;
    std::uint64_t next_ = 0;
};

}  // namespace

DHUB_PLUGIN("bench_source", "1.0.0", "Apache-2.0", "dhub-bench source", dhub::sdk::component<BenchSource>());
