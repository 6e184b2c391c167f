// SPDX-License-Identifier: Apache-2.0
// The graph's "schemas": typed slot schemas declared inline or by file, so that channels naming them get
// their size, fields and evolution rule checked (docs/schemas.md).
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/schema/schema.hpp"
#include "json_fields.hpp"

namespace dhub::graph::detail {

/// Each entry of "schemas": a schema object, or the path of a schema file (relative to the graph file).
/// Every problem at its path; a file's own problems name the file and the path inside it. Only schemas
/// without problems are returned, each id once.
std::vector<schema::Schema> parse_schema_declarations(const nlohmann::json& root,
                                                      const std::filesystem::path& source_file,
                                                      Issues& issues);

}  // namespace dhub::graph::detail
