// SPDX-License-Identifier: Apache-2.0
// Whether a reader built for one schema may read slots written with another. The evolution rule
// (docs/schemas.md): a reader of version N accepts version N+k of the same schema when N+k only appended
// fields (and grew the size to hold them); anything else is refused, naming the first field that differs.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dhub/schema/schema.hpp"

namespace dhub::schema {

struct Verdict {
    bool accepted = false;
    /// Refused: names the schema, both versions and the first difference, and what to do. Empty if accepted.
    std::string why;
};

/// May a reader expecting `expected` read slots written as `written`?
Verdict check_readable(const Schema& expected, const Schema& written);

/// The same over two schema documents, as a segment stores them and a broker registration carries them. A
/// document that does not parse is refused, naming which one and its first problem.
Verdict check_readable(const nlohmann::json& expected, const nlohmann::json& written);

}  // namespace dhub::schema
