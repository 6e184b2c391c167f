// SPDX-License-Identifier: Apache-2.0
// The loader's checks on a plugin of one component, built in memory: what a test of a descriptor field needs
// without a .so file.
#pragma once

#include <string>

#include "descriptor_checks.hpp"
#include "dhub/sdk/version.h"

namespace dhub::plugin::testing {

/// A plugin `name` of this SDK's version holding only `component`, checked as the loader would check
/// /plugins/dhub-<name>.so.
inline Result<LoadedPlugin> load_one_component(const dhub_component_descriptor& component, const std::string& name) {
    const dhub_component_descriptor* components[] = {&component};
    dhub_plugin_descriptor plugin{};
    plugin.struct_size = sizeof plugin;
    plugin.abi_major = DHUB_SDK_VERSION_MAJOR;
    plugin.abi_minor = DHUB_SDK_VERSION_MINOR;
    plugin.name = name.c_str();
    plugin.version = "1.0.0";
    plugin.component_count = 1;
    plugin.components = components;
    return check_plugin_descriptor(&plugin, "/plugins/dhub-" + name + ".so");
}

}  // namespace dhub::plugin::testing
