// SPDX-License-Identifier: Apache-2.0
// A schema for people: one summary line and a table of fields, as dhub-shm inspect and
// dhub-kernel --list-schemas print them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dhub/schema/schema.hpp"

namespace dhub::schema {

/// "[512, 512]"; "[]" for a scalar.
std::string shape_text(const std::vector<std::uint64_t>& shape);
/// "struct, 48 bytes, align 8".
std::string layout_summary(const Schema& schema);
/// "FIELD DTYPE SHAPE OFFSET" and one line per field, each line starting with indent and ending in '\n';
/// "" for a schema without fields.
std::string field_table(const Schema& schema, std::string_view indent);

}  // namespace dhub::schema
