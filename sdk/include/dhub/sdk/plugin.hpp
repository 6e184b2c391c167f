// SPDX-License-Identifier: Apache-2.0
// The C++ way to write a dhub plugin: header-only, compiled into the plugin, on top of the C ABI (abi.h).
//
//   struct Frame { double t; float samples[1024]; };
//
//   class Counter : public dhub::sdk::Source<Frame> {
//   public:
//       static constexpr const char* id = "acme.source.counter";
//       static constexpr std::uint32_t version = 1;
//       static constexpr const char* description = "counts frames";
//       static constexpr const char* params_schema = R"([{"name":"step","type":"number","default":1}])";
//       static constexpr const char* output_schema = "acme.frame@1";
//
//       explicit Counter(dhub::sdk::NodeContext& context) : step_(context.params().number("step")) {}
//       dhub_status produce(dhub::sdk::NodeContext& context, dhub::sdk::OutputSlot<Frame>& out) {
//           out.value().t = value_ += step_;
//           return DHUB_OK;
//       }
//   private:
//       double step_, value_ = 0;
//   };
//
//   DHUB_PLUGIN("counter", "1.0.0", "Apache-2.0", "A counting source", dhub::sdk::component<Counter>());
//
// Handlers: sources `produce(context, out)`, stages `process(context, in, out)`, sinks
// `consume(context, in)`, validators `validate(context, in) -> Verdict`, queue-mode components
// `run(context)`. Optional on all: `start(context)` (void, or a dhub_status that is passed on),
// `stop(context)`, `on_message(context, channel, text)`, `static constexpr std::uint64_t
// output_min_slot_bytes / input_min_slot_bytes` (for Bytes slots with a fixed header), and a constructor
// taking NodeContext& (otherwise default-constructed). Exceptions never cross into the
// kernel: they become an error status plus a log line naming the node.
#pragma once

#include "dhub/sdk/abi.h"
#include "dhub/sdk/detail/component_checks.hpp"
#include "dhub/sdk/detail/trampolines.hpp"
#include "dhub/sdk/node_context.hpp"
#include "dhub/sdk/ports.hpp"
#include "dhub/sdk/slots.hpp"
#include "dhub/sdk/stage_burst.hpp"
#include "dhub/sdk/struct_schema.hpp"
#include "dhub/sdk/transport.hpp"

namespace dhub::sdk {

/// Base classes: they only say which kind a component is and over which slot and flex-zone types.
/// Use Bytes for slots whose size is set by the graph rather than by a struct.
template <typename Out, typename Flex = NoFlex>
struct Source {
    static constexpr dhub_kind kind = DHUB_KIND_SOURCE;
    static constexpr dhub_mode mode = DHUB_MODE_REALTIME;
    using output_type = Out;
    using flex_type = Flex;
};

template <typename In, typename Out, typename Flex = NoFlex>
struct Stage {
    static constexpr dhub_kind kind = DHUB_KIND_STAGE;
    static constexpr dhub_mode mode = DHUB_MODE_REALTIME;
    using input_type = In;
    using output_type = Out;
    using flex_type = Flex;
};

template <typename In, typename Flex = NoFlex>
struct Sink {
    static constexpr dhub_kind kind = DHUB_KIND_SINK;
    static constexpr dhub_mode mode = DHUB_MODE_REALTIME;
    using input_type = In;
    using flex_type = Flex;
};

template <typename In>
struct Validator {
    static constexpr dhub_kind kind = DHUB_KIND_VALIDATOR;
    static constexpr dhub_mode mode = DHUB_MODE_REALTIME;
    using input_type = In;
    using flex_type = NoFlex;
};

/// Queue mode: the component drives its node in run(context) (a device callback pushes frames with
/// context.output<T>(0).push(...), a consumer pulls with context.input<T>(0).pull(...)).
template <dhub_kind Kind>
struct QueueComponent {
    static constexpr dhub_kind kind = Kind;
    static constexpr dhub_mode mode = DHUB_MODE_QUEUE;
    using flex_type = NoFlex;
};

/// The descriptor of component T, for DHUB_PLUGIN(...). Constant-initialised: no plugin code runs to
/// read it. The static_asserts name what T lacks at the caller's line; without them a missing member
/// is a cascade of errors inside detail/trampolines.hpp.
template <typename T>
constexpr const dhub_component_descriptor* component() noexcept {
    static_assert(detail::HasKindAndMode<T>,
                  "a dhub component derives from dhub::sdk::Source<Out>, Stage<In, Out>, Sink<In>, Validator<In>, "
                  "MultiPort<kind> or QueueComponent<kind> (the base class gives its kind and mode)");
    static_assert(detail::HasId<T>,
                  "a dhub component needs `static constexpr const char* id` (\"<vendor>.<kind>.<name>\", unique)");
    static_assert(detail::HasVersion<T>, "a dhub component needs `static constexpr std::uint32_t version`");
    static_assert(detail::HasDescription<T>, "a dhub component needs `static constexpr const char* description`");
    static_assert(detail::has_handler<T>(),
                  "a dhub component needs the handler of its kind: Source `dhub_status produce(NodeContext&, "
                  "OutputSlot<Out>&)` (or produce_burst), Stage `process(NodeContext&, const InputSlot<In>&, "
                  "OutputSlot<Out>&)`, Sink `consume(NodeContext&, const InputSlot<In>&)` (or consume_burst), "
                  "Validator `Verdict validate(NodeContext&, const InputSlot<In>&)`, QueueComponent "
                  "`dhub_status run(NodeContext&)`, MultiPort (with `ports`) `dhub_status process(NodeContext&, "
                  "Ports&)`");
    if constexpr (detail::CompleteComponent<T>) {
        return &detail::DESCRIPTOR<T>;
    } else {
        return nullptr;  // never reached: a static_assert above has failed
    }
}

}  // namespace dhub::sdk

/// Declares the plugin: its name (must match the file, dhub-<name>.so), version, license, one-line
/// description and its components. Emits the single exported entry symbol.
#define DHUB_PLUGIN(NAME, VERSION, LICENSE, DESCRIPTION, ...) \
    DHUB_PLUGIN_WITH_INIT(NAME, VERSION, LICENSE, DESCRIPTION, nullptr, nullptr, __VA_ARGS__)

/// DHUB_PLUGIN with plugin-wide set-up and tear-down (SDK 1.2), for vendor libraries that initialise once
/// per process: INIT is `dhub_status init(char* message, std::uint64_t capacity)` (on failure it writes why
/// into message), SHUTDOWN is `void shutdown()`; either may be nullptr. The kernel calls init before the
/// first node of the plugin is created and shutdown after the last one is destroyed.
#define DHUB_PLUGIN_WITH_INIT(NAME, VERSION, LICENSE, DESCRIPTION, INIT, SHUTDOWN, ...)   \
    extern "C" DHUB_PLUGIN_EXPORT const dhub_plugin_descriptor* dhub_plugin_entry(void) { \
        static const dhub_component_descriptor* const components[] = {__VA_ARGS__};       \
        static const dhub_plugin_descriptor descriptor = {                                \
            sizeof(dhub_plugin_descriptor),                                               \
            DHUB_SDK_VERSION_MAJOR,                                                       \
            DHUB_SDK_VERSION_MINOR,                                                       \
            NAME,                                                                         \
            VERSION,                                                                      \
            LICENSE,                                                                      \
            DESCRIPTION,                                                                  \
            static_cast<std::uint32_t>(sizeof(components) / sizeof(components[0])),       \
            components,                                                                   \
            INIT,                                                                         \
            SHUTDOWN};                                                                    \
        return &descriptor;                                                               \
    }
