// SPDX-License-Identifier: Apache-2.0
#include "node_check.hpp"

#include <algorithm>
#include <charconv>

#include "json_fields.hpp"
#include "wording.hpp"

namespace dhub::graph::detail {
namespace {

using plugin::ComponentInfo;
using plugin::ParamSpec;

/// "dhub.sink.file@2" → ("dhub.sink.file", 2); anything else is an id without a version.
std::pair<std::string, std::optional<std::uint32_t>> split_version(const std::string& text) {
    const std::size_t at = text.rfind('@');
    if (at == std::string::npos || at + 1 == text.size()) return {text, std::nullopt};
    std::uint32_t version = 0;
    const char* first = text.data() + at + 1;
    const char* last = text.data() + text.size();
    const auto [end, error] = std::from_chars(first, last, version);
    if (error != std::errc() || end != last) return {text, std::nullopt};
    return {text.substr(0, at), version};
}

/// Each id once (a plugin may register several versions of one component), in declaration order.
std::vector<std::string> component_ids(const std::vector<ComponentInfo>& components) {
    std::vector<std::string> ids;
    for (const ComponentInfo& component : components) {
        if (std::find(ids.begin(), ids.end(), component.id) == ids.end()) ids.push_back(component.id);
    }
    return ids;
}

const ComponentInfo* newest(const std::vector<const ComponentInfo*>& candidates) {
    if (candidates.empty()) return nullptr;
    return *std::max_element(candidates.begin(), candidates.end(),
                             [](const ComponentInfo* a, const ComponentInfo* b) { return a->version < b->version; });
}

std::string describe_param(const ParamSpec& spec) {
    std::string text = plugin::to_string(spec.type);
    if (spec.min || spec.max) {
        const auto bound = [](const std::optional<double>& value, const char* infinite) {
            return value ? nlohmann::json(*value).dump() : std::string(infinite);
        };
        text += " in [" + bound(spec.min, "-inf") + ", " + bound(spec.max, "+inf") + "]";
    }
    if (!spec.enum_values.empty()) text += ", one of " + join_quoted(spec.enum_values);
    if (!spec.unit.empty()) text += ", " + spec.unit;
    if (!spec.doc.empty()) text += ": " + spec.doc;
    return text;
}

/// Whether a node with these inputs and outputs can only mean a component of this kind: a source has outputs
/// only, a sink inputs only, a stage both. Validators and transports are never chosen this way.
bool wiring_fits(const ComponentInfo& component, const NodeSpec& node) {
    const bool reads = !node.inputs.empty();
    const bool writes = !node.outputs.empty();
    switch (component.kind) {
        case plugin::ComponentKind::Source:
            return writes && !reads;
        case plugin::ComponentKind::Stage:
            return writes && reads;
        case plugin::ComponentKind::Sink:
            return reads && !writes;
        default:
            return false;
    }
}

}  // namespace

std::string describe_component(const ComponentInfo& component) {
    return "component " + component.id + " (" + plugin::to_string(component.kind) + ")";
}

std::optional<ComponentInfo> pick_component(const NodeSpec& node,
                                            const std::vector<ComponentInfo>& components,
                                            Issues& issues) {
    const std::string plugin_text = "plugin '" + node.plugin + "'";
    if (components.empty()) {
        issues.push_back(
            {node.json_path + "/plugin", plugin_text + " declares no components; it cannot be used in a graph"});
        return std::nullopt;
    }
    const std::vector<std::string> ids = component_ids(components);
    if (!node.component) {
        std::vector<const ComponentInfo*> all;
        for (const ComponentInfo& component : components)
            all.push_back(&component);
        // Several versions of one component are one choice: the newest, unless the graph pins one.
        if (ids.size() == 1) return *newest(all);
        // A plugin with one source, one stage and one sink (the python plugin): the wiring says which.
        std::vector<const ComponentInfo*> fitting;
        for (const ComponentInfo* component : all) {
            if (wiring_fits(*component, node)) fitting.push_back(component);
        }
        const bool one_fits = !fitting.empty() &&
                              std::all_of(fitting.begin(), fitting.end(),
                                          [&](const auto* component) { return component->id == fitting.front()->id; });
        if (one_fits) return *newest(fitting);
        issues.push_back({node.json_path, plugin_text + " has " + std::to_string(ids.size()) +
                                              " components: add \"component\" with one of " + join_quoted(ids)});
        return std::nullopt;
    }
    const auto [id, version] = split_version(*node.component);
    std::vector<const ComponentInfo*> matching;
    std::vector<std::string> versions;
    for (const ComponentInfo& component : components) {
        if (component.id != id) continue;
        versions.push_back(std::to_string(component.version));
        if (!version || component.version == *version) matching.push_back(&component);
    }
    if (const ComponentInfo* found = newest(matching)) return *found;
    if (!versions.empty()) {
        issues.push_back({node.json_path + "/component",
                          plugin_text + " provides " + id + " in version " + join(versions) + ", not " +
                              std::to_string(version.value_or(0)) + "; pin one of those or drop the \"@\" suffix"});
    } else {
        issues.push_back({node.json_path + "/component", plugin_text + " has no component '" + id + "'; it provides " +
                                                             join_quoted(ids) + did_you_mean(id, ids)});
    }
    return std::nullopt;
}

namespace {

/// One rule for every path in a graph: relative to the graph file, so a graph runs the same from any
/// working directory.
nlohmann::json resolve_path(const nlohmann::json& value, const std::filesystem::path& graph_directory) {
    const std::filesystem::path path = value.get<std::string>();
    if (path.is_absolute() || graph_directory.empty()) return value;
    std::error_code error;  // absolute() fails only without a working directory: then keep it relative
    const std::filesystem::path resolved = std::filesystem::absolute(graph_directory / path, error);
    return (error ? graph_directory / path : resolved).lexically_normal().string();
}

const ParamSpec* find_param(const std::vector<ParamSpec>& specs, const std::string& name) {
    const auto found =
        std::find_if(specs.begin(), specs.end(), [&name](const ParamSpec& spec) { return spec.name == name; });
    return found == specs.end() ? nullptr : &*found;
}

std::vector<std::string> names_of(const std::vector<ParamSpec>& specs) {
    std::vector<std::string> names;
    for (const ParamSpec& spec : specs)
        names.push_back(spec.name);
    return names;
}

/// A value the declarations say is wrong, at its key; nullopt when it is fine.
std::optional<std::string> value_problem(const ParamSpec& spec, const nlohmann::json& value, const std::string& whose) {
    if (auto problem = plugin::check_param_value(spec, value))
        return "invalid value for parameter '" + spec.name + "' of " + whose + ": " + *problem;
    return std::nullopt;
}

void report_missing(const std::vector<ParamSpec>& specs,
                    const nlohmann::json& given,
                    const std::string& params_path,
                    const std::string& whose,
                    Issues& issues) {
    for (const ParamSpec& spec : specs) {
        if (given.contains(spec.name) || !spec.default_value.is_null()) continue;
        issues.push_back({params_path, "missing required parameter '" + spec.name + "' of " + whose + " (" +
                                           describe_param(spec) + "); add \"" + spec.name + "\": <value>"});
    }
}

/// The parameters a component declares for this node (SDK 1.3 node_params_schema, e.g. a Python class's):
/// checked like declared ones where the kernel may ask the plugin (--validate); passed on as they are in a run.
void check_node_params(const ComponentInfo& component,
                       const nlohmann::json& applied,
                       const nlohmann::json& extra,
                       const std::string& params_path,
                       Issues& issues) {
    if (!component.node_params_schema) return;
    nlohmann::json node_params = applied;
    node_params.update(extra);
    auto declared = component.node_params_schema(node_params);
    if (!declared) {
        issues.push_back({params_path, describe_component(component) + ": " + declared.error().message});
        return;
    }
    const std::string whose = describe_component(component) + " for these params";
    const std::vector<std::string> names = names_of(declared.value());
    std::vector<std::string> all_names = names_of(component.params);
    all_names.insert(all_names.end(), names.begin(), names.end());
    for (const auto& [name, value] : extra.items()) {
        const ParamSpec* spec = find_param(declared.value(), name);
        if (spec == nullptr) {
            issues.push_back({child_path(params_path, name), "unknown parameter of " + whose +
                                                                 "; declared parameters: " + join(all_names) +
                                                                 did_you_mean(name, names)});
        } else if (auto problem = value_problem(*spec, value, whose)) {
            issues.push_back({child_path(params_path, name), *problem});
        }
    }
    for (const ParamSpec& spec : declared.value()) {
        if (find_param(component.params, spec.name) != nullptr) {
            issues.push_back({params_path, whose + " declares '" + spec.name +
                                               "', a parameter the component itself declares; rename it"});
        }
    }
    report_missing(declared.value(), node_params, params_path, whose, issues);  // a clash is reported once
}

}  // namespace

nlohmann::json apply_params(const NodeSpec& node,
                            const ComponentInfo& component,
                            const std::filesystem::path& graph_directory,
                            Issues& issues) {
    nlohmann::json applied = nlohmann::json::object();
    nlohmann::json extra = nlohmann::json::object();  // keys for node_params_schema
    const std::string params_path = node.json_path + "/params";
    const std::string whose = describe_component(component);
    const std::size_t issues_before = issues.size();
    if (!node.params.is_object()) {
        issues.push_back({params_path, "expected an object of parameter values, found " + describe(node.params)});
    } else {
        const std::vector<std::string> declared = names_of(component.params);
        for (const auto& [name, value] : node.params.items()) {
            const ParamSpec* spec = find_param(component.params, name);
            if (spec == nullptr && component.takes_node_params) {
                extra[name] = value;
            } else if (spec == nullptr) {
                issues.push_back({child_path(params_path, name),
                                  declared.empty() ? whose + " takes no parameters; remove it"
                                                   : "unknown parameter of " + whose + "; declared parameters: " +
                                                         join(declared) + did_you_mean(name, declared)});
            } else if (auto problem = value_problem(*spec, value, whose)) {
                issues.push_back({child_path(params_path, name), *problem});
            } else {
                applied[name] = spec->type == plugin::ParamType::Path ? resolve_path(value, graph_directory) : value;
            }
        }
    }
    for (const ParamSpec& spec : component.params) {
        if (applied.contains(spec.name) || spec.default_value.is_null()) continue;
        if (node.params.is_object() && node.params.contains(spec.name)) continue;  // invalid: reported above
        applied[spec.name] = spec.type == plugin::ParamType::Path && spec.default_value.is_string()
                                 ? resolve_path(spec.default_value, graph_directory)
                                 : spec.default_value;
    }
    report_missing(component.params, node.params.is_object() ? node.params : nlohmann::json::object(), params_path,
                   whose, issues);
    // The component is asked only about params that passed its own declarations: it may rely on them.
    if (issues.size() == issues_before) check_node_params(component, applied, extra, params_path, issues);
    applied.update(extra);
    return applied;
}

void check_pacing(const NodeSpec& node, const ComponentInfo& component, Issues& issues) {
    if (!node.pacing) return;
    if (component.kind != plugin::ComponentKind::Source || !node.inputs.empty()) {
        issues.push_back({node.json_path + "/pacing", "\"pacing\" sets the rate of a source's calls; " +
                                                          describe_component(component) +
                                                          " is called when its input has a slot: remove it"});
    } else if (component.mode != plugin::ComponentMode::Realtime) {
        issues.push_back({node.json_path + "/pacing",
                          describe_component(component) +
                              " is a queue-mode source: it drives itself in run(), so the kernel cannot pace its "
                              "calls; pace it inside (sleep_until), or remove \"pacing\""});
    }
}

}  // namespace dhub::graph::detail
