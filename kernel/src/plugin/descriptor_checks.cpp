// SPDX-License-Identifier: Apache-2.0
#include "descriptor_checks.hpp"

#include <cstddef>
#include <cstring>
#include <set>
#include <string>

#include "dhub/sdk/version.h"

namespace dhub::plugin {
namespace {

/// The frozen prefix of dhub_plugin_descriptor: struct_size, abi_major, abi_minor, name, version.
constexpr std::size_t FROZEN_PREFIX_BYTES = offsetof(dhub_plugin_descriptor, version) + sizeof(const char*);

/// Copies a descriptor the plugin declared with its own struct_size: a smaller (older) struct reads as
/// zero beyond its end; a larger (newer) one is cut to what this kernel knows.
template <typename Struct>
Struct zero_extended(const Struct* source) {
    Struct copy{};
    const std::size_t declared = *reinterpret_cast<const std::uint32_t*>(source);
    std::memcpy(&copy, source, std::min(declared, sizeof(Struct)));
    copy.struct_size = static_cast<std::uint32_t>(sizeof(Struct));
    return copy;
}

std::string text_or(const char* text, const char* fallback) {
    return text != nullptr ? text : fallback;
}

Error refuse(const std::filesystem::path& file, const std::string& what) {
    return Error{ErrorCode::Incompatible, "plugin " + file.string() + ": " + what};
}

std::string sdk_version(unsigned major, unsigned minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

/// Callbacks a component of this kind and mode cannot work without.
std::string missing_callback(const dhub_component_descriptor& component) {
    if (component.create == nullptr) return "create";
    if (component.destroy == nullptr) return "destroy";
    if (component.mode == DHUB_MODE_QUEUE) return component.run == nullptr ? "run (queue mode)" : "";
    switch (component.kind) {
        case DHUB_KIND_SOURCE:
        case DHUB_KIND_STAGE:
        case DHUB_KIND_SINK:
            return component.process == nullptr ? "process (realtime mode)" : "";
        case DHUB_KIND_VALIDATOR:
            return component.validate == nullptr ? "validate" : "";
        case DHUB_KIND_TRANSPORT:
            return component.run == nullptr ? "run (transports drive themselves)" : "";
        default:
            return "";
    }
}

}  // namespace

Result<LoadedPlugin> check_plugin_descriptor(const dhub_plugin_descriptor* descriptor,
                                             const std::filesystem::path& file) {
    if (descriptor == nullptr) return refuse(file, "dhub_plugin_entry() returned no descriptor");
    if (descriptor->struct_size < FROZEN_PREFIX_BYTES) {
        return refuse(file, "descriptor struct_size " + std::to_string(descriptor->struct_size) +
                                " is smaller than the frozen prefix (" + std::to_string(FROZEN_PREFIX_BYTES) +
                                " bytes): not a dhub plugin descriptor");
    }
    // The version check comes before anything else is read: a plugin of another major may lay the rest
    // of its descriptor out differently.
    const unsigned major = descriptor->abi_major;
    const unsigned minor = descriptor->abi_minor;
    if (major != DHUB_SDK_VERSION_MAJOR || minor > DHUB_SDK_VERSION_MINOR) {
        return Error{ErrorCode::Incompatible,
                     "plugin " + file.string() + " ('" + text_or(descriptor->name, "?") + "') was built for SDK " +
                         sdk_version(major, minor) + ", but this kernel provides SDK " +
                         sdk_version(DHUB_SDK_VERSION_MAJOR, DHUB_SDK_VERSION_MINOR) +
                         ": a plugin must have the same major version and a minor no newer than the kernel's. "
                         "Rebuild it against SDK " +
                         std::to_string(DHUB_SDK_VERSION_MAJOR) + ".x (docs/sdk.md)"};
    }
    const dhub_plugin_descriptor plugin = zero_extended(descriptor);
    LoadedPlugin loaded;
    loaded.path = file;
    loaded.abi_major = plugin.abi_major;
    loaded.abi_minor = plugin.abi_minor;
    if (plugin.name == nullptr || plugin.name[0] == '\0') return refuse(file, "descriptor has no name");
    loaded.name = plugin.name;
    const std::string stem = file.stem().string();
    if (stem != "dhub-" + loaded.name) {
        return refuse(file, "descriptor name '" + loaded.name + "' does not match the file name " +
                                file.filename().string() + " (it must be dhub-" + loaded.name +
                                ".so; rename the file or fix DHUB_PLUGIN(...))");
    }
    loaded.version = text_or(plugin.version, "");
    loaded.license = text_or(plugin.license, "");
    loaded.description = text_or(plugin.description, "");
    if (plugin.component_count == 0 || plugin.components == nullptr) return refuse(file, "declares no component");

    std::set<std::string> ids;
    for (std::uint32_t index = 0; index < plugin.component_count; ++index) {
        const dhub_component_descriptor* raw = plugin.components[index];
        const std::string at = "component #" + std::to_string(index);
        if (raw == nullptr || raw->struct_size < offsetof(dhub_component_descriptor, create)) {
            return refuse(file, at + ": missing or truncated descriptor");
        }
        const dhub_component_descriptor component = zero_extended(raw);
        if (component.id == nullptr || component.id[0] == '\0') return refuse(file, at + " has no id");
        const std::string id = component.id;
        if (!ids.insert(id).second) return refuse(file, "component id '" + id + "' is declared twice");
        if (component.kind < DHUB_KIND_SOURCE || component.kind > DHUB_KIND_VALIDATOR) {
            return refuse(file, "component '" + id + "': kind " + std::to_string(component.kind) +
                                    " is not one of "
                                    "source (1), stage (2), sink (3), transport (4), validator (5)");
        }
        if (component.mode != DHUB_MODE_REALTIME && component.mode != DHUB_MODE_QUEUE) {
            return refuse(file, "component '" + id + "': mode " + std::to_string(component.mode) +
                                    " is not realtime (1) or queue (2)");
        }
        if (const std::string missing = missing_callback(component); !missing.empty()) {
            return refuse(file, "component '" + id + "' lacks the required callback " + missing);
        }
        auto params = parse_param_schema(text_or(component.params_schema_json, "[]"), id);
        if (!params) return refuse(file, params.error().message);

        ComponentInfo info;
        info.plugin = loaded.name;
        info.plugin_version = loaded.version;
        info.id = id;
        info.version = component.version;
        info.kind = static_cast<ComponentKind>(component.kind);
        info.mode = component.mode == DHUB_MODE_QUEUE ? ComponentMode::Queue : ComponentMode::Realtime;
        info.description = text_or(component.description, "");
        info.params = std::move(params.value());
        if (component.input_schema != nullptr) info.input_schema = component.input_schema;
        if (component.output_schema != nullptr) info.output_schema = component.output_schema;
        if (info.input_count() > 0 && !info.input_schema) info.input_schema = "*";
        if (info.output_count() > 0 && !info.output_schema) info.output_schema = "*";
        info.input_min_slot_bytes = component.input_min_slot_bytes;
        info.output_min_slot_bytes = component.output_min_slot_bytes;
        loaded.components.push_back(std::move(info));
        loaded.descriptors.push_back(component);
    }
    return loaded;
}

}  // namespace dhub::plugin
