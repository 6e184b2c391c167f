// SPDX-License-Identifier: Apache-2.0
#include "describe.hpp"

#include "dhub/schema/schema_text.hpp"

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
        for (const auto& param : component.params) {
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

int describe_plugin(plugin::PluginLoader& loader, const std::string& target, std::ostream& out, std::ostream& err) {
    const bool is_file = target.find('/') != std::string::npos || target.ends_with(".so");
    auto loaded = is_file ? loader.load_file(std::filesystem::path(target)) : loader.load(target);
    if (!loaded) {
        err << "dhub-kernel: " << loaded.error().message << "\n";
        return 1;
    }
    print_details(*loaded.value(), out);
    return 0;
}

}  // namespace dhub::kernel_app
