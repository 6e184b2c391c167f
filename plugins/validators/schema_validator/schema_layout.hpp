// SPDX-License-Identifier: Apache-2.0
// The layout of a typed schema (docs/schemas.md) as a validator needs it: each field's numpy type, shape and
// offset, and the value's size. Read from the JSON document the kernel hands a node for a port
// (NodeContext::schema_document), in which every default is already filled in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dhub::plugins::schema_validator {

struct FieldLayout {
    std::string name;
    char byte_order = '|';  ///< '<' little-endian, '>' big-endian, '|' none (single bytes, byte strings)
    char kind = 'u';        ///< numpy kind: b, i, u, f, c, S, V
    std::uint32_t itemsize = 1;
    std::vector<std::uint64_t> shape;  ///< empty: a scalar
    std::uint64_t offset = 0;
    std::uint64_t elements = 1;  ///< product of shape

    std::uint64_t end() const noexcept { return offset + elements * itemsize; }
};

struct SchemaLayout {
    std::string id;                   ///< "lab.thermo@2"
    std::string encoding = "struct";  ///< struct, ndarray, bytes or external
    std::uint64_t size = 0;           ///< bytes of one value
    std::vector<FieldLayout> fields;  ///< none for bytes and external
};

/// Reads a schema document; throws std::invalid_argument saying what is missing or wrong.
SchemaLayout read_schema_layout(std::string_view document);

}  // namespace dhub::plugins::schema_validator
