// SPDX-License-Identifier: Apache-2.0
#include "schema_layout.hpp"

#include <charconv>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace dhub::plugins::schema_validator {
namespace {

using nlohmann::json;

/// Far above any slot, far below overflow (the kernel refuses schemas larger than 1 TiB).
constexpr std::uint64_t MAX_BYTES = 1ULL << 40;

[[noreturn]] void refuse(const std::string& what) {
    throw std::invalid_argument(what);
}

std::uint64_t unsigned_at(const json& object, const char* key, const std::string& where) {
    const auto found = object.find(key);
    if (found == object.end()) refuse(where + " has no \"" + key + "\"");
    if (!found->is_number_unsigned() && !(found->is_number_integer() && found->get<std::int64_t>() >= 0)) {
        refuse(where + " \"" + key + "\" is not a non-negative integer: " + found->dump());
    }
    const auto value = found->get<std::uint64_t>();
    if (value > MAX_BYTES) refuse(where + " \"" + key + "\" is too large: " + found->dump());
    return value;
}

std::string string_at(const json& object, const char* key, const std::string& where) {
    const auto found = object.find(key);
    if (found == object.end()) refuse(where + " has no \"" + key + "\"");
    if (!found->is_string()) refuse(where + " \"" + key + "\" is not a string: " + found->dump());
    return found->get<std::string>();
}

void read_dtype(const std::string& dtype, FieldLayout& field, const std::string& where) {
    const auto bad = [&](const char* why) { refuse(where + " dtype \"" + dtype + "\": " + why); };
    if (dtype.size() < 3) bad("expected a numpy type string such as \"<f8\"");
    field.byte_order = dtype[0];
    field.kind = dtype[1];
    if (std::string_view("<>|").find(field.byte_order) == std::string_view::npos) bad("unknown byte order");
    if (std::string_view("biufcSV").find(field.kind) == std::string_view::npos) bad("unknown kind");
    const char* first = dtype.data() + 2;
    const char* last = dtype.data() + dtype.size();
    const auto [end, error] = std::from_chars(first, last, field.itemsize);
    if (error != std::errc() || end != last || field.itemsize == 0) bad("the item size is not a positive number");
    if (field.kind == 'f' && field.itemsize != 2 && field.itemsize != 4 && field.itemsize != 8) {
        bad("floats have 2, 4 or 8 bytes");
    }
    if (field.kind == 'c' && field.itemsize != 8 && field.itemsize != 16) bad("complex numbers have 8 or 16 bytes");
    if ((field.kind == 'f' || field.kind == 'c') && field.byte_order == '|') bad("a float needs a byte order");
}

FieldLayout read_field(const json& object, std::size_t index, const std::string& schema) {
    const std::string where = schema + " field " + std::to_string(index);
    if (!object.is_object()) refuse(where + " is not an object");
    FieldLayout field;
    field.name = string_at(object, "name", where);
    const std::string named = where + " ('" + field.name + "')";
    read_dtype(string_at(object, "dtype", named), field, named);
    field.offset = unsigned_at(object, "offset", named);
    if (const auto shape = object.find("shape"); shape != object.end()) {
        if (!shape->is_array()) refuse(named + " \"shape\" is not an array");
        for (const json& extent : *shape) {
            if (!extent.is_number_unsigned() || extent.get<std::uint64_t>() == 0) {
                refuse(named + " \"shape\" has an extent that is not a positive integer: " + shape->dump());
            }
            field.shape.push_back(extent.get<std::uint64_t>());
            // Bounded at every step, so that the product cannot overflow.
            if (extent.get<std::uint64_t>() > MAX_BYTES || field.elements * extent.get<std::uint64_t>() > MAX_BYTES) {
                refuse(named + " is too large: shape " + shape->dump());
            }
            field.elements *= extent.get<std::uint64_t>();
        }
    }
    if (field.elements * field.itemsize > MAX_BYTES) refuse(named + " is too large");
    return field;
}

}  // namespace

SchemaLayout read_schema_layout(std::string_view document) {
    const json root = json::parse(document, nullptr, false);
    if (root.is_discarded()) refuse("the schema document is not valid JSON");
    if (!root.is_object()) refuse("the schema document is not a JSON object");
    SchemaLayout layout;
    const std::string name = string_at(root, "name", "the schema");
    layout.id = name + "@" + std::to_string(unsigned_at(root, "version", "schema '" + name + "'"));
    const std::string where = "schema " + layout.id;
    if (root.contains("encoding")) layout.encoding = string_at(root, "encoding", where);
    layout.size = unsigned_at(root, "size", where);
    // bytes and external values are opaque: no fields, only a size.
    if (layout.encoding == "bytes" || layout.encoding == "external") return layout;
    if (layout.encoding != "struct" && layout.encoding != "ndarray") {
        refuse(where + " has encoding \"" + layout.encoding + "\"; known: struct, ndarray, bytes, external");
    }
    const auto fields = root.find("fields");
    if (fields == root.end() || !fields->is_array()) refuse(where + " has no \"fields\" array");
    for (std::size_t i = 0; i < fields->size(); ++i) {
        layout.fields.push_back(read_field((*fields)[i], i, where));
    }
    return layout;
}

}  // namespace dhub::plugins::schema_validator
