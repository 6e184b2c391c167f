// SPDX-License-Identifier: Apache-2.0
// Stages for swap tests (dhub-ctl swap): a tick copier that can be told to fail its create or its start, or to
// hold its first slot for a while (a step that does not end), and one that writes another schema than it reads.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "dhub/sdk/plugin.hpp"

namespace {

struct Tick {
    std::uint64_t value;
};

class TickCopy : public dhub::sdk::Stage<Tick, Tick> {
public:
    static constexpr const char* id = "test.stage.tick_copy";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "copies ticks; can fail its create or start, or stall once";
    static constexpr const char* input_schema = "test.tick@1";
    static constexpr const char* output_schema = "test.tick@1";
    static constexpr const char* params_schema = R"json([
        {"name":"fail_create","type":"boolean","default":false,"doc":"throw in the constructor"},
        {"name":"fail_start","type":"boolean","default":false,"doc":"return an error from start()"},
        {"name":"stall_ms","type":"number","default":0,"min":0,"doc":"hold the first slot this long"},
        {"name":"level","type":"integer","default":0,"min":0,"max":1000,"live":true,
         "doc":"live: values above 100 are refused by on_param"},
        {"name":"label","type":"string","default":"a","live":true,"doc":"live: any text"}])json";

    explicit TickCopy(dhub::sdk::NodeContext& context)
        : fail_start_(context.params().boolean("fail_start")),
          stall_(std::chrono::duration<double, std::milli>(context.params().number("stall_ms"))) {
        if (context.params().boolean("fail_create")) throw std::runtime_error("detector /dev/imaginary1 is busy");
    }
    dhub_status start(dhub::sdk::NodeContext& context) {
        if (!fail_start_) return DHUB_OK;
        context.log().error("the detector did not answer its start command");
        return DHUB_ERR_IO;
    }
    /// The kernel checked the declaration (0..1000); the component refuses more than 100 itself.
    dhub_status on_param(dhub::sdk::NodeContext& context, std::string_view name) {
        if (name == "level" && context.params().integer("level") > 100) {
            context.log().warn("level above 100 would saturate the detector");
            return DHUB_ERR_INVALID_ARGUMENT;
        }
        return DHUB_OK;
    }
    dhub_status process(dhub::sdk::NodeContext&,
                        const dhub::sdk::InputSlot<Tick>& in,
                        dhub::sdk::OutputSlot<Tick>& out) {
        if (stall_.count() > 0) {
            std::this_thread::sleep_for(stall_);
            stall_ = {};
        }
        out.value() = in.value();
        out.set_bytes(sizeof(Tick));
        return DHUB_OK;
    }

private:
    bool fail_start_;
    std::chrono::duration<double, std::milli> stall_;
};

struct Other {
    std::uint64_t value;
};

/// Reads ticks, writes another schema: swapped in, it would change what its output channel carries.
class TickToOther : public dhub::sdk::Stage<Tick, Other> {
public:
    static constexpr const char* id = "test.stage.tick_other";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "reads ticks, writes test.other@1";
    static constexpr const char* input_schema = "test.tick@1";
    static constexpr const char* output_schema = "test.other@1";
    static constexpr const char* params_schema = R"json([])json";

    explicit TickToOther(dhub::sdk::NodeContext&) {}
    dhub_status process(dhub::sdk::NodeContext&,
                        const dhub::sdk::InputSlot<Tick>& in,
                        dhub::sdk::OutputSlot<Other>& out) {
        out.value().value = in.value().value;
        out.set_bytes(sizeof(Other));
        return DHUB_OK;
    }
};

}  // namespace

DHUB_PLUGIN("test_swappable",
            "1.0.0",
            "Apache-2.0",
            "stages for swap tests",
            dhub::sdk::component<TickCopy>(),
            dhub::sdk::component<TickToOther>());
