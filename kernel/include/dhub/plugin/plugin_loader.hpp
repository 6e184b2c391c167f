// SPDX-License-Identifier: Apache-2.0
// Finds plugins by name on a search path, loads them with Boost.DLL and validates their descriptors before
// anything uses them. A plugin that fails validation is refused whole, with an error naming the file and
// what to do. Loaded plugins stay loaded until the loader is destroyed (after every node is gone).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dhub/base/result.hpp"
#include "dhub/plugin/component_info.hpp"
#include "dhub/sdk/abi.h"

namespace dhub::plugin {

/// A validated, loaded plugin.
struct LoadedPlugin {
    std::string name;
    std::string version;
    std::string license;
    std::string description;
    std::filesystem::path path;
    std::uint16_t abi_major = 0;
    std::uint16_t abi_minor = 0;
    std::vector<ComponentInfo> components;
    /// Same order as components; copies of the plugin's descriptors, zero-extended to this SDK's size.
    std::vector<dhub_component_descriptor> descriptors;
    /// Plugin-wide set-up and tear-down (SDK 1.2, optional): GraphRunner calls them around a run's nodes.
    dhub_status (*init)(char* message, std::uint64_t message_capacity) = nullptr;
    void (*shutdown)() = nullptr;

    const dhub_component_descriptor* descriptor_of(const std::string& component_id) const noexcept;
};

/// The file name of a plugin: dhub-<name>.so.
std::string plugin_file_name(const std::string& name);

/// Search path in priority order: command line, DHUB_PLUGIN_PATH (colon-separated), the graph's own
/// plugin_path, then the install directory.
std::vector<std::filesystem::path> make_search_path(const std::vector<std::filesystem::path>& command_line,
                                                    const std::vector<std::filesystem::path>& graph);

class PluginLoader {
public:
    explicit PluginLoader(std::vector<std::filesystem::path> search_path);
    ~PluginLoader();
    PluginLoader(const PluginLoader&) = delete;
    PluginLoader& operator=(const PluginLoader&) = delete;

    /// Loads dhub-<name>.so from the first search directory that has it (cached: a second call returns
    /// the same plugin). Thread-safe; loading is serialised.
    Result<const LoadedPlugin*> load(const std::string& name);
    /// Loads one file directly (for --describe FILE and tests).
    Result<const LoadedPlugin*> load_file(const std::filesystem::path& file);
    /// Names of every dhub-*.so on the search path (first occurrence wins).
    std::vector<std::string> available() const;

    const std::vector<std::filesystem::path>& search_path() const noexcept { return search_path_; }

private:
    struct Library;
    Result<const LoadedPlugin*> load_locked(const std::filesystem::path& file);

    std::vector<std::filesystem::path> search_path_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<LoadedPlugin>> plugins_;  ///< by name
    std::vector<std::unique_ptr<Library>> libraries_;               ///< declared last: unloaded after the plugins' data
};

/// What the components of a lookup may do about node-dependent parameters (SDK 1.3 node_params_schema).
enum class NodeParams {
    Pass,  ///< a run: never call plugin code to check them; create() does
    Ask,   ///< --validate: call node_params_schema, so they are checked like declared ones
};

/// The components of a plugin by name, loading it through loader (graph::ComponentLookup for validate_graph).
std::function<Result<std::vector<ComponentInfo>>(const std::string& plugin)> component_lookup(
    PluginLoader& loader, NodeParams node_params = NodeParams::Pass);

/// Calls a component's node_params_schema (SDK 1.3) with a node's params: the declarations of the parameters
/// it takes for that node, or the component's error ("module 'peaks' failed to import: ...").
Result<std::vector<ParamSpec>> node_params_schema(const dhub_component_descriptor& descriptor,
                                                  const std::string& component_id,
                                                  const nlohmann::json& node_params);

}  // namespace dhub::plugin
