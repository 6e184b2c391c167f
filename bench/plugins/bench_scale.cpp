// SPDX-License-Identifier: Apache-2.0
// dhub.stage.bench_scale: the work dhub.stage.scale does to a frame, on the bench's payloads: every 8-byte word
// read, mapped to word * gain + offset and written to the output slot. In integers, so that gain 1 and
// offset 0 give back exactly what the source wrote and bench_sink can check every byte. With a burst handler
// (SDK 1.2) like scale's. crash_after makes it segfault after that many frames in its process (the restart
// time of an isolated node, dhub.isolation_path).
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace {

class BenchScale : public dhub::sdk::Stage<dhub::sdk::Bytes, dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.stage.bench_scale";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "scale's work on the bench payloads (ends kept for the sink's check)";
    static constexpr const char* params_schema = R"json([
{"name":"gain","type":"integer","default":1},{"name":"offset","type":"integer","default":0},
{"name":"crash_after","type":"integer","default":0,"min":0,"doc":"raise SIGSEGV on the frame after this many (0: never)"}])json";

    explicit BenchScale(dhub::sdk::NodeContext& context)
        : gain_(static_cast<std::uint64_t>(context.params().integer("gain"))),
          offset_(static_cast<std::uint64_t>(context.params().integer("offset"))),
          crash_after_(static_cast<std::uint64_t>(context.params().integer("crash_after"))) {}

    dhub_status process(dhub::sdk::NodeContext&,
                        const dhub::sdk::InputSlot<dhub::sdk::Bytes>& in,
                        dhub::sdk::OutputSlot<dhub::sdk::Bytes>& out) {
        if (crash_after_ != 0 && seen_++ == crash_after_) std::raise(SIGSEGV);
        const auto bytes = in.bytes();
        if (out.capacity() < bytes.size()) return DHUB_ERR_INVALID_ARGUMENT;
        std::byte* target = out.bytes().data();
        std::size_t offset = 0;
        for (; offset + 8 <= bytes.size(); offset += 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, bytes.data() + offset, sizeof word);
            word = word * gain_ + offset_;
            std::memcpy(target + offset, &word, sizeof word);
        }
        std::memcpy(target + offset, bytes.data() + offset, bytes.size() - offset);
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
    std::uint64_t gain_;
    std::uint64_t offset_;
    std::uint64_t crash_after_;
    std::uint64_t seen_ = 0;
};

}  // namespace

DHUB_PLUGIN("bench_scale", "1.0.0", "Apache-2.0", "the bench's stage", dhub::sdk::component<BenchScale>());
