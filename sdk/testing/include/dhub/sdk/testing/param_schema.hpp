// SPDX-License-Identifier: Apache-2.0
// Reads a component's params_schema_json and applies it to the parameters a test gives, the way the
// kernel does for a node in graph.json: unknown names, wrong types, values out of range or not in the
// enum are errors; a parameter without "default" is required; missing ones get their declared default.
#pragma once

#include <algorithm>

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dhub/sdk/testing/detail/json_reader.hpp"
#include "dhub/sdk/testing/harness_error.hpp"
#include "dhub/sdk/testing/param_value.hpp"

namespace dhub::sdk::testing {

/// One entry of params_schema_json: {"name","type","default","min","max","enum","unit","doc"}.
struct ParamDecl {
    std::string name;
    ParamValue::Type type = ParamValue::Type::Number;
    std::optional<ParamValue> default_value;  ///< none: the parameter is required
    std::optional<double> min;                ///< inclusive
    std::optional<double> max;                ///< inclusive
    std::vector<std::string> enum_values;     ///< strings only; empty = any
    std::string unit;
    std::string doc;
};

namespace detail {

inline std::optional<ParamValue::Type> param_type_named(std::string_view name) noexcept {
    if (name == "number") return ParamValue::Type::Number;
    if (name == "integer") return ParamValue::Type::Integer;
    if (name == "boolean") return ParamValue::Type::Boolean;
    if (name == "string") return ParamValue::Type::String;
    if (name == "path") return ParamValue::Type::String;  // the kernel resolves it; the harness has no graph file
    return std::nullopt;
}

/// A JSON value as a parameter of the given type, or nullopt if it is not one.
inline std::optional<ParamValue> json_as_param(const JsonValue& value, ParamValue::Type type) {
    switch (type) {
        case ParamValue::Type::Number:
            if (value.type == JsonValue::Type::Number) return ParamValue(value.number);
            break;
        case ParamValue::Type::Integer:
            if (value.type == JsonValue::Type::Number && value.integral) return ParamValue(value.integer);
            if (value.type == JsonValue::Type::Number && std::floor(value.number) == value.number &&
                std::fabs(value.number) < 9.2e18) {
                return ParamValue(static_cast<std::int64_t>(value.number));
            }
            break;
        case ParamValue::Type::Boolean:
            if (value.type == JsonValue::Type::Boolean) return ParamValue(value.boolean);
            break;
        case ParamValue::Type::String:
            if (value.type == JsonValue::Type::String) return ParamValue(value.text);
            break;
    }
    return std::nullopt;
}

/// Converts a given value to the declared type (an integer where a number is declared, an integral
/// number where an integer is); nullopt if the types do not fit.
inline std::optional<ParamValue> convert_param(const ParamValue& value, ParamValue::Type declared) {
    if (value.type() == declared) return value;
    if (declared == ParamValue::Type::Number && value.type() == ParamValue::Type::Integer) {
        return ParamValue(static_cast<double>(value.integer()));
    }
    if (declared == ParamValue::Type::Integer && value.type() == ParamValue::Type::Number &&
        std::floor(value.number()) == value.number() && std::fabs(value.number()) < 9.2e18) {
        return ParamValue(static_cast<std::int64_t>(value.number()));
    }
    return std::nullopt;
}

/// What is wrong with a value of the declared type (range, enum); empty if nothing.
inline std::string param_problem(const ParamDecl& decl, const ParamValue& value) {
    if (value.type() == ParamValue::Type::Number || value.type() == ParamValue::Type::Integer) {
        const double number =
            value.type() == ParamValue::Type::Number ? value.number() : static_cast<double>(value.integer());
        if ((decl.min && number < *decl.min) || (decl.max && number > *decl.max)) {
            return "expected " + std::string(to_string(decl.type)) + " in [" +
                   (decl.min ? ParamValue::number_to_json(*decl.min) : "-inf") + ", " +
                   (decl.max ? ParamValue::number_to_json(*decl.max) : "+inf") + "], found " + value.to_json();
        }
    }
    if (value.type() == ParamValue::Type::String && !decl.enum_values.empty()) {
        std::string choices;
        for (const std::string& choice : decl.enum_values) {
            if (choice == value.string()) return {};
            choices += (choices.empty() ? "" : ", ") + choice;
        }
        return "expected one of " + choices + ", found " + value.to_json();
    }
    return {};
}

}  // namespace detail

/// Parses params_schema_json. Throws HarnessError naming the component and the entry.
inline std::vector<ParamDecl> parse_params_schema(std::string_view schema_json, std::string_view component_id) {
    const std::string where = "component '" + std::string(component_id) + "' params_schema_json";
    detail::JsonValue document;
    try {
        document = detail::JsonReader(schema_json).parse_document();
    } catch (const std::invalid_argument& error) {
        throw HarnessError(where + ": " + error.what());
    }
    if (document.type != detail::JsonValue::Type::Array) throw HarnessError(where + " is not a JSON array");
    std::vector<ParamDecl> decls;
    for (std::size_t index = 0; index < document.items.size(); ++index) {
        const detail::JsonValue& entry = document.items[index];
        const std::string at = where + "[" + std::to_string(index) + "]";
        const detail::JsonValue* name = entry.find("name");
        const detail::JsonValue* type = entry.find("type");
        if (entry.type != detail::JsonValue::Type::Object || name == nullptr ||
            name->type != detail::JsonValue::Type::String || type == nullptr ||
            type->type != detail::JsonValue::Type::String) {
            throw HarnessError(at + " needs string fields \"name\" and \"type\"");
        }
        ParamDecl decl;
        decl.name = name->text;
        const auto parsed_type = detail::param_type_named(type->text);
        if (!parsed_type)
            throw HarnessError(at + ": type \"" + type->text + "\" is not number, integer, boolean or string");
        decl.type = *parsed_type;
        for (const auto& [key, bound] : {std::pair{"min", &decl.min}, std::pair{"max", &decl.max}}) {
            if (const detail::JsonValue* value = entry.find(key)) {
                if (value->type != detail::JsonValue::Type::Number)
                    throw HarnessError(at + ": " + key + " is not a number");
                *bound = value->number;
            }
        }
        if (const detail::JsonValue* choices = entry.find("enum")) {
            if (choices->type != detail::JsonValue::Type::Array) throw HarnessError(at + ": enum is not an array");
            for (const detail::JsonValue& choice : choices->items) {
                if (choice.type != detail::JsonValue::Type::String)
                    throw HarnessError(at + ": enum values must be strings");
                decl.enum_values.push_back(choice.text);
            }
        }
        if (const detail::JsonValue* unit = entry.find("unit"); unit && unit->type == detail::JsonValue::Type::String) {
            decl.unit = unit->text;
        }
        if (const detail::JsonValue* doc = entry.find("doc"); doc && doc->type == detail::JsonValue::Type::String) {
            decl.doc = doc->text;
        }
        if (const detail::JsonValue* fallback = entry.find("default")) {
            decl.default_value = detail::json_as_param(*fallback, decl.type);
            if (!decl.default_value)
                throw HarnessError(at + " (\"" + decl.name + "\"): default is not a " + to_string(decl.type));
            if (const std::string problem = detail::param_problem(decl, *decl.default_value); !problem.empty()) {
                throw HarnessError(at + " (\"" + decl.name + "\"): default " + problem);
            }
        }
        for (const ParamDecl& earlier : decls) {
            if (earlier.name == decl.name) throw HarnessError(at + ": \"" + decl.name + "\" is declared twice");
        }
        decls.push_back(std::move(decl));
    }
    return decls;
}

/// The parameters a node would get: given values checked and converted to the declared types, declared
/// defaults for the rest. Throws HarnessError listing every problem (one per line).
inline ParamMap resolve_params(const std::vector<ParamDecl>& decls,
                               const ParamMap& given,
                               std::string_view component_id) {
    std::string problems;
    const auto report = [&](const std::string& what) { problems += "\n  " + what; };
    for (const auto& [name, value] : given) {
        bool declared = false;
        for (const ParamDecl& decl : decls)
            declared = declared || decl.name == name;
        if (!declared) report("unknown parameter \"" + name + "\"");
    }
    ParamMap resolved;
    for (const ParamDecl& decl : decls) {
        const auto found = given.find(decl.name);
        if (found == given.end()) {
            if (decl.default_value) {
                resolved.emplace(decl.name, *decl.default_value);
            } else {
                report("parameter \"" + decl.name + "\" is required (it has no default)");
            }
            continue;
        }
        const auto converted = detail::convert_param(found->second, decl.type);
        if (!converted) {
            report("parameter \"" + decl.name + "\": expected " + to_string(decl.type) + ", found " +
                   found->second.to_json());
            continue;
        }
        if (const std::string problem = detail::param_problem(decl, *converted); !problem.empty()) {
            report("parameter \"" + decl.name + "\": " + problem);
            continue;
        }
        resolved.emplace(decl.name, *converted);
    }
    if (!problems.empty())
        throw HarnessError("invalid params for component '" + std::string(component_id) + "':" + problems);
    return resolved;
}

/// Parameters as a JSON object (what params_json() hands the component).
inline std::string params_to_json(const ParamMap& params) {
    std::string out = "{";
    for (const auto& [name, value] : params) {
        if (out.size() > 1) out += ",";
        out += ParamValue::string_to_json(name) + ":" + value.to_json();
    }
    return out + "}";
}

/// resolve_params for a component that declares parameters per node (SDK 1.3 node_params_schema, e.g. the
/// python plugin's class parameters): the keys decls declares are resolved as above; the others are checked
/// against what the hook declares for these params, as `dhub-kernel --validate` does, and passed on as given
/// (no defaults filled in: the component applies its own, as in a kernel).
inline ParamMap resolve_node_params(const std::vector<ParamDecl>& decls,
                                    const ParamMap& given,
                                    std::string_view component_id,
                                    const char* (*node_params_schema)(const char*)) {
    ParamMap declared_given;
    ParamMap others;
    for (const auto& [name, value] : given) {
        // A plain reference: lambdas may not capture structured bindings before Clang 16.
        const std::string& key = name;
        const bool declared =
            std::any_of(decls.begin(), decls.end(), [&key](const ParamDecl& decl) { return decl.name == key; });
        (declared ? declared_given : others).emplace(name, value);
    }
    ParamMap resolved = resolve_params(decls, declared_given, component_id);
    ParamMap node_params = resolved;
    node_params.insert(others.begin(), others.end());
    const char* answer = node_params_schema(params_to_json(node_params).c_str());
    const std::string text = answer != nullptr ? answer : "";
    const std::string where = "component '" + std::string(component_id) + "'";
    detail::JsonValue document;
    try {
        document = detail::JsonReader(text).parse_document();
    } catch (const std::invalid_argument& error) {
        throw HarnessError(where + ": node_params_schema returned no JSON: " + error.what());
    }
    if (const detail::JsonValue* error = document.find("error"); error != nullptr) {
        throw HarnessError(where + " refuses these params: " + error->text);
    }
    // Checked, then passed on as given: the kernel fills no defaults in for them either (create() does).
    (void)resolve_params(parse_params_schema(text, component_id), others, component_id);
    resolved.insert(others.begin(), others.end());
    return resolved;
}

}  // namespace dhub::sdk::testing
