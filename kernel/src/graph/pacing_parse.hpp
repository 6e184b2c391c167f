// SPDX-License-Identifier: Apache-2.0
// The shape of a node's "pacing": {"rate_hz": 1000, "late": "catch_up" | "skip"}.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/graph/graph_spec.hpp"
#include "json_fields.hpp"

namespace dhub::graph::detail {

/// The node's "pacing", if present and well-formed (otherwise issues say why).
std::optional<Pacing> parse_pacing(const nlohmann::json& entry, const std::string& path, Issues& issues);

}  // namespace dhub::graph::detail
