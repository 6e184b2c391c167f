// SPDX-License-Identifier: Apache-2.0
// What the kernel knows about a component once its plugin is loaded: the descriptor's declarations in C++
// form. The graph validator works on these, not on the C descriptor, so it can be tested without
// loading any library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"

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
};

/// Parses a params_schema_json array. The error names the component and the offending entry.
Result<std::vector<ParamSpec>> parse_param_schema(std::string_view schema_json, std::string_view component_id);

/// Checks one value against its spec; nullopt if fine, otherwise what is wrong ("expected an integer in
/// [1, 1000], found 0").
std::optional<std::string> check_param_value(const ParamSpec& spec, const nlohmann::json& value);

/// The params schema as a JSON Schema object (for --describe and documentation).
nlohmann::json to_json_schema(const std::vector<ParamSpec>& params);

struct ComponentInfo {
    std::string plugin;  ///< plugin name (file dhub-<plugin>.so)
    std::string plugin_version;
    std::string id;  ///< "<vendor>.<kind>.<name>"
    std::uint32_t version = 0;
    ComponentKind kind = ComponentKind::Source;
    ComponentMode mode = ComponentMode::Realtime;
    std::string description;
    std::vector<ParamSpec> params;
    std::optional<std::string> input_schema;   ///< schema id expected on its input ("*" = any); none = no input
    std::optional<std::string> output_schema;  ///< schema id written on its output; none = no output
    std::uint64_t input_min_slot_bytes = 0;
    std::uint64_t output_min_slot_bytes = 0;

    std::size_t input_count() const noexcept;   ///< 1 for stages, sinks, validators; else 0
    std::size_t output_count() const noexcept;  ///< 1 for sources and stages; else 0
};

}  // namespace dhub::plugin
