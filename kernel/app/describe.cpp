// SPDX-License-Identifier: Apache-2.0
#include "describe.hpp"

#include "dhub/schema/schema_text.hpp"

#include <algorithm>
#include <filesystem>

namespace dhub::kernel_app {
namespace {

void print_summary(const plugin::LoadedPlugin& loaded, std::ostream& out) {
    out << loaded.name << " " << loaded.version << "  (SDK " << loaded.abi_major << "." << loaded.abi_minor << ", "
        << loaded.license << ")  " << loaded.path.string() << "\n";
    if (!loaded.description.empty()) out << "  " << loaded.description << "\n";
    for (const auto& component : loaded.components) {
        out << "  " << component.id << " v" << component.version << "  " << plugin::to_string(component.kind)
            << (component.mode == plugin::ComponentMode::Queue ? " (queue mode)" : "") << "  " << component.description
            << "\n";
    }
}

void print_params(const std::vector<plugin::ParamSpec>& params, std::ostream& out) {
    for (const auto& param : params) {
        out << "  " << param.name << " (" << plugin::to_string(param.type);
        if (!param.unit.empty()) out << ", " << param.unit;
        out << ")";
        out << (param.default_value.is_null() ? "  required" : "  default " + param.default_value.dump());
        if (param.min || param.max) {
            // An integer parameter's bounds are integers: [1, 1000000], not [1.0, 1000000.0].
            auto bound = [&param](double value) {
                return param.type == plugin::ParamType::Integer
                           ? nlohmann::json(static_cast<std::int64_t>(value)).dump()
                           : nlohmann::json(value).dump();
            };
            out << "  range [" << (param.min ? bound(*param.min) : "-inf") << ", "
                << (param.max ? bound(*param.max) : "+inf") << "]";
        }
        if (!param.enum_values.empty()) {
            out << "  one of";
            for (const auto& value : param.enum_values)
                out << " " << value;
        }
        out << "\n";
        if (!param.doc.empty()) out << "      " << param.doc << "\n";
    }
}

/// The node params a component's node_params_schema sees, as in a graph: its declared ones checked and
/// defaulted, a relative path made absolute (here against the working directory, there the graph file's).
Result<nlohmann::json> node_params_for(const plugin::ComponentInfo& component, const nlohmann::json& given) {
    nlohmann::json params = given;
    for (const plugin::ParamSpec& spec : component.params) {
        if (!params.contains(spec.name)) {
            if (spec.default_value.is_null()) {
                return Error{ErrorCode::InvalidArgument,
                             "--params lacks '" + spec.name + "', which " + component.id + " requires"};
            }
            params[spec.name] = spec.default_value;
        } else if (auto problem = plugin::check_param_value(spec, params[spec.name])) {
            return Error{ErrorCode::InvalidArgument,
                         "--params: '" + spec.name + "' of " + component.id + ": " + *problem};
        }
        if (spec.type == plugin::ParamType::Path && params[spec.name].is_string()) {
            std::error_code error;
            const auto absolute = std::filesystem::absolute(params[spec.name].get<std::string>(), error);
            if (!error) params[spec.name] = absolute.lexically_normal().string();
        }
    }
    return params;
}

/// For each component that declares parameters per node, those it declares for these params, or why not.
/// Returns how many components took the params.
int print_node_params(const plugin::LoadedPlugin& loaded, const nlohmann::json& given, std::ostream& out) {
    int accepted = 0;
    for (std::size_t index = 0; index < loaded.components.size(); ++index) {
        const plugin::ComponentInfo& component = loaded.components[index];
        if (!component.takes_node_params) continue;
        out << "\n" << component.id << " with --params " << given.dump() << "\n";
        auto params = node_params_for(component, given);
        auto declared = params ? plugin::node_params_schema(loaded.descriptors[index], component.id, params.value())
                               : Result<std::vector<plugin::ParamSpec>>(params.error());
        if (!declared) {
            out << "  not usable with these params: " << declared.error().message << "\n";
            continue;
        }
        ++accepted;
        if (declared.value().empty()) out << "  parameters: none beyond the component's\n";
        print_params(declared.value(), out);
    }
    return accepted;
}

void print_details(const plugin::LoadedPlugin& loaded, std::ostream& out) {
    print_summary(loaded, out);
    for (const auto& component : loaded.components) {
        out << "\n" << component.id << "\n";
        for (const plugin::PortInfo& port : component.ports) {
            out << "  " << plugin::to_string(port.direction) << " " << port.name << ": " << port.schema;
            if (port.min_slot_bytes > 0) out << " (slots of at least " << port.min_slot_bytes << " bytes)";
            if (port.many) out << "  one or more channels";
            if (port.optional) out << "  optional";
            out << "\n";
            if (!port.description.empty()) out << "      " << port.description << "\n";
            for (const schema::Schema& typed : component.schemas) {
                if (typed.id() != port.schema) continue;
                out << "      " << schema::layout_summary(typed) << "  " << schema::fingerprint_string(typed) << "\n"
                    << schema::field_table(typed, "      ");
            }
        }
        if (component.params.empty()) out << "  parameters: none\n";
        print_params(component.params, out);
        if (component.takes_node_params) {
            out << "  + parameters declared per node: dhub-kernel --describe " << loaded.name
                << " --params '{...}' lists them for a node's params\n";
        }
    }
}

}  // namespace

int list_plugins(plugin::PluginLoader& loader, std::ostream& out) {
    int failures = 0;
    const auto names = loader.available();
    if (names.empty()) out << "no plugins found in the search path\n";
    for (const std::string& name : names) {
        auto loaded = loader.load(name);
        if (loaded) {
            print_summary(*loaded.value(), out);
        } else {
            out << name << "  CANNOT BE LOADED: " << loaded.error().message << "\n";
            ++failures;
        }
    }
    out << "search path:";
    for (const auto& directory : loader.search_path())
        out << " " << directory.string();
    out << "\n";
    return failures;
}

ExitCode describe_plugin(plugin::PluginLoader& loader,
                         const std::string& target,
                         const std::optional<std::string>& params_json,
                         std::ostream& out,
                         std::ostream& err) {
    nlohmann::json params;
    if (params_json) {
        params = nlohmann::json::parse(*params_json, nullptr, /*allow_exceptions=*/false);
        if (!params.is_object()) {
            err << "dhub-kernel: --params must be a JSON object of a node's params, such as '{\"module\": "
                   "\"peaks\", \"class\": \"Peaks\"}'; found: '"
                << *params_json << "'\n";
            return ExitCode::Usage;
        }
    }
    const bool is_file = target.find('/') != std::string::npos || target.ends_with(".so");
    auto loaded = is_file ? loader.load_file(std::filesystem::path(target)) : loader.load(target);
    if (!loaded) {
        err << "dhub-kernel: " << loaded.error().message << "\n";
        return ExitCode::PluginError;
    }
    print_details(*loaded.value(), out);
    if (params.is_null()) return ExitCode::Ok;
    const bool any_per_node =
        std::any_of(loaded.value()->components.begin(), loaded.value()->components.end(),
                    [](const plugin::ComponentInfo& component) { return component.takes_node_params; });
    if (!any_per_node) {
        err << "dhub-kernel: --params: no component of plugin '" << loaded.value()->name
            << "' declares parameters per node; its parameters are all listed above\n";
        return ExitCode::InvalidInput;
    }
    if (print_node_params(*loaded.value(), params, out) == 0) {
        err << "dhub-kernel: --params: no component of plugin '" << loaded.value()->name
            << "' can be used with these params (see above why)\n";
        return ExitCode::InvalidInput;
    }
    return ExitCode::Ok;
}

}  // namespace dhub::kernel_app
