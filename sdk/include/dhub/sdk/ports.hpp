// SPDX-License-Identifier: Apache-2.0
// Components with named ports (SDK 1.2): several inputs, several outputs, or a port that takes a list of
// channels. The kernel holds the oldest unread slot of each input and calls process(context, ports) whenever
// one arrives or an input closes; outputs are written with io.output<T>(i).push(...). (The handler's
// argument is not called `ports`: that name is the component's port declarations.)
//
//   class Pair : public dhub::sdk::MultiPort<DHUB_KIND_STAGE> {
//   public:
//       static constexpr const char* id = "acme.stage.pair";
//       static constexpr std::uint32_t version = 1;
//       static constexpr const char* description = "pairs camera and detector frames by sequence";
//       static constexpr dhub_port_descriptor ports[] = {
//           dhub::sdk::input("camera", "acme.frame@1"),
//           dhub::sdk::input("detector", "acme.counts@1"),
//           dhub::sdk::output("out", "acme.pair@1", sizeof(FramePair)),
//       };
//       dhub_status process(dhub::sdk::NodeContext& context, dhub::sdk::Ports& io) {
//           auto camera = io.input(0), detector = io.input(1);
//           if (!camera.ready() || !detector.ready()) return DHUB_SKIP;  // keeps nothing: both released
//           ...
//           return io.output<Bytes>(0).push([&](auto& out) { ...; return true; });
//       }
//   };
//
// Input and output indices count the channels bound to the ports of a direction, in declaration order;
// context.port(Direction::Input, "camera") gives a port's indices (a "many" port has several, an unwired
// optional one none).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/node_context.hpp"
#include "dhub/sdk/slots.hpp"

namespace dhub::sdk {

/// Port flags for input() / output().
inline constexpr std::uint32_t optional_port = DHUB_PORT_OPTIONAL;
inline constexpr std::uint32_t many_channels = DHUB_PORT_MANY;

/// An input port declaration: schema "*" takes any; min_slot_bytes 0 takes any size.
constexpr dhub_port_descriptor input(const char* name,
                                     const char* schema = "*",
                                     std::uint64_t min_slot_bytes = 0,
                                     std::uint32_t flags = 0,
                                     const char* description = nullptr) noexcept {
    return {sizeof(dhub_port_descriptor), DHUB_PORT_INPUT, name, schema, min_slot_bytes, flags, 0, description};
}

constexpr dhub_port_descriptor output(const char* name,
                                      const char* schema = "*",
                                      std::uint64_t min_slot_bytes = 0,
                                      std::uint32_t flags = 0,
                                      const char* description = nullptr) noexcept {
    return {sizeof(dhub_port_descriptor), DHUB_PORT_OUTPUT, name, schema, min_slot_bytes, flags, 0, description};
}

/// The base of a component with declared ports; Kind describes its role (a correlator is a stage).
template <dhub_kind Kind = DHUB_KIND_STAGE>
struct MultiPort {
    static constexpr dhub_kind kind = Kind;
    static constexpr dhub_mode mode = DHUB_MODE_REALTIME;
    using flex_type = NoFlex;
};

/// One input of a process() call.
class PortInput {
public:
    explicit PortInput(dhub_port_input& input) noexcept : input_(input) {}

    /// Slots are in hand (slot<T>() is valid).
    bool ready() const noexcept { return input_.state == DHUB_INPUT_READY; }
    /// Nothing waiting now.
    bool empty() const noexcept { return input_.state == DHUB_INPUT_EMPTY; }
    /// The producer closed the channel and every slot was read.
    bool closed() const noexcept { return input_.state == DHUB_INPUT_CLOSED; }
    /// Slots in hand, oldest first (0 unless ready(); the kernel offers one today).
    std::uint32_t count() const noexcept { return ready() ? input_.count : 0; }

    /// The oldest slot in hand (index i: the i-th oldest).
    template <typename T = Bytes>
    InputSlot<T> slot(std::uint32_t i = 0) const noexcept {
        return InputSlot<T>(input_.slots[i]);
    }
    std::uint64_t sequence() const noexcept { return input_.slots[0].sequence; }
    std::uint64_t timestamp_ns() const noexcept { return input_.slots[0].timestamp_ns; }

    /// Keep the slots for the next call (e.g. until a partner arrives on another input). By default every
    /// slot handed to a call is released after it.
    void keep() noexcept { input_.release = 0; }
    /// Release only the n oldest after the call; keep the rest.
    void release(std::uint32_t n) noexcept { input_.release = n < input_.count ? n : input_.count; }
    /// Release them all after the call after all (undoes keep()).
    void release() noexcept { input_.release = input_.count; }
    bool kept() const noexcept { return input_.release == 0; }

private:
    dhub_port_input& input_;
};

/// The inputs and outputs of one process() call.
class Ports {
public:
    Ports(const NodeContext& context, dhub_port_args& args) noexcept : context_(context), args_(args) {}

    std::uint32_t input_count() const noexcept { return args_.input_count; }
    std::uint32_t output_count() const noexcept { return args_.output_count; }
    PortInput input(std::uint32_t index) const noexcept {
        // The array's stride is the kernel's sizeof(dhub_port_input) (abi.h), which may outgrow this SDK's.
        auto* base = reinterpret_cast<unsigned char*>(args_.inputs);
        return PortInput(*reinterpret_cast<dhub_port_input*>(base + std::size_t{index} * args_.inputs[0].struct_size));
    }
    /// Writes output index `index` (OutputPort::push: waits for a free slot, commits when fill returns true).
    template <typename T = Bytes>
    OutputPort<T> output(std::uint32_t index) const noexcept {
        return context_.output<T>(index);
    }

private:
    const NodeContext& context_;
    dhub_port_args& args_;
};

}  // namespace dhub::sdk
