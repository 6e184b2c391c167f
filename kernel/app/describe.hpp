// SPDX-License-Identifier: Apache-2.0
// --list-plugins and --describe: what the descriptors declare, for people.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "dhub/base/exit_code.hpp"
#include "dhub/plugin/plugin_loader.hpp"

namespace dhub::kernel_app {

/// One block per plugin on the search path; unloadable ones are listed with their error. Returns the
/// number of plugins that failed to load.
int list_plugins(plugin::PluginLoader& loader, std::ostream& out);

/// Everything one plugin declares. target is a plugin name or a path to a .so. With params_json (a node's
/// params), also what its components declare per node for those params (SDK 1.3; a Python class's).
ExitCode describe_plugin(plugin::PluginLoader& loader,
                         const std::string& target,
                         const std::optional<std::string>& params_json,
                         std::ostream& out,
                         std::ostream& err);

}  // namespace dhub::kernel_app
