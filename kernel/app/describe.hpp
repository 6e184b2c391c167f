// SPDX-License-Identifier: Apache-2.0
// --list-plugins and --describe: what the descriptors declare, for people.
#pragma once

#include <ostream>

#include "dhub/plugin/plugin_loader.hpp"

namespace dhub::kernel_app {

/// One block per plugin on the search path; unloadable ones are listed with their error. Returns the
/// number of plugins that failed to load.
int list_plugins(plugin::PluginLoader& loader, std::ostream& out);

/// Everything one plugin declares. target is a plugin name or a path to a .so.
int describe_plugin(plugin::PluginLoader& loader, const std::string& target, std::ostream& out, std::ostream& err);

}  // namespace dhub::kernel_app
