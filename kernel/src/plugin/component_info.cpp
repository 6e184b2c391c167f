// SPDX-License-Identifier: Apache-2.0
#include "dhub/plugin/component_info.hpp"

#include <cmath>
#include <cstdint>
#include <string>

namespace dhub::plugin {
namespace {

std::string describe_range(const ParamSpec& spec) {
    if (!spec.min && !spec.max) return "";
    // An integer's bounds read as integers ("[1, 1000]", not "[1.0, 1000.0]"), as --describe prints them.
    auto number = [&spec](double value) {
        if (spec.type == ParamType::Integer && std::abs(value) < 9.0e15) {
            return std::to_string(static_cast<std::int64_t>(value));
        }
        nlohmann::json text = value;
        return text.dump();
    };
    return " in [" + (spec.min ? number(*spec.min) : std::string("-inf")) + ", " +
           (spec.max ? number(*spec.max) : std::string("+inf")) + "]";
}

std::optional<ParamType> parse_type(const std::string& name) {
    if (name == "number") return ParamType::Number;
    if (name == "integer") return ParamType::Integer;
    if (name == "boolean") return ParamType::Boolean;
    if (name == "string") return ParamType::String;
    if (name == "path") return ParamType::Path;
    return std::nullopt;
}

}  // namespace

const char* to_string(ComponentKind kind) noexcept {
    switch (kind) {
        case ComponentKind::Source:
            return "source";
        case ComponentKind::Stage:
            return "stage";
        case ComponentKind::Sink:
            return "sink";
        case ComponentKind::Transport:
            return "transport";
        case ComponentKind::Validator:
            return "validator";
    }
    return "invalid";
}

const char* to_string(ParamType type) noexcept {
    switch (type) {
        case ParamType::Number:
            return "number";
        case ParamType::Integer:
            return "integer";
        case ParamType::Boolean:
            return "boolean";
        case ParamType::String:
            return "string";
        case ParamType::Path:
            return "path";
    }
    return "invalid";
}

const char* to_string(PortDirection direction) noexcept {
    return direction == PortDirection::Input ? "input" : "output";
}

std::vector<const PortInfo*> ComponentInfo::ports_of(PortDirection direction) const {
    std::vector<const PortInfo*> found;
    for (const PortInfo& port : ports) {
        if (port.direction == direction) found.push_back(&port);
    }
    return found;
}

const PortInfo* ComponentInfo::find_port(PortDirection direction, std::string_view name) const noexcept {
    for (const PortInfo& port : ports) {
        if (port.direction == direction && port.name == name) return &port;
    }
    return nullptr;
}

const PortInfo* ComponentInfo::first_port(PortDirection direction) const noexcept {
    for (const PortInfo& port : ports) {
        if (port.direction == direction) return &port;
    }
    return nullptr;
}

bool ComponentInfo::multi_port() const noexcept {
    std::size_t inputs = 0;
    std::size_t outputs = 0;
    for (const PortInfo& port : ports) {
        if (port.many) return true;
        ++(port.direction == PortDirection::Input ? inputs : outputs);
    }
    return inputs > 1 || outputs > 1;
}

std::vector<PortInfo> ports_of_kind(ComponentKind kind,
                                    const char* input_schema,
                                    const char* output_schema,
                                    std::uint64_t input_min_slot_bytes,
                                    std::uint64_t output_min_slot_bytes) {
    const bool transport = kind == ComponentKind::Transport;
    const auto schema_or_any = [](const char* schema) {
        return schema != nullptr && schema[0] != '\0' ? std::string(schema) : std::string("*");
    };
    std::vector<PortInfo> ports;
    if (kind == ComponentKind::Stage || kind == ComponentKind::Sink || kind == ComponentKind::Validator || transport) {
        ports.push_back(
            {"in", PortDirection::Input, schema_or_any(input_schema), input_min_slot_bytes, transport, false, ""});
    }
    if (kind == ComponentKind::Source || kind == ComponentKind::Stage || transport) {
        ports.push_back(
            {"out", PortDirection::Output, schema_or_any(output_schema), output_min_slot_bytes, transport, false, ""});
    }
    return ports;
}

Result<std::vector<ParamSpec>> parse_param_schema(std::string_view schema_json,
                                                  std::string_view component_id,
                                                  std::string_view source) {
    const std::string where = "component '" + std::string(component_id) + "' " + std::string(source);
    const nlohmann::json document = nlohmann::json::parse(schema_json, nullptr, false);
    if (document.is_discarded() || !document.is_array()) {
        return Error{ErrorCode::InvalidArgument, where + " is not a JSON array of parameter declarations"};
    }
    std::vector<ParamSpec> params;
    for (std::size_t index = 0; index < document.size(); ++index) {
        const nlohmann::json& entry = document[index];
        const std::string at = where + "[" + std::to_string(index) + "]";
        if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("type") ||
            !entry["type"].is_string()) {
            return Error{ErrorCode::InvalidArgument, at + " needs string fields \"name\" and \"type\""};
        }
        ParamSpec spec;
        spec.name = entry["name"].get<std::string>();
        const auto type = parse_type(entry["type"].get<std::string>());
        if (!type) {
            return Error{ErrorCode::InvalidArgument, at + " (\"" + spec.name + "\"): type \"" +
                                                         entry["type"].get<std::string>() +
                                                         "\" is not number, integer, boolean or string"};
        }
        spec.type = *type;
        for (const char* bound : {"min", "max"}) {
            if (!entry.contains(bound)) continue;
            if (!entry[bound].is_number()) {
                return Error{ErrorCode::InvalidArgument,
                             at + " (\"" + spec.name + "\"): " + bound + " is not a number"};
            }
            (std::string(bound) == "min" ? spec.min : spec.max) = entry[bound].get<double>();
        }
        if (entry.contains("enum")) {
            if (!entry["enum"].is_array()) {
                return Error{ErrorCode::InvalidArgument, at + " (\"" + spec.name + "\"): enum is not an array"};
            }
            for (const auto& value : entry["enum"]) {
                if (!value.is_string()) {
                    return Error{ErrorCode::InvalidArgument,
                                 at + " (\"" + spec.name + "\"): enum values must be strings"};
                }
                spec.enum_values.push_back(value.get<std::string>());
            }
        }
        for (const char* text : {"unit", "doc"}) {
            if (!entry.contains(text)) continue;
            if (!entry[text].is_string()) {
                return Error{ErrorCode::InvalidArgument, at + " (\"" + spec.name + "\"): " + text + " is not a string"};
            }
            (std::string(text) == "unit" ? spec.unit : spec.doc) = entry[text].get<std::string>();
        }
        if (entry.contains("live")) {
            if (!entry["live"].is_boolean()) {
                return Error{ErrorCode::InvalidArgument, at + " (\"" + spec.name + "\"): live is not true or false"};
            }
            spec.live = entry["live"].get<bool>();
        }
        if (entry.contains("default")) {
            spec.default_value = entry["default"];
            if (auto problem = check_param_value(spec, spec.default_value)) {
                return Error{ErrorCode::InvalidArgument, at + " (\"" + spec.name + "\"): default " + *problem};
            }
        }
        for (const ParamSpec& earlier : params) {
            if (earlier.name == spec.name) {
                return Error{ErrorCode::InvalidArgument, at + ": parameter \"" + spec.name + "\" is declared twice"};
            }
        }
        params.push_back(std::move(spec));
    }
    return params;
}

std::optional<std::string> check_param_value(const ParamSpec& spec, const nlohmann::json& value) {
    switch (spec.type) {
        case ParamType::Boolean:
            if (!value.is_boolean()) return "expected a boolean, found " + value.dump();
            return std::nullopt;
        case ParamType::Path:
            if (!value.is_string() || value.get<std::string>().empty()) {
                return "expected a file path (a non-empty string), found " + value.dump();
            }
            return std::nullopt;
        case ParamType::String:
            if (!value.is_string()) return "expected a string, found " + value.dump();
            if (!spec.enum_values.empty()) {
                const auto text = value.get<std::string>();
                bool allowed = false;
                std::string choices;
                for (const auto& choice : spec.enum_values) {
                    allowed = allowed || choice == text;
                    choices += (choices.empty() ? "" : ", ") + choice;
                }
                if (!allowed) return "expected one of " + choices + ", found \"" + text + "\"";
            }
            return std::nullopt;
        case ParamType::Integer:
        case ParamType::Number: {
            const bool integer = spec.type == ParamType::Integer;
            const bool right_type =
                integer ? (value.is_number_integer() ||
                           (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>()))
                        : value.is_number();
            const std::string expected = std::string(integer ? "an integer" : "a number") + describe_range(spec);
            if (!right_type) return "expected " + expected + ", found " + value.dump();
            const double number = value.get<double>();
            if ((spec.min && number < *spec.min) || (spec.max && number > *spec.max)) {
                return "expected " + expected + ", found " + value.dump();
            }
            return std::nullopt;
        }
    }
    return "unknown parameter type";
}

nlohmann::json to_json_schema(const std::vector<ParamSpec>& params) {
    nlohmann::json schema = {
        {"type", "object"}, {"additionalProperties", false}, {"properties", nlohmann::json::object()}};
    nlohmann::json required = nlohmann::json::array();
    for (const ParamSpec& spec : params) {
        nlohmann::json property = {{"type", to_string(spec.type)}};
        if (!spec.default_value.is_null()) property["default"] = spec.default_value;
        if (spec.min) property["minimum"] = *spec.min;
        if (spec.max) property["maximum"] = *spec.max;
        if (!spec.enum_values.empty()) property["enum"] = spec.enum_values;
        if (!spec.doc.empty()) property["description"] = spec.doc;
        if (!spec.unit.empty()) property["x-unit"] = spec.unit;
        schema["properties"][spec.name] = std::move(property);
        if (spec.default_value.is_null()) required.push_back(spec.name);
    }
    if (!required.empty()) schema["required"] = required;
    return schema;
}

}  // namespace dhub::plugin
