// SPDX-License-Identifier: Apache-2.0
// Minimal working components for loader and kernel tests: a source writing an incrementing counter (slot by
// slot), a sink that checks their order and logs how many it saw (slot by slot or in bursts), and a queue-mode
// stage that relays them.
#include <cstdint>

#include "dhub/sdk/plugin.hpp"

namespace {

struct Tick {
    std::uint64_t value;
};

class TickSource : public dhub::sdk::Source<Tick> {
public:
    static constexpr const char* id = "test.source.ticker";
    static constexpr std::uint32_t version = 3;
    static constexpr const char* description = "writes 0, 1, 2, ... as fast as the channel allows";
    static constexpr const char* params_schema =
        R"json([{"name":"count","type":"integer","default":0,"min":0,"doc":"stop after this many (0: never)"}])json";
    static constexpr const char* output_schema = "test.tick@1";

    explicit TickSource(dhub::sdk::NodeContext& context)
        : count_(static_cast<std::uint64_t>(context.params().integer("count"))) {}

    dhub_status produce(dhub::sdk::NodeContext&, dhub::sdk::OutputSlot<Tick>& out) {
        if (count_ != 0 && next_ == count_) return DHUB_END_OF_STREAM;
        out.value().value = next_++;
        out.set_bytes(sizeof(Tick));
        return DHUB_OK;
    }

private:
    std::uint64_t count_;
    std::uint64_t next_ = 0;
};

class TickSink : public dhub::sdk::Sink<Tick> {
public:
    static constexpr const char* id = "test.sink.ticker";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "checks that ticks arrive in order";
    static constexpr const char* input_schema = "test.tick@1";
    static constexpr const char* params_schema =
        R"json([{"name":"delay_ms","type":"number","default":0,"min":0,"doc":"time spent on each tick (a slow sink)"},
        {"name":"join_late","type":"boolean","default":false,
         "doc":"the first tick seen may be any (a sink added to a running graph); then every next one in order"},
        {"name":"skips_allowed","type":"boolean","default":false,
         "doc":"ticks may be skipped (a latest-only delivery), but never repeat or go back"}])json";

    explicit TickSink(dhub::sdk::NodeContext& context)
        : delay_ns_(static_cast<std::uint64_t>(context.params().number("delay_ms") * 1e6)),
          joined_(!context.params().boolean("join_late")),
          skips_allowed_(context.params().boolean("skips_allowed")) {}

    dhub_status consume(dhub::sdk::NodeContext& context, const dhub::sdk::InputSlot<Tick>& in) {
        if (!joined_) {
            joined_ = true;
            expected_ = in.value().value;
        }
        const bool in_order = skips_allowed_ ? in.value().value >= expected_ : in.value().value == expected_;
        if (!in_order) {
            context.report_error(DHUB_ERR_INVALID_ARGUMENT, "tick " + std::to_string(in.value().value) +
                                                                " arrived, expected " + std::to_string(expected_));
        }
        expected_ = in.value().value + 1;
        if (delay_ns_ > 0) {
            // Busy like a slow disk: not interrupted by a stop request (sinks drain before they stop).
            const std::uint64_t until = context.now_ns() + delay_ns_;
            while (context.now_ns() < until) {
            }
        }
        return DHUB_OK;
    }
    /// Kernel nodes with "burst" > 1 (the default) call this: the order is checked across bursts too.
    dhub_status consume_burst(dhub::sdk::NodeContext& context, const dhub::sdk::InputBurst<Tick>& in) {
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (const dhub_status status = consume(context, in[i]); status != DHUB_OK) return status;
        }
        return DHUB_OK;
    }
    void stop(dhub::sdk::NodeContext& context) { context.log().info("saw " + std::to_string(expected_) + " ticks"); }

private:
    std::uint64_t delay_ns_;
    bool joined_;  ///< the tick to expect is known
    bool skips_allowed_;
    std::uint64_t expected_ = 0;
};

/// Queue mode: pulls each tick and pushes it on, as a component driving its own loop would.
class TickRelay : public dhub::sdk::QueueComponent<DHUB_KIND_STAGE> {
public:
    static constexpr const char* id = "test.stage.ticker_relay";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "relays ticks in queue mode (pull, push)";
    static constexpr const char* input_schema = "test.tick@1";
    static constexpr const char* output_schema = "test.tick@1";
    static constexpr const char* params_schema = R"json([])json";
    using input_type = Tick;
    using output_type = Tick;

    explicit TickRelay(dhub::sdk::NodeContext&) {}

    dhub_status run(dhub::sdk::NodeContext& context) {
        const auto input = context.input<Tick>();
        const auto output = context.output<Tick>();
        for (;;) {
            dhub_status pushed = DHUB_OK;
            const dhub_status pulled = input.pull([&](const dhub::sdk::InputSlot<Tick>& in) {
                pushed = output.push([&](dhub::sdk::OutputSlot<Tick>& out) {
                    out.value() = in.value();
                    out.set_bytes(sizeof(Tick));
                    return true;
                });
            });
            if (pulled == DHUB_TIMEOUT) continue;
            if (pulled != DHUB_OK) return pulled == DHUB_STOPPING ? DHUB_OK : pulled;
            if (pushed != DHUB_OK) return pushed == DHUB_STOPPING ? DHUB_OK : pushed;
        }
    }
};

}  // namespace

DHUB_PLUGIN("test_ticker",
            "3.1.4",
            "Apache-2.0",
            "test components",
            dhub::sdk::component<TickSource>(),
            dhub::sdk::component<TickSink>(),
            dhub::sdk::component<TickRelay>());
