// SPDX-License-Identifier: Apache-2.0
// Validation of what a plugin's entry point returns, before any of it is used: versions, sizes, names,
// required callbacks per kind and mode, parameter schemas.
#pragma once

#include <filesystem>

#include "dhub/base/result.hpp"
#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/sdk/abi.h"

namespace dhub::plugin {

/// Everything about the descriptor, or an error naming the file and the field.
Result<LoadedPlugin> check_plugin_descriptor(const dhub_plugin_descriptor* descriptor,
                                             const std::filesystem::path& file);

}  // namespace dhub::plugin
