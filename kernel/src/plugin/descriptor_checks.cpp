// SPDX-License-Identifier: Apache-2.0
#include "descriptor_checks.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "dhub/schema/schema_json.hpp"
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
std::string missing_callback(const dhub_component_descriptor& component, bool multi_port) {
    if (component.create == nullptr) return "create";
    if (component.destroy == nullptr) return "destroy";
    if (component.mode == DHUB_MODE_QUEUE) return component.run == nullptr ? "run (queue mode)" : "";
    if (multi_port) {
        return component.process_ports == nullptr
                   ? "process_ports (a realtime component with several inputs or outputs, or a \"many\" port)"
                   : "";
    }
    // process_ports drives any realtime component that declares its ports.
    if (component.process_ports != nullptr && component.port_count > 0 && component.kind != DHUB_KIND_VALIDATOR) {
        return "";
    }
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

/// Port names are graph keys: a letter or '_' first, then letters, digits, '_' or '-', at most 64.
bool is_port_name(const char* name) {
    if (name == nullptr || name[0] == '\0') return false;
    const std::string_view text(name);
    if (text.size() > 64 || !(std::isalpha(static_cast<unsigned char>(text[0])) != 0 || text[0] == '_')) return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-'; });
}

/// The declared ports (SDK 1.2), or the kind's for a component that declares none. The error says what is
/// wrong with which port.
Result<std::vector<PortInfo>> read_ports(const dhub_component_descriptor& component, const std::string& id) {
    if (component.port_count == 0) {
        return ports_of_kind(static_cast<ComponentKind>(component.kind), component.input_schema,
                             component.output_schema, component.input_min_slot_bytes, component.output_min_slot_bytes);
    }
    const std::string at = "component '" + id + "'";
    if (component.ports == nullptr) {
        return Error{ErrorCode::Incompatible,
                     at + " declares " + std::to_string(component.port_count) + " ports but its ports array is NULL"};
    }
    constexpr std::uint32_t MAX_PORTS = 64;
    if (component.port_count > MAX_PORTS) {
        return Error{ErrorCode::Incompatible,
                     at + " declares " + std::to_string(component.port_count) + " ports; at most 64 are allowed"};
    }
    // The array's stride is the plugin's sizeof(dhub_port_descriptor), which its struct_size says: a plugin
    // built against a newer SDK has bigger elements, an older one smaller.
    const std::uint32_t stride = component.ports[0].struct_size;
    std::vector<PortInfo> ports;
    std::set<std::pair<dhub_port_direction, std::string>> names;
    for (std::uint32_t index = 0; index < component.port_count; ++index) {
        const std::string port_at = at + " port #" + std::to_string(index);
        const auto* element = reinterpret_cast<const dhub_port_descriptor*>(
            reinterpret_cast<const std::byte*>(component.ports) + std::size_t{index} * stride);
        if (stride < offsetof(dhub_port_descriptor, reserved) || element->struct_size != stride) {
            return Error{ErrorCode::Incompatible, port_at + ": truncated descriptor (struct_size " +
                                                      std::to_string(element->struct_size) + ", the array's " +
                                                      std::to_string(stride) + ")"};
        }
        const dhub_port_descriptor raw = zero_extended(element);
        if (!is_port_name(raw.name)) {
            return Error{ErrorCode::Incompatible,
                         port_at + ": name '" + text_or(raw.name, "") +
                             "' is not 1 to 64 letters, digits, '_' or '-' starting with a letter or '_'"};
        }
        if (raw.direction != DHUB_PORT_INPUT && raw.direction != DHUB_PORT_OUTPUT) {
            return Error{ErrorCode::Incompatible, port_at + " ('" + raw.name + "'): direction " +
                                                      std::to_string(raw.direction) +
                                                      " is not input (1) or output (2)"};
        }
        if (!names.emplace(raw.direction, raw.name).second) {
            return Error{ErrorCode::Incompatible, at + " declares " +
                                                      (raw.direction == DHUB_PORT_INPUT ? "input" : "output") +
                                                      " port '" + raw.name + "' twice"};
        }
        PortInfo port;
        port.name = raw.name;
        port.direction = raw.direction == DHUB_PORT_INPUT ? PortDirection::Input : PortDirection::Output;
        port.schema = raw.schema != nullptr && raw.schema[0] != '\0' ? raw.schema : "*";
        port.min_slot_bytes = raw.min_slot_bytes;
        port.optional = (raw.flags & DHUB_PORT_OPTIONAL) != 0;
        port.many = (raw.flags & DHUB_PORT_MANY) != 0;
        port.description = text_or(raw.description, "");  // zero (none) in a struct that ends before it
        ports.push_back(std::move(port));
    }
    if (component.kind == DHUB_KIND_VALIDATOR &&
        (ports.size() != 1 || ports.front().direction != PortDirection::Input || ports.front().many)) {
        return Error{ErrorCode::Incompatible, at + ": a validator has exactly one input port and no output"};
    }
    return ports;
}

/// The typed schemas a component declares for its ports (SDK 1.2 schema_documents). Each must parse and be the
/// document of a schema id one of its ports names; the error says which document and what is wrong.
Result<std::vector<schema::Schema>> read_schema_documents(const dhub_component_descriptor& component,
                                                          const std::vector<PortInfo>& ports,
                                                          const std::string& id) {
    std::vector<schema::Schema> schemas;
    if (component.schema_documents == nullptr) return schemas;
    const char* text = component.schema_documents();
    if (text == nullptr) return schemas;
    const std::string at = "component '" + id + "' schema_documents";
    nlohmann::json documents;
    try {
        documents = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        return Error{ErrorCode::Incompatible, at + ": not JSON (" + e.what() + ")"};
    }
    if (!documents.is_array()) return Error{ErrorCode::Incompatible, at + ": not a JSON array of schema documents"};
    std::vector<schema::Problem> problems;
    for (std::size_t index = 0; index < documents.size(); ++index) {
        const std::string path = "/" + std::to_string(index);
        std::optional<schema::Schema> parsed = schema::parse_schema(documents[index], path, problems);
        if (!parsed) {
            const schema::Problem& first = problems.front();
            return Error{ErrorCode::Incompatible, at + first.json_path + ": " + first.message};
        }
        const std::string schema_id = parsed->id();
        const bool named =
            std::any_of(ports.begin(), ports.end(), [&](const PortInfo& port) { return port.schema == schema_id; });
        if (!named) {
            return Error{ErrorCode::Incompatible, at + path + ": declares " + schema_id +
                                                      ", which none of its ports names; name it as a port's schema "
                                                      "or leave it out"};
        }
        for (const schema::Schema& earlier : schemas) {
            if (earlier.id() == schema_id) {
                return Error{ErrorCode::Incompatible, at + path + ": declares " + schema_id + " twice"};
            }
        }
        schemas.push_back(std::move(*parsed));
    }
    return schemas;
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
    loaded.init = plugin.init;
    loaded.shutdown = plugin.shutdown;
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
        auto ports = read_ports(component, id);
        if (!ports) return refuse(file, ports.error().message);
        auto schemas = read_schema_documents(component, ports.value(), id);
        if (!schemas) return refuse(file, schemas.error().message);
        ComponentInfo info;
        info.ports = std::move(ports.value());
        info.schemas = std::move(schemas.value());
        info.declares_ports = component.port_count > 0;
        if (const std::string missing = missing_callback(component, info.multi_port()); !missing.empty()) {
            return refuse(file, "component '" + id + "' lacks the required callback " + missing);
        }
        auto params = parse_param_schema(text_or(component.params_schema_json, "[]"), id);
        if (!params) return refuse(file, params.error().message);
        for (const ParamSpec& param : params.value()) {
            if (param.live && component.on_param == nullptr) {
                return refuse(file, "component '" + id + "' declares parameter \"" + param.name +
                                        "\" live but has no on_param callback to hear of a change (SDK 1.4)");
            }
        }

        info.plugin = loaded.name;
        info.abi_minor = loaded.abi_minor;
        info.plugin_version = loaded.version;
        info.id = id;
        info.version = component.version;
        info.kind = static_cast<ComponentKind>(component.kind);
        info.mode = component.mode == DHUB_MODE_QUEUE ? ComponentMode::Queue : ComponentMode::Realtime;
        info.description = text_or(component.description, "");
        info.params = std::move(params.value());
        info.takes_node_params = component.node_params_schema != nullptr;
        loaded.components.push_back(std::move(info));
        loaded.descriptors.push_back(component);
    }
    return loaded;
}

}  // namespace dhub::plugin
