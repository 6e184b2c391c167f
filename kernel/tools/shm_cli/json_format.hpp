// SPDX-License-Identifier: Apache-2.0
// Machine-readable output of `dhub-shm inspect --json`. Field names are snake_case and stable: scripts and
// tests depend on them, so add fields but never rename or remove one.
#pragma once

#include <nlohmann/json.hpp>

#include "dhub/shm/inspect.hpp"

namespace dhub::tools {

nlohmann::ordered_json to_json(const shm::ChannelInfo& info);

}  // namespace dhub::tools
