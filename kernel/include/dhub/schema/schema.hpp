// SPDX-License-Identifier: Apache-2.0
// A typed schema: a named, versioned description of what one slot holds, rich enough for numpy and for any
// language — fields with a numpy dtype, a shape and an offset; the slot's size and alignment; an encoding.
// Its identity is the BLAKE2b-256 of a canonical JSON form that docs/schemas.md defines byte for byte, so
// that a Python or Rust peer computes the same fingerprint without this code.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/schema/dtype.hpp"

namespace dhub::schema {

enum class Encoding : std::uint8_t {
    Struct,   ///< a C struct: fields at fixed offsets
    Ndarray,  ///< one n-dimensional array (one field at offset 0)
    Bytes,    ///< opaque bytes of at least `size`; no fields
    External  ///< a format with its own descriptor (protobuf, flatbuffers, ...); no fields
};
const char* to_string(Encoding encoding) noexcept;
std::optional<Encoding> encoding_from_string(std::string_view text) noexcept;

struct Field {
    std::string name;
    Dtype dtype;
    std::vector<std::uint64_t> shape;  ///< empty: a scalar
    std::uint64_t offset = 0;
    std::string doc;  ///< not part of the identity

    std::uint64_t element_count() const noexcept;
    std::uint64_t byte_size() const noexcept { return element_count() * dtype.itemsize; }
    /// Same name, dtype, shape and offset (the doc does not count).
    bool same_layout(const Field& other) const noexcept;
};

struct Schema {
    std::string name;  ///< "lab.thermo"
    std::uint32_t version = 1;
    Encoding encoding = Encoding::Struct;
    std::uint64_t size = 0;   ///< bytes of one slot's value; a slot may be larger
    std::uint32_t align = 1;  ///< alignment the value needs in the slot
    std::vector<Field> fields;
    std::string external_format;           ///< Encoding::External: "protobuf", "flatbuffers", ...
    std::vector<std::uint8_t> descriptor;  ///< Encoding::External: the format's own descriptor bytes
    std::string doc;                       ///< not part of the identity

    /// "lab.thermo@1": how graphs and plugins name it.
    std::string id() const;
    const Field* field(std::string_view field_name) const noexcept;
};

using Fingerprint = std::array<std::uint8_t, 32>;

/// The canonical form (docs/schemas.md): every default filled in, docs left out, keys sorted, no spaces.
std::string canonical_json(const Schema& schema);
/// BLAKE2b-256 of canonical_json().
Fingerprint fingerprint(const Schema& schema);
/// The 32 bytes a channel's segment stores to name its schema (shm::ChannelConfig::schema_hash): BLAKE2b-256 of the
/// id ("lab.thermo@1"); all zero for "" or "*", which the DataBlock takes as "unchecked". Every writer of a channel
/// (the kernel, the Python package) computes it here.
Fingerprint id_hash(std::string_view schema_id);
/// "dhs1_" + 64 lower-case hex digits of fingerprint(): the identity printed and exchanged.
std::string fingerprint_string(const Schema& schema);

/// The schema as a JSON document (canonical content plus the docs), which parse_schema reads back.
nlohmann::json to_json(const Schema& schema);

/// Splits "name@version"; nullopt when there is no '@' followed by a positive decimal version.
struct SchemaRef {
    std::string name;
    std::uint32_t version = 0;
};
std::optional<SchemaRef> parse_schema_id(std::string_view id) noexcept;

}  // namespace dhub::schema
