// SPDX-License-Identifier: Apache-2.0
// Reads JSON text into a document for the graph parser. Unlike nlohmann::json::parse it reports a
// duplicate key (which would otherwise silently replace the first value), refuses absurd nesting before it
// can exhaust the stack of any later recursive walk, and gives syntax errors as line and column.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph::detail {

/// A graph document needs five levels; 64 leaves room for any sane params and stops hostile input.
inline constexpr std::size_t MAX_JSON_DEPTH = 64;

/// The document, or nullopt with the syntax error (path "") appended to issues. Duplicate keys are
/// appended as issues at their path but do not make the document unreadable.
std::optional<nlohmann::json> read_json(std::string_view text, std::vector<GraphIssue>& issues);

}  // namespace dhub::graph::detail
