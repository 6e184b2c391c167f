// SPDX-License-Identifier: Apache-2.0
// Components for the tests of channel validators (docs/graph.md, "validators"): a source of numbered 64-byte
// frames whose every byte follows from the number (slot by slot or in bursts, paced or not), a validator that
// rejects every n-th frame, and one that accepts everything.
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace {

using dhub::sdk::Bytes;

/// Frame v: v, then v * 0x9E3779B97F4A7C15 + i for i = 1..7 (so a copy can be checked byte for byte).
struct TickFrame {
    std::uint64_t words[8];
};

void fill_frame(std::uint64_t value, std::span<std::byte> out) {
    TickFrame frame{};
    frame.words[0] = value;
    for (std::uint64_t i = 1; i < 8; ++i)
        frame.words[i] = value * 0x9E3779B97F4A7C15ULL + i;
    std::memcpy(out.data(), &frame, sizeof frame);
}

class TickFrames : public dhub::sdk::Source<Bytes> {
public:
    static constexpr const char* id = "test.source.tick_frames";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "writes numbered 64-byte frames 0, 1, 2, ...";
    static constexpr const char* output_schema = "test.tick_frame@1";
    static constexpr std::uint64_t output_min_slot_bytes = sizeof(TickFrame);
    static constexpr const char* params_schema = R"json([
{"name":"count","type":"integer","default":0,"min":0,"doc":"stop after this many (0: never)"},
{"name":"rate_hz","type":"number","default":0,"min":0,"doc":"frames per second (0: as fast as the channel allows)"},
{"name":"stamp","type":"boolean","default":false,"doc":"frame n carries timestamp 1000 + n (false: stamped at commit)"}
])json";

    explicit TickFrames(dhub::sdk::NodeContext& context)
        : count_(static_cast<std::uint64_t>(context.params().integer("count"))),
          period_ns_(context.params().number("rate_hz") > 0
                         ? static_cast<std::uint64_t>(1e9 / context.params().number("rate_hz"))
                         : 0),
          stamp_(context.params().boolean("stamp")) {}

    dhub_status produce(dhub::sdk::NodeContext& context, dhub::sdk::OutputSlot<Bytes>& out) {
        if (count_ != 0 && next_ == count_) return DHUB_END_OF_STREAM;
        if (period_ns_ != 0) {
            if (due_ns_ == 0) due_ns_ = context.now_ns();
            if (const dhub_status slept = context.sleep_until(due_ns_); slept != DHUB_OK) return slept;
            due_ns_ += period_ns_;
        }
        if (stamp_) out.set_timestamp_ns(1000 + next_);
        fill_frame(next_++, out.bytes());
        out.set_bytes(sizeof(TickFrame));
        return DHUB_OK;
    }

    dhub_status produce_burst(dhub::sdk::NodeContext& context, dhub::sdk::OutputBurst<Bytes>& out) {
        // Paced frames come one per call: a burst would only bunch them.
        const std::size_t most = period_ns_ != 0 ? 1 : out.size();
        std::size_t filled = 0;
        dhub_status status = DHUB_OK;
        while (filled < most) {
            dhub::sdk::OutputSlot<Bytes> slot = out[filled];
            status = produce(context, slot);
            if (status != DHUB_OK) break;
            ++filled;
        }
        out.set_filled(filled);
        return status;
    }

private:
    std::uint64_t count_;
    std::uint64_t period_ns_;
    bool stamp_;
    std::uint64_t due_ns_ = 0;
    std::uint64_t next_ = 0;
};

/// Rejects the frames whose number n has n % every == phase, as kind `kind`.
class EveryNth : public dhub::sdk::Validator<Bytes> {
public:
    static constexpr const char* id = "test.validator.every_nth";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "rejects every n-th frame (its first 8 bytes are its number)";
    static constexpr const char* input_schema = "*";
    static constexpr std::uint64_t input_min_slot_bytes = 8;
    static constexpr const char* params_schema = R"json([
{"name":"every","type":"integer","default":10,"min":1,"doc":"reject one frame in this many"},
{"name":"phase","type":"integer","default":0,"min":0,"doc":"reject the frames n with n % every == phase"},
{"name":"kind","type":"string","default":"nth","doc":"the kind of rejection reported"},
{"name":"throw","type":"boolean","default":false,"doc":"throw on those frames instead of rejecting them"}
])json";

    explicit EveryNth(dhub::sdk::NodeContext& context)
        : every_(static_cast<std::uint64_t>(context.params().integer("every"))),
          phase_(static_cast<std::uint64_t>(context.params().integer("phase"))),
          kind_(std::string(context.params().string("kind"))),
          throw_(context.params().boolean("throw")) {}

    dhub::sdk::Verdict validate(dhub::sdk::NodeContext&, const dhub::sdk::InputSlot<Bytes>& in) const {
        const auto bytes = in.bytes();
        if (bytes.size() < 8)
            return dhub::sdk::Verdict::reject_as("short", "a frame of " + std::to_string(bytes.size()) + " bytes");
        std::uint64_t number = 0;
        std::memcpy(&number, bytes.data(), sizeof number);
        if (number % every_ != phase_) return dhub::sdk::Verdict::accept();
        if (throw_) throw std::runtime_error("cannot judge frame " + std::to_string(number));
        return dhub::sdk::Verdict::reject_as(kind_, "frame " + std::to_string(number));
    }

private:
    std::uint64_t every_;
    std::uint64_t phase_;
    std::string kind_;
    bool throw_;
};

/// The trivial validator: what a channel's gate costs when everything passes.
class AcceptAll : public dhub::sdk::Validator<Bytes> {
public:
    static constexpr const char* id = "test.validator.accept_all";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "accepts every slot";
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([])json";

    explicit AcceptAll(dhub::sdk::NodeContext&) {}
    dhub::sdk::Verdict validate(dhub::sdk::NodeContext&, const dhub::sdk::InputSlot<Bytes>&) const {
        return dhub::sdk::Verdict::accept();
    }
};

}  // namespace

DHUB_PLUGIN("test_gate",
            "1.0.0",
            "Apache-2.0",
            "test components for channel validators",
            dhub::sdk::component<TickFrames>(),
            dhub::sdk::component<EveryNth>(),
            dhub::sdk::component<AcceptAll>());
