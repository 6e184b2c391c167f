// SPDX-License-Identifier: Apache-2.0
#include "dhub/plugin/plugin_loader.hpp"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "../graph/wording.hpp"
#include "descriptor_checks.hpp"
#include "dhub/sdk/version.h"

#ifndef DHUB_INSTALL_PLUGIN_DIR
#define DHUB_INSTALL_PLUGIN_DIR "/usr/local/lib/dhub-1/plugins"
#endif

namespace dhub::plugin {
namespace fs = std::filesystem;

struct PluginLoader::Library {
    boost::dll::shared_library library;
};

namespace {

std::string join(const std::vector<fs::path>& paths) {
    std::string text;
    for (const auto& path : paths)
        text += (text.empty() ? "" : ", ") + path.string();
    return text.empty() ? "(empty search path)" : text;
}

}  // namespace

const dhub_component_descriptor* LoadedPlugin::descriptor_of(const std::string& component_id) const noexcept {
    for (std::size_t i = 0; i < components.size(); ++i) {
        if (components[i].id == component_id) return &descriptors[i];
    }
    return nullptr;
}

std::string plugin_file_name(const std::string& name) {
    return "dhub-" + name + ".so";
}

std::vector<fs::path> make_search_path(const std::vector<fs::path>& command_line, const std::vector<fs::path>& graph) {
    std::vector<fs::path> path = command_line;
    if (const char* environment = std::getenv("DHUB_PLUGIN_PATH"); environment != nullptr) {
        std::stringstream entries(environment);
        for (std::string entry; std::getline(entries, entry, ':');) {
            if (!entry.empty()) path.emplace_back(entry);
        }
    }
    path.insert(path.end(), graph.begin(), graph.end());
    path.emplace_back(DHUB_INSTALL_PLUGIN_DIR);
    return path;
}

PluginLoader::PluginLoader(std::vector<fs::path> search_path) : search_path_(std::move(search_path)) {}

PluginLoader::~PluginLoader() {
    // Descriptors point into the libraries: drop them first, then unload.
    plugins_.clear();
    libraries_.clear();
}

Result<const LoadedPlugin*> PluginLoader::load(const std::string& name) {
    const std::lock_guard lock(mutex_);
    if (const auto found = plugins_.find(name); found != plugins_.end()) return found->second.get();
    if (name.empty() || name.find('/') != std::string::npos) {
        return Error{ErrorCode::InvalidArgument, "plugin name '" + name + "' must be a plain name like sim_source"};
    }
    const std::string file = plugin_file_name(name);
    for (const fs::path& directory : search_path_) {
        std::error_code ignored;
        if (fs::is_regular_file(directory / file, ignored)) return load_locked(directory / file);
    }
    // available() reads only the search path (no lock): a misspelt name gets the closest plugin there.
    const std::string suggestion = graph::detail::did_you_mean(name, available());
    return Error{ErrorCode::NotFound, "no plugin file " + file + suggestion +
                                          " in the search path: " + join(search_path_) +
                                          "; build the plugin, or add its directory with --plugin-path, "
                                          "DHUB_PLUGIN_PATH or the graph's plugin_path"};
}

Result<const LoadedPlugin*> PluginLoader::load_file(const fs::path& file) {
    const std::lock_guard lock(mutex_);
    return load_locked(file);
}

std::vector<std::string> PluginLoader::available() const {
    std::set<std::string> names;
    for (const fs::path& directory : search_path_) {
        std::error_code error;
        for (fs::directory_iterator entry(directory, error), end; !error && entry != end; entry.increment(error)) {
            const std::string file = entry->path().filename().string();
            if (file.size() > 8 && file.starts_with("dhub-") && file.ends_with(".so")) {
                names.insert(file.substr(5, file.size() - 8));
            }
        }
    }
    return {names.begin(), names.end()};
}

Result<const LoadedPlugin*> PluginLoader::load_locked(const fs::path& file) {
    const std::string where = file.string();
    auto library = std::make_unique<Library>();
    try {
        // rtld_now: a missing dependency fails here, not in the middle of a run. rtld_local: plugins
        // cannot shadow each other's symbols.
        library->library.load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& error) {
        return Error{ErrorCode::Incompatible,
                     "cannot load plugin " + where + ": " + error.what() +
                         " (an undefined symbol means the plugin needs a library or symbol the kernel does not "
                         "provide: plugins may link only dhub::sdk; rebuild it with dhub_add_plugin)"};
    }
    if (!library->library.has(DHUB_PLUGIN_ENTRY_SYMBOL)) {
        return Error{ErrorCode::Incompatible,
                     where + " is not a dhub plugin: it does not export " + DHUB_PLUGIN_ENTRY_SYMBOL +
                         " (declare the plugin with DHUB_PLUGIN(...) from dhub/sdk/plugin.hpp)"};
    }
    const auto entry = library->library.get<const dhub_plugin_descriptor*()>(DHUB_PLUGIN_ENTRY_SYMBOL);
    auto checked = check_plugin_descriptor(entry(), file);
    if (!checked) return checked.error();
    auto plugin = std::make_unique<LoadedPlugin>(std::move(checked.value()));
    for (const auto& [name, loaded] : plugins_) {
        if (name == plugin->name) {
            return Error{ErrorCode::AlreadyExists, "plugin '" + plugin->name + "' is loaded twice: from " +
                                                       loaded->path.string() + " and from " + where};
        }
        for (const auto& mine : plugin->components) {
            for (const auto& theirs : loaded->components) {
                if (mine.id == theirs.id) {
                    return Error{ErrorCode::AlreadyExists, "component id '" + mine.id + "' is declared by " + where +
                                                               " and by " + loaded->path.string() +
                                                               "; component ids must be unique"};
                }
            }
        }
    }
    const LoadedPlugin* result = plugin.get();
    plugins_.emplace(plugin->name, std::move(plugin));
    libraries_.push_back(std::move(library));
    return result;
}

std::function<Result<std::vector<ComponentInfo>>(const std::string& plugin)> component_lookup(PluginLoader& loader,
                                                                                              NodeParams node_params) {
    return [&loader, node_params](const std::string& name) -> Result<std::vector<ComponentInfo>> {
        auto loaded = loader.load(name);
        if (!loaded) return loaded.error();
        const LoadedPlugin& plugin = *loaded.value();
        std::vector<ComponentInfo> components = plugin.components;
        if (node_params == NodeParams::Pass) return components;
        for (std::size_t index = 0; index < components.size(); ++index) {
            if (!components[index].takes_node_params) continue;
            // The descriptor copy lives in the loader, as long as the library stays loaded.
            const dhub_component_descriptor* descriptor = &plugin.descriptors[index];
            components[index].node_params_schema = [descriptor,
                                                    id = components[index].id](const nlohmann::json& params) {
                return plugin::node_params_schema(*descriptor, id, params);
            };
        }
        return components;
    };
}

Result<std::vector<ParamSpec>> node_params_schema(const dhub_component_descriptor& descriptor,
                                                  const std::string& component_id,
                                                  const nlohmann::json& node_params) {
    if (descriptor.node_params_schema == nullptr) return std::vector<ParamSpec>{};
    const char* text = descriptor.node_params_schema(node_params.dump().c_str());
    const std::string where = "component '" + component_id + "'";
    if (text == nullptr) return Error{ErrorCode::InvalidArgument, where + ": node_params_schema returned nothing"};
    const nlohmann::json answer = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) {
        return Error{ErrorCode::InvalidArgument, answer["error"].get<std::string>()};
    }
    if (!answer.is_array()) {
        return Error{ErrorCode::InvalidArgument,
                     where +
                         ": node_params_schema returned neither a JSON array of parameter declarations nor "
                         "{\"error\": ...}; fix the plugin"};
    }
    return parse_param_schema(text, component_id, "node_params_schema answer");
}

}  // namespace dhub::plugin
