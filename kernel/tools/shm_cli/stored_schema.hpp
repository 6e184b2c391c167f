// SPDX-License-Identifier: Apache-2.0
// The typed schema a segment stores (docs/schemas.md), read back for `dhub-shm inspect`: its id,
// fingerprint and fields, or why the stored bytes are not a schema.
#pragma once

#include <optional>
#include <string>

#include "dhub/schema/schema.hpp"

namespace dhub::tools {

struct StoredSchema {
    std::optional<schema::Schema> schema;  ///< set when the descriptor parses
    std::string error;                     ///< set when it does not: the first problem, with its path
};

/// nullopt when the segment stores no descriptor (an opaque schema id, or none).
std::optional<StoredSchema> read_stored_schema(const std::string& descriptor);

}  // namespace dhub::tools
