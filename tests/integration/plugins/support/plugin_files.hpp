// SPDX-License-Identifier: Apache-2.0
// Where the built plugins are and which ones this build has: the test program loads the real
// dhub-<name>.so files, as the kernel does.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dhub/sdk/testing/plugin_library.hpp"

namespace dhub::test {

/// The plugin directory of this build (${CMAKE_BINARY_DIR}/plugins).
inline std::filesystem::path plugin_directory() {
    return DHUB_TEST_PLUGIN_DIR;
}

inline std::filesystem::path plugin_file(std::string_view name) {
    return plugin_directory() / ("dhub-" + std::string(name) + ".so");
}

/// The names of the plugins this build enables (DHUB_PLUGIN_<NAME>).
inline std::vector<std::string> built_plugins() {
    std::vector<std::string> names;
    std::string_view list = DHUB_TEST_PLUGINS;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        names.emplace_back(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    return names;
}

/// The component with that id from plugin dhub-<plugin>.so (loaded once, never unloaded).
inline const dhub_component_descriptor* plugin_component(std::string_view plugin, std::string_view component_id) {
    static std::map<std::string, std::unique_ptr<sdk::testing::PluginLibrary>, std::less<>> loaded;
    auto found = loaded.find(plugin);
    if (found == loaded.end()) {
        found = loaded
                    .emplace(std::string(plugin), std::make_unique<sdk::testing::PluginLibrary>(
                                                      sdk::testing::PluginLibrary::open(plugin_file(plugin))))
                    .first;
    }
    return found->second->component(component_id);
}

}  // namespace dhub::test
