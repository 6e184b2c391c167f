// SPDX-License-Identifier: Apache-2.0
// Not API: what dhub::sdk::component<T>() requires of T, as traits. component<T>() turns each into a
// static_assert that names the missing member, so a mistake is reported at the user's component<T>() line
// instead of as a cascade of errors deep inside the trampolines.
#pragma once

#include <concepts>
#include <iterator>
#include <string_view>
#include <type_traits>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/node_context.hpp"
#include "dhub/sdk/ports.hpp"
#include "dhub/sdk/slots.hpp"

namespace dhub::sdk::detail {

/// kind and mode come from the base class (Source, Stage, Sink, Validator, QueueComponent).
template <typename T>
concept HasKindAndMode = requires {
    { T::kind } -> std::convertible_to<dhub_kind>;
    { T::mode } -> std::convertible_to<dhub_mode>;
};

template <typename T>
concept HasId = requires {
    { T::id } -> std::convertible_to<const char*>;
};

template <typename T>
concept HasVersion = requires {
    { T::version } -> std::convertible_to<std::uint32_t>;
}
&&std::is_integral_v<std::remove_cvref_t<decltype(T::version)>>;

template <typename T>
concept HasDescription = requires {
    { T::description } -> std::convertible_to<const char*>;
};

template <typename T>
concept HasProduce = requires(T& component, NodeContext& context, OutputSlot<typename T::output_type>& out) {
    { component.produce(context, out) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept HasProduceBurst = requires(T& component, NodeContext& context, OutputBurst<typename T::output_type>& out) {
    { component.produce_burst(context, out) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept HasProcess = requires(T& component,
                              NodeContext& context,
                              const InputSlot<typename T::input_type>& in,
                              OutputSlot<typename T::output_type>& out) {
    { component.process(context, in, out) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept HasConsume = requires(T& component, NodeContext& context, const InputSlot<typename T::input_type>& in) {
    { component.consume(context, in) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept HasConsumeBurst = requires(T& component, NodeContext& context, const InputBurst<typename T::input_type>& in) {
    { component.consume_burst(context, in) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept HasValidate = requires(T& component, NodeContext& context, const InputSlot<typename T::input_type>& in) {
    { component.validate(context, in) } -> std::convertible_to<Verdict>;
};
template <typename T>
concept HasRun = requires(T& component, NodeContext& context) {
    { component.run(context) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept HasPortProcess = requires(T& component, NodeContext& context, Ports& ports) {
    { component.process(context, ports) } -> std::convertible_to<dhub_status>;
};
/// A component that declares its ports (SDK 1.2, dhub/sdk/ports.hpp): an array or std::array of
/// dhub_port_descriptor.
template <typename T>
concept DeclaresPorts = requires {
    { std::size(T::ports) } -> std::convertible_to<std::size_t>;
    { *std::data(T::ports) } -> std::convertible_to<dhub_port_descriptor>;
};

/// The handler T's kind and mode need; true when T has no kind (that is reported on its own).
template <typename T>
constexpr bool has_handler() noexcept {
    if constexpr (!HasKindAndMode<T>) {
        return true;
    } else if constexpr (T::mode == DHUB_MODE_QUEUE) {
        return HasRun<T>;
    } else if constexpr (DeclaresPorts<T>) {
        return HasPortProcess<T>;
    } else if constexpr (T::kind == DHUB_KIND_SOURCE) {
        return HasProduce<T> || HasProduceBurst<T>;
    } else if constexpr (T::kind == DHUB_KIND_STAGE) {
        return HasProcess<T>;
    } else if constexpr (T::kind == DHUB_KIND_SINK) {
        return HasConsume<T> || HasConsumeBurst<T>;
    } else if constexpr (T::kind == DHUB_KIND_VALIDATOR) {
        return HasValidate<T>;
    } else {
        return true;
    }
}

/// Everything the descriptor needs: only then is it instantiated (so a failed check is the only error).
template <typename T>
concept CompleteComponent = HasKindAndMode<T> && HasId<T> && HasVersion<T> && HasDescription<T> &&(has_handler<T>());

}  // namespace dhub::sdk::detail
