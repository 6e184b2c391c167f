// SPDX-License-Identifier: Apache-2.0
// Not API: the C functions and the constant descriptor generated for each component type. They turn the
// C calls of the kernel into calls of the component's C++ handlers and keep every exception inside the
// plugin (an exception becomes a status and a log line).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/detail/component_checks.hpp"
#include "dhub/sdk/node_context.hpp"
#include "dhub/sdk/ports.hpp"
#include "dhub/sdk/slots.hpp"
#include "dhub/sdk/struct_schema.hpp"

namespace dhub::sdk::detail {

/// A component that declares its ports (SDK 1.2, dhub/sdk/ports.hpp).

/// One per node. Cache-line aligned (and so padded to whole lines) because the kernel creates all nodes'
/// instances from one thread, back to back: unaligned, a source's per-slot counters and a sink's would
/// share a line and bounce it between the two node threads on every slot (measured: -40 % throughput).
template <typename T>
struct alignas(64) Instance {
    NodeContext context;
    T component;
    /// A burst-only source driven one slot at a time that filled its slot and returned a status that would
    /// drop it: the slot is published now (DHUB_OK) and the status is returned by the next call.
    dhub_status deferred = DHUB_OK;

    Instance(const dhub_host_api* host, dhub_node* node) requires std::is_constructible_v<T, NodeContext&>
        : context(host, node), component(context) {}
    Instance(const dhub_host_api* host, dhub_node* node) requires(!std::is_constructible_v<T, NodeContext&>)
        : context(host, node), component() {}
};

/// Runs body; an escaping exception is logged on the node and returned as a status.
template <typename Body>
dhub_status guarded(const NodeContext& context, Body&& body) noexcept {
    try {
        return body();
    } catch (const HostError& error) {
        context.host()->log(context.node(), DHUB_LOG_ERROR, error.what());
        return error.status();
    } catch (const SlotTooSmall& error) {
        context.host()->log(context.node(), DHUB_LOG_ERROR, error.what());
        return DHUB_ERR_SCHEMA_MISMATCH;
    } catch (const std::exception& error) {
        context.host()->log(context.node(), DHUB_LOG_ERROR, (std::string("exception: ") + error.what()).c_str());
        return DHUB_ERR_INTERNAL;
    } catch (...) {
        context.host()->log(context.node(), DHUB_LOG_ERROR, "exception of unknown type");
        return DHUB_ERR_INTERNAL;
    }
}

template <typename T>
Instance<T>& instance_of(void* instance) noexcept {
    return *static_cast<Instance<T>*>(instance);
}

template <typename T>
dhub_status create(const dhub_host_api* host, dhub_node* node, void** instance) noexcept {
    const NodeContext context(host, node);
    return guarded(context, [&] {
        *instance = new Instance<T>(host, node);
        return DHUB_OK;
    });
}

template <typename T>
void destroy(void* instance) noexcept {
    try {
        delete static_cast<Instance<T>*>(instance);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor that throws must not reach the kernel
    }
}

template <typename T>
dhub_status start(void* instance) noexcept {
    auto& self = instance_of<T>(instance);
    return guarded(self.context, [&] {
        // A start(context) that returns a status (e.g. a file that cannot be opened) is passed on; one
        // returning void succeeds unless it throws.
        if constexpr (requires {
                          { self.component.start(self.context) } -> std::convertible_to<dhub_status>;
                      }) {
            return static_cast<dhub_status>(self.component.start(self.context));
        } else if constexpr (requires { self.component.start(self.context); }) {
            self.component.start(self.context);
        }
        return DHUB_OK;
    });
}

template <typename T>
void stop(void* instance) noexcept {
    auto& self = instance_of<T>(instance);
    (void)guarded(self.context, [&] {
        if constexpr (requires { self.component.stop(self.context); }) {
            self.component.stop(self.context);
        }
        return DHUB_OK;
    });
}

template <typename T>
concept BurstSource = requires(T& component, NodeContext& context, OutputBurst<typename T::output_type>& out) {
    { component.produce_burst(context, out) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept BurstSink = requires(T& component, NodeContext& context, const InputBurst<typename T::input_type>& in) {
    { component.consume_burst(context, in) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept BurstStage = requires(T& component,
                              NodeContext& context,
                              InputBurst<typename T::input_type>& in,
                              OutputBurst<typename T::output_type>& out) {
    { component.process_burst(context, in, out) } -> std::convertible_to<dhub_status>;
};
template <typename T>
concept SlotSource = requires(T& component, NodeContext& context, OutputSlot<typename T::output_type>& out) {
    component.produce(context, out);
};
template <typename T>
concept SlotSink = requires(T& component, NodeContext& context, const InputSlot<typename T::input_type>& in) {
    component.consume(context, in);
};

template <typename T>
dhub_status process(void* instance, const dhub_process_args* args) noexcept {
    auto& self = instance_of<T>(instance);
    return guarded(self.context, [&]() -> dhub_status {
        if constexpr (T::kind == DHUB_KIND_SOURCE) {
            if constexpr (SlotSource<T>) {
                OutputSlot<typename T::output_type> out(*args->output);
                return self.component.produce(self.context, out);
            } else {
                // Only produce_burst: a burst of one. Not filled means nothing to publish this time; filled
                // means published, even with an end or error status (as the kernel does for a burst).
                if (const dhub_status deferred = std::exchange(self.deferred, DHUB_OK); deferred != DHUB_OK) {
                    return deferred;
                }
                dhub_burst_args burst{sizeof(dhub_burst_args), 1, nullptr, args->output, 0, 0};
                OutputBurst<typename T::output_type> out(burst);
                const dhub_status status = self.component.produce_burst(self.context, out);
                if (burst.filled == 0) return status == DHUB_OK ? DHUB_SKIP : status;
                self.deferred = status;
                return DHUB_OK;
            }
        } else if constexpr (T::kind == DHUB_KIND_STAGE) {
            const InputSlot<typename T::input_type> in(*args->input);
            OutputSlot<typename T::output_type> out(*args->output);
            return self.component.process(self.context, in, out);
        } else {
            if constexpr (SlotSink<T>) {
                const InputSlot<typename T::input_type> in(*args->input);
                return self.component.consume(self.context, in);
            } else {
                dhub_burst_args burst{sizeof(dhub_burst_args), 1, args->input, nullptr, 0, 1};
                return self.component.consume_burst(self.context, InputBurst<typename T::input_type>(burst));
            }
        }
    });
}

template <typename T>
dhub_status process_burst(void* instance, dhub_burst_args* args) noexcept {
    auto& self = instance_of<T>(instance);
    return guarded(self.context, [&]() -> dhub_status {
        if constexpr (T::kind == DHUB_KIND_SOURCE) {
            OutputBurst<typename T::output_type> out(*args);
            return self.component.produce_burst(self.context, out);
        } else if constexpr (T::kind == DHUB_KIND_STAGE) {
            InputBurst<typename T::input_type> in(*args);
            OutputBurst<typename T::output_type> out(*args);
            return self.component.process_burst(self.context, in, out);
        } else {
            return self.component.consume_burst(self.context, InputBurst<typename T::input_type>(*args));
        }
    });
}

template <typename T>
dhub_status process_ports(void* instance, dhub_port_args* args) noexcept {
    auto& self = instance_of<T>(instance);
    return guarded(self.context, [&]() -> dhub_status {
        Ports ports(self.context, *args);
        return self.component.process(self.context, ports);
    });
}

template <typename T>
dhub_status run(void* instance) noexcept {
    auto& self = instance_of<T>(instance);
    return guarded(self.context, [&] { return self.component.run(self.context); });
}

/// Copies text into a verdict's buffer, NUL-terminated and truncated to its capacity.
inline void copy_verdict_text(const std::string& text, char* buffer, std::uint64_t capacity) noexcept {
    if (buffer == nullptr || capacity == 0) return;
    const std::size_t length = std::min<std::size_t>(text.size(), static_cast<std::size_t>(capacity - 1));
    std::memcpy(buffer, text.data(), length);
    buffer[length] = '\0';
}

inline void fill_verdict(const Verdict& answer, dhub_validation& verdict) noexcept {
    verdict.valid = answer.valid ? 1 : 0;
    copy_verdict_text(answer.reason, verdict.message, verdict.message_capacity);
    // A 1.1 kernel's verdict ends before kind: its struct_size says so.
    if (verdict.struct_size >= offsetof(dhub_validation, kind_capacity) + sizeof verdict.kind_capacity) {
        copy_verdict_text(answer.kind, verdict.kind, verdict.kind_capacity);
    }
}

template <typename T>
dhub_status validate(void* instance, const dhub_slot* slot, dhub_validation* verdict) noexcept {
    auto& self = instance_of<T>(instance);
    return guarded(self.context, [&] {
        fill_verdict(self.component.validate(self.context, InputSlot<typename T::input_type>(*slot)), *verdict);
        return DHUB_OK;
    });
}

/// The burst form of validate(): the component's validate() inlined in one loop, so a channel's gate costs one
/// call per burst, not one per slot.
template <typename T>
dhub_status validate_burst(void* instance,
                           const dhub_slot* slots,
                           std::uint32_t count,
                           std::uint32_t* accepted,
                           dhub_validation* verdict) noexcept {
    auto& self = instance_of<T>(instance);
    *accepted = 0;
    return guarded(self.context, [&] {
        for (std::uint32_t i = 0; i < count; ++i) {
            Verdict answer = self.component.validate(self.context, InputSlot<typename T::input_type>(slots[i]));
            if (!answer.valid) {
                fill_verdict(answer, *verdict);
                return DHUB_OK;
            }
            *accepted = i + 1;
        }
        verdict->valid = 1;
        return DHUB_OK;
    });
}

template <typename T>
void on_message(void* instance, const char* channel, const char* message) noexcept {
    auto& self = instance_of<T>(instance);
    (void)guarded(self.context, [&] {
        self.component.on_message(self.context, std::string_view(channel != nullptr ? channel : ""),
                                  std::string_view(message != nullptr ? message : ""));
        return DHUB_OK;
    });
}

// ---- what the descriptor says, derived from T -----------------------------------------------------------

template <typename T>
constexpr const char* params_schema_of() noexcept {
    if constexpr (requires { T::params_schema; }) {
        return T::params_schema;
    } else {
        return "[]";
    }
}

template <typename T>
constexpr const char* output_schema_of() noexcept {
    if constexpr (requires { T::output_schema; }) {
        return T::output_schema;
    } else if constexpr (requires { typename T::output_type; }) {
        return "*";
    } else {
        return nullptr;
    }
}

template <typename T>
constexpr const char* input_schema_of() noexcept {
    if constexpr (requires { T::input_schema; }) {
        return T::input_schema;
    } else if constexpr (requires { typename T::input_type; }) {
        return "*";
    } else {
        return nullptr;
    }
}

// A component may declare output_min_slot_bytes / input_min_slot_bytes itself (e.g. the header size of a
// Bytes payload); otherwise they follow from the slot type.
template <typename T>
constexpr std::uint64_t output_min_bytes_of() noexcept {
    if constexpr (requires { T::output_min_slot_bytes; }) {
        return T::output_min_slot_bytes;
    } else if constexpr (requires { typename T::output_type; }) {
        return min_slot_bytes<typename T::output_type>();
    } else {
        return 0;
    }
}

template <typename T>
constexpr std::uint64_t input_min_bytes_of() noexcept {
    if constexpr (requires { T::input_min_slot_bytes; }) {
        return T::input_min_slot_bytes;
    } else if constexpr (requires { typename T::input_type; }) {
        return min_slot_bytes<typename T::input_type>();
    } else {
        return 0;
    }
}

template <typename T>
constexpr auto process_of() noexcept {
    if constexpr (T::mode == DHUB_MODE_REALTIME && T::kind != DHUB_KIND_VALIDATOR && !DeclaresPorts<T>) {
        return &process<T>;
    } else {
        return static_cast<dhub_status (*)(void*, const dhub_process_args*)>(nullptr);
    }
}

template <typename T>
constexpr auto process_burst_of() noexcept {
    if constexpr (T::mode == DHUB_MODE_REALTIME && !DeclaresPorts<T> &&
                  ((T::kind == DHUB_KIND_SOURCE && BurstSource<T>) || (T::kind == DHUB_KIND_SINK && BurstSink<T>) ||
                   (T::kind == DHUB_KIND_STAGE && BurstStage<T>))) {
        return &process_burst<T>;
    } else {
        return static_cast<dhub_status (*)(void*, dhub_burst_args*)>(nullptr);
    }
}

template <typename T>
constexpr auto process_ports_of() noexcept {
    if constexpr (T::mode == DHUB_MODE_REALTIME && DeclaresPorts<T>) {
        return &process_ports<T>;
    } else {
        return static_cast<dhub_status (*)(void*, dhub_port_args*)>(nullptr);
    }
}

template <typename T>
constexpr std::uint32_t port_count_of() noexcept {
    if constexpr (DeclaresPorts<T>) {
        return static_cast<std::uint32_t>(std::size(T::ports));
    } else {
        return 0;
    }
}

template <typename T>
constexpr const dhub_port_descriptor* ports_of() noexcept {
    if constexpr (DeclaresPorts<T>) {
        return std::data(T::ports);
    } else {
        return nullptr;
    }
}

template <typename T>
constexpr auto run_of() noexcept {
    if constexpr (T::mode == DHUB_MODE_QUEUE) {
        return &run<T>;
    } else {
        return static_cast<dhub_status (*)(void*)>(nullptr);
    }
}

template <typename T>
constexpr auto validate_of() noexcept {
    if constexpr (T::kind == DHUB_KIND_VALIDATOR) {
        return &validate<T>;
    } else {
        return static_cast<dhub_status (*)(void*, const dhub_slot*, dhub_validation*)>(nullptr);
    }
}

template <typename T>
constexpr auto validate_burst_of() noexcept {
    if constexpr (T::kind == DHUB_KIND_VALIDATOR) {
        return &validate_burst<T>;
    } else {
        return static_cast<dhub_status (*)(void*, const dhub_slot*, std::uint32_t, std::uint32_t*, dhub_validation*)>(
            nullptr);
    }
}

/// `on_param(context, name)` (SDK 1.4): a live parameter changed; context.params() reads the new value already.
template <typename T>
dhub_status on_param(void* instance, const char* name) noexcept {
    auto& self = instance_of<T>(instance);
    return guarded(self.context, [&] {
        const std::string_view changed(name != nullptr ? name : "");
        if constexpr (requires {
                          { self.component.on_param(self.context, changed) } -> std::convertible_to<dhub_status>;
                      }) {
            return static_cast<dhub_status>(self.component.on_param(self.context, changed));
        } else {
            self.component.on_param(self.context, changed);
            return DHUB_OK;
        }
    });
}

template <typename T>
constexpr auto on_param_of() noexcept {
    if constexpr (requires(T & component, NodeContext & context) { component.on_param(context, std::string_view()); }) {
        return &on_param<T>;
    } else {
        return static_cast<dhub_status (*)(void*, const char*)>(nullptr);
    }
}

template <typename T>
constexpr auto on_message_of() noexcept {
    if constexpr (requires(T & component, NodeContext & context) {
                      component.on_message(context, std::string_view(), std::string_view());
                  }) {
        return &on_message<T>;
    } else {
        return static_cast<void (*)(void*, const char*, const char*)>(nullptr);
    }
}

/// The component's schema documents as the kernel reads them: from `static std::vector<StructSchema>
/// schemas()` (struct descriptions, dhub/sdk/struct_schema.hpp), or from `static constexpr const char*
/// schema_documents` (a JSON array written by hand, e.g. for an external encoding). Built once, when the
/// kernel loads the plugin; a description that throws gives none (the kernel then sees only the ids).
template <typename T>
const char* schema_documents() noexcept {
    static const std::string text = []() -> std::string {
        try {
            if constexpr (requires { T::schema_documents; }) {
                return T::schema_documents;
            } else {
                return schema_array(T::schemas());
            }
        } catch (...) {
            return {};
        }
    }();
    return text.empty() ? nullptr : text.c_str();
}

template <typename T>
constexpr auto schema_documents_of() noexcept {
    if constexpr (
        requires { T::schema_documents; } || requires { schema_array(T::schemas()); }) {
        return &schema_documents<T>;
    } else {
        return static_cast<const char* (*)()>(nullptr);
    }
}

/// `static std::string node_params_schema(std::string_view node_params_json)`: the declarations of the
/// parameters that depend on the node (SDK 1.3). What it throws becomes {"error": what()}.
template <typename T>
const char* node_params_schema(const char* node_params_json) noexcept {
    thread_local std::string text;
    try {
        try {
            text = T::node_params_schema(std::string_view(node_params_json != nullptr ? node_params_json : "{}"));
        } catch (const std::exception& error) {
            text = "{\"error\":";
            append_quoted(text, error.what());
            text += "}";
        }
    } catch (...) {  // what it threw was no std::exception, or the message itself could not be built
        return "{\"error\":\"node_params_schema failed (an exception without a message, or out of memory)\"}";
    }
    return text.c_str();
}

template <typename T>
constexpr auto node_params_schema_of() noexcept {
    if constexpr (requires(std::string_view json) {
                      { T::node_params_schema(json) } -> std::convertible_to<std::string>;
                  }) {
        return &node_params_schema<T>;
    } else {
        // A member of that name with another signature would silently give no hook: every key the component
        // meant to declare per node would then be an unknown parameter.
        static_assert(
            !requires { &T::node_params_schema; },
            "node_params_schema must be `static std::string node_params_schema(std::string_view "
            "node_params_json)` (docs/sdk.md, \"Parameters declared per node\")");
        return static_cast<const char* (*)(const char*)>(nullptr);
    }
}

template <typename T>
inline constexpr dhub_component_descriptor DESCRIPTOR = {
    sizeof(dhub_component_descriptor),
    T::kind,
    T::id,
    T::version,
    T::mode,
    T::description,
    params_schema_of<T>(),
    output_schema_of<T>(),
    input_schema_of<T>(),
    output_min_bytes_of<T>(),
    input_min_bytes_of<T>(),
    &create<T>,
    &destroy<T>,
    &start<T>,
    &stop<T>,
    process_of<T>(),
    run_of<T>(),
    validate_of<T>(),
    on_message_of<T>(),
    process_burst_of<T>(),
    port_count_of<T>(),
    0,
    ports_of<T>(),
    process_ports_of<T>(),
    schema_documents_of<T>(),
    validate_burst_of<T>(),
    node_params_schema_of<T>(),
    on_param_of<T>(),
};

}  // namespace dhub::sdk::detail
