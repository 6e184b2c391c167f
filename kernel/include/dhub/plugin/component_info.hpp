// SPDX-License-Identifier: Apache-2.0
// What the kernel knows about a component once its plugin is loaded: the descriptor's declarations in C++
// form. The graph validator works on these, not on the C descriptor, so it can be tested without
// loading any library.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/schema/schema.hpp"

namespace dhub::plugin {

enum class ComponentKind { Source = 1, Stage = 2, Sink = 3, Transport = 4, Validator = 5 };
enum class ComponentMode { Realtime = 1, Queue = 2 };
/// Path (SDK 1.2): a string naming a file; a relative one is resolved against the graph file's directory
/// before the plugin sees it (docs/graph.md, "Paths").
enum class ParamType { Number, Integer, Boolean, String, Path };

const char* to_string(ComponentKind kind) noexcept;
const char* to_string(ParamType type) noexcept;

/// One declared parameter (an element of the component's params_schema_json).
struct ParamSpec {
    std::string name;
    ParamType type = ParamType::Number;
    nlohmann::json default_value;  ///< null: the parameter is required
    std::optional<double> min;     ///< inclusive, numbers and integers
    std::optional<double> max;
    std::vector<std::string> enum_values;  ///< strings: the allowed values (empty = any)
    std::string unit;
    std::string doc;
    /// "live": true (SDK 1.4): may be changed while the node runs (dhub-ctl params set); the component has on_param.
    bool live = false;
};

/// Parses a params_schema_json array (or, source saying so, another text of that form: a node_params_schema
/// answer). The error names the component, the source and the offending entry.
Result<std::vector<ParamSpec>> parse_param_schema(std::string_view schema_json,
                                                  std::string_view component_id,
                                                  std::string_view source = "params_schema_json");

/// Checks one value against its spec; nullopt if fine, otherwise what is wrong ("expected an integer in
/// [1, 1000], found 0").
std::optional<std::string> check_param_value(const ParamSpec& spec, const nlohmann::json& value);

/// The params schema as a JSON Schema object (for --describe and documentation).
nlohmann::json to_json_schema(const std::vector<ParamSpec>& params);

enum class PortDirection { Input = 1, Output = 2 };

const char* to_string(PortDirection direction) noexcept;  ///< "input", "output"

/// One port a component reads or writes (dhub_port_descriptor; for SDK 1.0/1.1 components, the kind's).
struct PortInfo {
    std::string name;
    PortDirection direction = PortDirection::Input;
    std::string schema = "*";  ///< the schema id written or expected; "*" = any
    std::uint64_t min_slot_bytes = 0;
    bool optional = false;  ///< the graph may leave it unwired
    bool many = false;      ///< the graph binds a list of channels to it
    std::string description;
};

struct ComponentInfo {
    std::string plugin;  ///< plugin name (file dhub-<plugin>.so)
    std::string plugin_version;
    std::uint16_t abi_minor = 0;  ///< the SDK minor its plugin was built for: what the kernel may assume of it
    std::string id;               ///< "<vendor>.<kind>.<name>"
    std::uint32_t version = 0;
    ComponentKind kind = ComponentKind::Source;
    ComponentMode mode = ComponentMode::Realtime;
    std::string description;
    std::vector<ParamSpec> params;
    /// It takes parameters beyond `params` whose declaration depends on the node (SDK 1.3 node_params_schema,
    /// e.g. a Python class's): a running kernel passes them to create() unchecked, and create() checks them.
    bool takes_node_params = false;
    /// Those parameters' declarations for one node's params. Set only where the kernel may run plugin code to
    /// check a graph (--validate, --list-schemas; component_lookup with NodeParams::Ask), never in a run.
    std::function<Result<std::vector<ParamSpec>>(const nlohmann::json& node_params)> node_params_schema;
    /// Inputs and outputs in declaration order. SDK 1.0/1.1 components declare none: the kind gives them
    /// ("in" for stages, sinks and validators; "out" for sources and stages; both optional for transports).
    std::vector<PortInfo> ports;
    bool declares_ports = false;  ///< the ports came from the descriptor (SDK 1.2), not from the kind
    /// The typed schemas of its ports' ids that the component declares itself (SDK 1.2 schema_documents).
    std::vector<schema::Schema> schemas;

    /// The ports of one direction, in declaration order.
    std::vector<const PortInfo*> ports_of(PortDirection direction) const;
    const PortInfo* find_port(PortDirection direction, std::string_view name) const noexcept;
    /// The first port of a direction (the only one of a single-port component); nullptr if it has none.
    const PortInfo* first_port(PortDirection direction) const noexcept;
    /// Whether the kernel drives it with process_ports: more than one port in a direction, or a "many" port.
    bool multi_port() const noexcept;
};

/// The ports of a component that declares none, from its kind and its 1.0/1.1 schema fields.
std::vector<PortInfo> ports_of_kind(ComponentKind kind,
                                    const char* input_schema,
                                    const char* output_schema,
                                    std::uint64_t input_min_slot_bytes,
                                    std::uint64_t output_min_slot_bytes);

}  // namespace dhub::plugin
