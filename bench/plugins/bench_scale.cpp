// SPDX-License-Identifier: Apache-2.0
// dhub.stage.bench_scale: the work dhub.stage.scale does to a frame, on the bench's payloads: every 8-byte word
// read as a double, mapped to word * gain + offset with scale's own arithmetic (dhub/plugins/linear_map.hpp)
// and written to the output slot. With gain 1 and offset 0 that gives back exactly what the source wrote (the
// sources' byte patterns are finite doubles, zeros or quiet NaNs, which a multiply and an add keep bit for
// bit), so bench_sink can check every byte. With a burst handler (SDK 1.2) like scale's. crash_after makes it
// segfault after that many frames in its process (the restart time of an isolated node, dhub.isolation_path).
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>

#include "dhub/plugins/linear_map.hpp"
#include "dhub/sdk/plugin.hpp"

namespace {

class BenchScale : public dhub::sdk::Stage<dhub::sdk::Bytes, dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.stage.bench_scale";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "scale's work on the bench payloads (ends kept for the sink's check)";
    static constexpr const char* params_schema = R"json([
{"name":"gain","type":"number","default":1},{"name":"offset","type":"number","default":0},
{"name":"crash_after","type":"integer","default":0,"min":0,"doc":"raise SIGSEGV on the frame after this many (0: never)"}])json";

    explicit BenchScale(dhub::sdk::NodeContext& context)
        : gain_(context.params().number("gain")),
          offset_(context.params().number("offset")),
          crash_after_(static_cast<std::uint64_t>(context.params().integer("crash_after"))) {}

    dhub_status process(dhub::sdk::NodeContext&,
                        const dhub::sdk::InputSlot<dhub::sdk::Bytes>& in,
                        dhub::sdk::OutputSlot<dhub::sdk::Bytes>& out) {
        if (crash_after_ != 0 && seen_++ == crash_after_) std::raise(SIGSEGV);
        const auto bytes = in.bytes();
        if (out.capacity() < bytes.size()) return DHUB_ERR_INVALID_ARGUMENT;
        std::byte* target = out.bytes().data();
        // Slot payloads are 64-byte aligned (docs/shm-layout.md): viewed in place as doubles, as scale does.
        const std::size_t words = bytes.size() / sizeof(double);
        dhub::plugins::map_linear(reinterpret_cast<const double*>(bytes.data()), reinterpret_cast<double*>(target),
                                  words, gain_, offset_);
        std::memcpy(target + words * sizeof(double), bytes.data() + words * sizeof(double),
                    bytes.size() - words * sizeof(double));
        out.set_bytes(bytes.size());
        out.set_timestamp_ns(in.timestamp_ns());
        return DHUB_OK;
    }

    dhub_status process_burst(dhub::sdk::NodeContext& context,
                              dhub::sdk::InputBurst<dhub::sdk::Bytes>& in,
                              dhub::sdk::OutputBurst<dhub::sdk::Bytes>& out) {
        return dhub::sdk::each_slot(
            in, out,
            [&](const dhub::sdk::InputSlot<dhub::sdk::Bytes>& slot, dhub::sdk::OutputSlot<dhub::sdk::Bytes>& into) {
                return process(context, slot, into);
            });
    }

private:
    double gain_;
    double offset_;
    std::uint64_t crash_after_;
    std::uint64_t seen_ = 0;
};

}  // namespace

DHUB_PLUGIN("bench_scale", "1.0.0", "Apache-2.0", "the bench's stage", dhub::sdk::component<BenchScale>());
