// SPDX-License-Identifier: Apache-2.0
// Reading a schema document (a file of configs/schemas/, an entry of a graph's "schemas", a segment's
// stored descriptor). Every problem is reported at once, each with its JSON path, and defaults are filled
// in the way docs/schemas.md says (offsets packed as a C compiler would, size rounded up to the alignment).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/schema/schema.hpp"

namespace dhub::schema {

struct Problem {
    std::string json_path;  ///< below the path given to parse_schema: "/schemas/0/fields/2/dtype"
    std::string message;
};

/// nullopt when there is any problem (all of them are appended to problems).
std::optional<Schema> parse_schema(const nlohmann::json& document,
                                   const std::string& json_path,
                                   std::vector<Problem>& problems);

}  // namespace dhub::schema
