// SPDX-License-Identifier: Apache-2.0
// A source exactly as a plugin built against SDK 1.0 exports it: abi_minor 0 and a component descriptor
// that ends before process_burst (added in 1.1). Written against the C ABI by hand, because the C++ layer
// of this SDK always fills the newest descriptor. The kernel must load it and call process() per slot.
#include <cstddef>
#include <cstdint>
#include <new>

#include "dhub/sdk/abi.h"

namespace {

struct Counter {
    const dhub_host_api* host;
    dhub_node* node;
    std::uint64_t count;
    std::uint64_t next;
};

dhub_status create(const dhub_host_api* host, dhub_node* node, void** instance) {
    std::int64_t count = 0;
    if (host->param_integer(node, "count", &count) != DHUB_OK) return DHUB_ERR_INVALID_ARGUMENT;
    *instance = new (std::nothrow) Counter{host, node, static_cast<std::uint64_t>(count), 0};
    return *instance != nullptr ? DHUB_OK : DHUB_ERR_NO_MEMORY;
}

void destroy(void* instance) {
    delete static_cast<Counter*>(instance);
}

/// Writes 0, 1, 2, ... as 8-byte values (the ticker's test.tick@1 layout), count of them.
dhub_status process(void* instance, const dhub_process_args* args) {
    auto* counter = static_cast<Counter*>(instance);
    if (counter->next == counter->count) return DHUB_END_OF_STREAM;
    if (args->output->capacity < sizeof(std::uint64_t)) return DHUB_ERR_INVALID_ARGUMENT;
    *static_cast<std::uint64_t*>(args->output->data) = counter->next++;
    args->output->bytes = sizeof(std::uint64_t);
    return DHUB_OK;
}

dhub_component_descriptor make_component() {
    dhub_component_descriptor component{};
    // The 1.0 struct: everything up to, not including, process_burst.
    component.struct_size = static_cast<std::uint32_t>(offsetof(dhub_component_descriptor, process_burst));
    component.kind = DHUB_KIND_SOURCE;
    component.id = "test.source.sdk10";
    component.version = 1;
    component.mode = DHUB_MODE_REALTIME;
    component.description = "a source built against SDK 1.0: writes 0, 1, 2, ...";
    component.params_schema_json =
        R"json([{"name":"count","type":"integer","default":100,"min":1,"doc":"values to write"}])json";
    component.output_schema = "test.tick@1";
    component.output_min_slot_bytes = sizeof(std::uint64_t);
    component.create = create;
    component.destroy = destroy;
    component.process = process;
    // Deliberately set beyond the declared struct_size: a kernel that read past it would call this.
    component.process_burst = [](void*, dhub_burst_args*) -> dhub_status { return DHUB_ERR_INTERNAL; };
    return component;
}

const dhub_component_descriptor COMPONENT = make_component();
const dhub_component_descriptor* const COMPONENTS[] = {&COMPONENT};

}  // namespace

extern "C" DHUB_PLUGIN_EXPORT const dhub_plugin_descriptor* dhub_plugin_entry(void) {
    // The 1.0 struct ends before init (1.2); init is set beyond it, and would refuse the plugin if read.
    static const dhub_plugin_descriptor descriptor = {
        static_cast<std::uint32_t>(offsetof(dhub_plugin_descriptor, init)),
        1,
        0,
        "test_sdk10_source",
        "1.0.0",
        "Apache-2.0",
        "a plugin of SDK 1.0",
        1,
        COMPONENTS,
        [](char*, std::uint64_t) -> dhub_status { return DHUB_ERR_INTERNAL; },
        nullptr};
    return &descriptor;
}
