// SPDX-License-Identifier: Apache-2.0
#include "dhub/schema/schema.hpp"

#include <sodium.h>

#include <charconv>
#include <span>

#include "dhub/shm/checksum.hpp"

namespace dhub::schema {
namespace {

std::string base64(const std::vector<std::uint8_t>& bytes) {
    if (bytes.empty()) return {};  // libsodium must not see the null data() of an empty vector
    std::string text(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    text.resize(text.size() - 1);  // the terminating NUL sodium writes
    return text;
}

/// What the identity covers: every member but the docs. nlohmann's object keeps keys sorted, which is the
/// canonical order.
nlohmann::json identity_json(const Schema& schema) {
    nlohmann::json fields = nlohmann::json::array();
    for (const Field& field : schema.fields) {
        fields.push_back(
            {{"name", field.name}, {"dtype", field.dtype.str()}, {"shape", field.shape}, {"offset", field.offset}});
    }
    nlohmann::json json = {{"name", schema.name},
                           {"version", schema.version},
                           {"encoding", to_string(schema.encoding)},
                           {"size", schema.size},
                           {"align", schema.align}};
    // Each encoding has exactly the members parse_schema accepts for it, so the document reads back.
    if (schema.encoding == Encoding::Struct || schema.encoding == Encoding::Ndarray) json["fields"] = fields;
    if (schema.encoding == Encoding::External) {
        json["external"] = {{"format", schema.external_format}, {"descriptor", base64(schema.descriptor)}};
    }
    return json;
}

}  // namespace

const char* to_string(Encoding encoding) noexcept {
    switch (encoding) {
        case Encoding::Struct:
            return "struct";
        case Encoding::Ndarray:
            return "ndarray";
        case Encoding::Bytes:
            return "bytes";
        case Encoding::External:
            return "external";
    }
    return "?";
}

std::optional<Encoding> encoding_from_string(std::string_view text) noexcept {
    for (const Encoding encoding : {Encoding::Struct, Encoding::Ndarray, Encoding::Bytes, Encoding::External}) {
        if (text == to_string(encoding)) return encoding;
    }
    return std::nullopt;
}

std::uint64_t Field::element_count() const noexcept {
    std::uint64_t count = 1;
    for (const std::uint64_t extent : shape)
        count *= extent;
    return count;
}

bool Field::same_layout(const Field& other) const noexcept {
    return name == other.name && dtype == other.dtype && shape == other.shape && offset == other.offset;
}

std::string Schema::id() const {
    return name + "@" + std::to_string(version);
}

const Field* Schema::field(std::string_view field_name) const noexcept {
    for (const Field& candidate : fields) {
        if (candidate.name == field_name) return &candidate;
    }
    return nullptr;
}

std::string canonical_json(const Schema& schema) {
    // Compact, keys sorted, non-ASCII as UTF-8: what Python's json.dumps(sort_keys=True,
    // separators=(",", ":"), ensure_ascii=False) writes for the same document.
    return identity_json(schema).dump();
}

Fingerprint id_hash(std::string_view schema_id) {
    if (schema_id.empty() || schema_id == "*") return Fingerprint{};
    return shm::blake2b_256(std::as_bytes(std::span(schema_id.data(), schema_id.size())));
}

Fingerprint fingerprint(const Schema& schema) {
    const std::string canonical = canonical_json(schema);
    return shm::blake2b_256(std::as_bytes(std::span(canonical.data(), canonical.size())));
}

std::string fingerprint_string(const Schema& schema) {
    const Fingerprint digest = fingerprint(schema);
    return "dhs1_" + shm::to_hex(digest.data(), digest.size());
}

nlohmann::json to_json(const Schema& schema) {
    nlohmann::json json = identity_json(schema);
    if (!schema.doc.empty()) json["doc"] = schema.doc;
    for (std::size_t i = 0; i < schema.fields.size(); ++i) {
        if (!schema.fields[i].doc.empty()) json["fields"][i]["doc"] = schema.fields[i].doc;
    }
    return json;
}

std::optional<SchemaRef> parse_schema_id(std::string_view id) noexcept {
    const std::size_t at = id.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == id.size()) return std::nullopt;
    SchemaRef ref;
    const std::string_view digits = id.substr(at + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), ref.version);
    if (error != std::errc() || end != digits.data() + digits.size() || ref.version == 0 || digits.front() == '0') {
        return std::nullopt;
    }
    ref.name = std::string(id.substr(0, at));
    return ref;
}

}  // namespace dhub::schema
