// SPDX-License-Identifier: Apache-2.0
// Whole-frame checking for the latest-only tests: a source that fills every 8-byte sample of a frame with
// the frame's number as fast as it can, a stage that copies a frame in two halves with a pause between them,
// and a sink that reads a frame's first sample, pauses, then checks that every sample matches it. A frame
// that changes while a handler holds it (a torn read) shows up as mixed samples at the sink.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace {

using dhub::sdk::Bytes;

constexpr const char* FRAME_SCHEMA = "test.counter_frame@1";

/// Spins for delay_ns of real time: like a handler doing real work, and never interrupted by a stop request.
/// Not the node's clock (context.now_ns()): work takes real time even where a test drives the clock, and a
/// spin on a manual clock that nobody moves never ends.
void busy_for(std::uint64_t delay_ns) {
    if (delay_ns == 0) return;
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(delay_ns);
    while (std::chrono::steady_clock::now() < until) {
    }
}

std::uint64_t sample(std::span<const std::byte> frame, std::size_t index) {
    std::uint64_t value = 0;
    std::memcpy(&value, frame.data() + index * sizeof value, sizeof value);
    return value;
}

class FrameSource : public dhub::sdk::Source<Bytes> {
public:
    static constexpr const char* id = "test.source.counter_frames";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "fills every 8-byte sample of frame n with n, as fast as it can";
    static constexpr const char* output_schema = FRAME_SCHEMA;
    static constexpr const char* params_schema = R"json([])json";

    explicit FrameSource(dhub::sdk::NodeContext&) {}

    dhub_status produce(dhub::sdk::NodeContext&, dhub::sdk::OutputSlot<Bytes>& out) {
        const std::span<std::uint64_t> samples = out.as<std::uint64_t>();
        const std::uint64_t frame = next_++;
        for (std::uint64_t& value : samples)
            value = frame;
        out.set_bytes(samples.size() * sizeof(std::uint64_t));
        return DHUB_OK;
    }
    dhub_status produce_burst(dhub::sdk::NodeContext& context, dhub::sdk::OutputBurst<Bytes>& out) {
        for (std::size_t i = 0; i < out.size(); ++i) {
            dhub::sdk::OutputSlot<Bytes> slot = out[i];
            (void)produce(context, slot);
        }
        out.set_filled(out.size());
        return DHUB_OK;
    }

private:
    std::uint64_t next_ = 0;
};

class FrameCopy : public dhub::sdk::Stage<Bytes, Bytes> {
public:
    static constexpr const char* id = "test.stage.copy_in_halves";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "copies a frame in two halves, pausing delay_us between them";
    static constexpr const char* input_schema = FRAME_SCHEMA;
    static constexpr const char* output_schema = FRAME_SCHEMA;
    static constexpr const char* params_schema =
        R"json([{"name":"delay_us","type":"number","default":50,"min":0,"doc":"pause between the halves"}])json";

    explicit FrameCopy(dhub::sdk::NodeContext& context)
        : delay_ns_(static_cast<std::uint64_t>(context.params().number("delay_us") * 1e3)) {}

    dhub_status process(dhub::sdk::NodeContext& /*context*/,
                        const dhub::sdk::InputSlot<Bytes>& in,
                        dhub::sdk::OutputSlot<Bytes>& out) {
        const std::span<const std::byte> frame = in.bytes();
        if (out.capacity() < frame.size()) return DHUB_ERR_INVALID_ARGUMENT;
        const std::size_t half = frame.size() / 2;
        std::memcpy(out.bytes().data(), frame.data(), half);
        busy_for(delay_ns_);
        std::memcpy(out.bytes().data() + half, frame.data() + half, frame.size() - half);
        out.set_bytes(frame.size());
        out.set_timestamp_ns(in.timestamp_ns());
        return DHUB_OK;
    }

private:
    std::uint64_t delay_ns_;
};

class FrameCheck : public dhub::sdk::Sink<Bytes> {
public:
    static constexpr const char* id = "test.sink.whole_frames";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "reads a frame's first sample, pauses delay_us, then checks every sample against it; a torn frame is "
        "reported as an error";
    static constexpr const char* input_schema = FRAME_SCHEMA;
    static constexpr const char* params_schema =
        R"json([{"name":"delay_us","type":"number","default":50,"min":0,"doc":"pause inside each frame"}])json";

    explicit FrameCheck(dhub::sdk::NodeContext& context)
        : delay_ns_(static_cast<std::uint64_t>(context.params().number("delay_us") * 1e3)) {}

    dhub_status consume(dhub::sdk::NodeContext& context, const dhub::sdk::InputSlot<Bytes>& in) {
        const std::span<const std::byte> frame = in.bytes();
        const std::size_t samples = frame.size() / sizeof(std::uint64_t);
        if (samples == 0) return DHUB_OK;
        const std::uint64_t first = sample(frame, 0);
        busy_for(delay_ns_);
        for (std::size_t i = 1; i < samples; ++i) {
            if (const std::uint64_t value = sample(frame, i); value != first) {
                ++torn_;
                context.report_error(DHUB_ERR_INVALID_ARGUMENT, "torn frame at sequence " +
                                                                    std::to_string(in.sequence()) + ": sample 0 is " +
                                                                    std::to_string(first) + ", sample " +
                                                                    std::to_string(i) + " is " + std::to_string(value));
                return DHUB_OK;
            }
        }
        ++whole_;
        return DHUB_OK;
    }
    dhub_status consume_burst(dhub::sdk::NodeContext& context, const dhub::sdk::InputBurst<Bytes>& in) {
        for (std::size_t i = 0; i < in.size(); ++i)
            (void)consume(context, in[i]);
        return DHUB_OK;
    }
    void stop(dhub::sdk::NodeContext& context) {
        context.log().info("whole frames " + std::to_string(whole_) + ", torn frames " + std::to_string(torn_));
    }

private:
    std::uint64_t delay_ns_;
    std::uint64_t whole_ = 0;
    std::uint64_t torn_ = 0;
};

}  // namespace

DHUB_PLUGIN("test_frames",
            "1.0.0",
            "Apache-2.0",
            "whole-frame checks for latest-only channels",
            dhub::sdk::component<FrameSource>(),
            dhub::sdk::component<FrameCopy>(),
            dhub::sdk::component<FrameCheck>());
