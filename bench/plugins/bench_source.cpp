// SPDX-License-Identifier: Apache-2.0
// dhub.source.bench: writes `count` slots as fast as the channel takes them, touching them exactly as the
// bare DataBlock one-way case does (payload_touch.hpp): the sequence in the first and last 8 bytes. With
// through_scale it also does a stage's work in its own thread: each frame is written to a buffer of its own and
// mapped into the slot with scale's arithmetic (dhub.stage_path's bound for a stage in a thread of its own).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dhub/plugins/linear_map.hpp"
#include "dhub/sdk/plugin.hpp"
#include "harness/payload_touch.hpp"

namespace {

class BenchSource : public dhub::sdk::Source<dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.source.bench";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "benchmark source: unpaced, stamps each slot's ends (per slot or in bursts)";
    static constexpr const char* params_schema = R"json([
        {"name": "count", "type": "integer", "default": 1000000, "min": 1, "doc": "slots to write"},
        {"name": "touch", "type": "string", "default": "auto", "enum": ["auto", "ends", "every_byte"],
         "doc": "what of each slot to write: as the bare bench does for the size (auto), or every byte (sim-like)"},
        {"name": "through_scale", "type": "boolean", "default": false,
         "doc": "write each frame to a buffer of its own, then map it into the slot as scale does (gain 1, offset 0)"}])json";

    explicit BenchSource(dhub::sdk::NodeContext& context)
        : count_(static_cast<std::uint64_t>(context.params().integer("count"))),
          every_byte_(context.params().string("touch") == "every_byte"),
          ends_(context.params().string("touch") == "ends"),
          through_scale_(context.params().boolean("through_scale")) {}

    dhub_status produce(dhub::sdk::NodeContext&, dhub::sdk::OutputSlot<dhub::sdk::Bytes>& out) {
        if (next_ == count_) return DHUB_END_OF_STREAM;
        return write(out);
    }

    /// The node's "burst" > 1: every slot offered, the same touch as produce().
    dhub_status produce_burst(dhub::sdk::NodeContext&, dhub::sdk::OutputBurst<dhub::sdk::Bytes>& out) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), count_ - next_));
        for (std::size_t i = 0; i < n; ++i) {
            if (const dhub_status written = write(out[i]); written != DHUB_OK) return written;
        }
        out.set_filled(n);
        return next_ == count_ ? DHUB_END_OF_STREAM : DHUB_OK;
    }

private:
    dhub_status write(const dhub::sdk::OutputSlot<dhub::sdk::Bytes>& out) {
        const auto bytes = out.bytes();
        // Per slot: two flags, not a string compare (the bench measures the hand-over, not the plugin).
        const dhub::bench::TouchMode touch = every_byte_ ? dhub::bench::TouchMode::every_byte
                                             : ends_     ? dhub::bench::TouchMode::ends
                                                         : dhub::bench::touch_mode_for(bytes.size());
        if (through_scale_) {
            // A slot of whole doubles only: anything else would quietly measure a plain write instead.
            if (bytes.size() % sizeof(double) != 0) return DHUB_ERR_INVALID_ARGUMENT;
            // As a stage in this thread would: its input written just now (still in cache), its output the slot.
            frame_.resize(bytes.size() / sizeof(double));
            dhub::bench::write_payload(frame_.data(), bytes.size(), next_++, touch);
            // Slot payloads are 64-byte aligned (docs/shm-layout.md): viewed in place as doubles, as scale does.
            dhub::plugins::map_linear(frame_.data(), reinterpret_cast<double*>(bytes.data()), frame_.size(), 1.0, 0.0);
            return DHUB_OK;
        }
        dhub::bench::write_payload(bytes.data(), bytes.size(), next_++, touch);
        return DHUB_OK;
    }

    std::uint64_t count_;
    bool every_byte_;
    bool ends_;
    bool through_scale_;
    std::vector<double> frame_;  ///< through_scale: the frame before it is mapped into the slot
    std::uint64_t next_ = 0;
};

}  // namespace

DHUB_PLUGIN("bench_source", "1.0.0", "Apache-2.0", "dhub-bench source", dhub::sdk::component<BenchSource>());
