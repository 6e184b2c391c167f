// SPDX-License-Identifier: Apache-2.0
#include "dhub/schema/schema_json.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

namespace dhub::schema {
namespace {

constexpr std::size_t MAX_NAME_LENGTH = 128;
constexpr std::size_t MAX_FIELD_NAME_LENGTH = 64;
constexpr std::size_t MAX_FIELDS = 4096;
constexpr std::size_t MAX_DIMENSIONS = 8;
constexpr std::uint32_t MAX_ALIGN = 4096;
constexpr std::uint64_t MAX_SIZE = 1ULL << 40;  // 1 TiB: far above any slot, far below overflow
constexpr std::uint32_t MAX_VERSION = std::numeric_limits<std::int32_t>::max();

const std::vector<std::string> SCHEMA_KEYS = {"name",  "version", "encoding", "size",
                                              "align", "fields",  "external", "doc"};
const std::vector<std::string> FIELD_KEYS = {"name", "dtype", "shape", "offset", "doc"};
const std::vector<std::string> EXTERNAL_KEYS = {"format", "descriptor"};

std::string join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words)
        text += (text.empty() ? "" : ", ") + word;
    return text;
}

std::string describe(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null:
            return "null";
        case nlohmann::json::value_t::boolean:
            return "a boolean";
        case nlohmann::json::value_t::string:
            return "a string";
        case nlohmann::json::value_t::array:
            return "an array";
        case nlohmann::json::value_t::object:
            return "an object";
        default:
            return "the number " + value.dump();
    }
}

bool is_schema_name(std::string_view name) {
    if (name.empty() || name.size() > MAX_NAME_LENGTH) return false;
    if (!std::isalpha(static_cast<unsigned char>(name.front()))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

bool is_field_name(std::string_view name) {
    if (name.empty() || name.size() > MAX_FIELD_NAME_LENGTH) return false;
    if (!std::isalpha(static_cast<unsigned char>(name.front())) && name.front() != '_') return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::uint64_t round_up(std::uint64_t value, std::uint64_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

/// One document being read: its problems and the helpers that append them.
class Reader {
public:
    Reader(std::string base, std::vector<Problem>& problems) : base_(std::move(base)), problems_(problems) {}

    void problem(const std::string& relative, std::string message) {
        problems_.push_back({base_ + relative, std::move(message)});
        ++count_;
    }
    std::size_t count() const noexcept { return count_; }

    void check_keys(const nlohmann::json& object, const std::string& path, const std::vector<std::string>& known) {
        for (const auto& [key, value] : object.items()) {
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                problem(path + "/" + key, "unknown key; known keys: " + join(known));
            }
        }
    }

    std::optional<std::string> string(const nlohmann::json& object, const std::string& path, const char* key) {
        const auto found = object.find(key);
        if (found == object.end()) return std::nullopt;
        if (!found->is_string()) {
            problem(path + "/" + key, std::string("expected a string, found ") + describe(*found));
            return std::nullopt;
        }
        return found->get<std::string>();
    }

    /// An unsigned integer in [min, max]; nullopt (and a problem) when present but not one.
    std::optional<std::uint64_t> integer(
        const nlohmann::json& object, const std::string& path, const char* key, std::uint64_t min, std::uint64_t max) {
        const auto found = object.find(key);
        if (found == object.end()) return std::nullopt;
        // JSON has one number type: 2 may arrive signed (nlohmann) and is still an integer here.
        const bool whole =
            found->is_number_unsigned() || (found->is_number_integer() && found->get<std::int64_t>() >= 0);
        if (!whole || found->get<std::uint64_t>() < min || found->get<std::uint64_t>() > max) {
            problem(path + "/" + key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                                          "], found " + describe(*found));
            return std::nullopt;
        }
        return found->get<std::uint64_t>();
    }

private:
    std::string base_;
    std::vector<Problem>& problems_;
    std::size_t count_ = 0;
};

/// Reads one field; its offset is packed after `packed_end` when absent, as a C compiler would lay it out.
std::optional<Field> read_field(Reader& reader,
                                const nlohmann::json& json,
                                const std::string& path,
                                std::uint64_t packed_end) {
    if (!json.is_object()) {
        reader.problem(path, "expected a field object {\"name\", \"dtype\", ...}, found " + describe(json));
        return std::nullopt;
    }
    const std::size_t before = reader.count();
    reader.check_keys(json, path, FIELD_KEYS);
    Field field;
    if (auto name = reader.string(json, path, "name")) {
        field.name = *name;
        if (!is_field_name(field.name)) {
            reader.problem(path + "/name", "\"" + field.name +
                                               "\" is not a field name: letters, digits and '_', "
                                               "not starting with a digit, at most " +
                                               std::to_string(MAX_FIELD_NAME_LENGTH) + " characters");
        }
    } else if (!json.contains("name")) {
        reader.problem(path, "missing required key \"name\"; add it");
    }
    if (auto dtype = reader.string(json, path, "dtype")) {
        std::string why;
        if (auto parsed = parse_dtype(*dtype, why)) {
            field.dtype = *parsed;
        } else {
            reader.problem(path + "/dtype", why);
        }
    } else if (!json.contains("dtype")) {
        reader.problem(path, "missing required key \"dtype\" (a numpy type string such as \"<f8\"); add it");
    }
    if (const auto shape = json.find("shape"); shape != json.end()) {
        if (!shape->is_array() || shape->size() > MAX_DIMENSIONS) {
            reader.problem(path + "/shape", "expected an array of at most " + std::to_string(MAX_DIMENSIONS) +
                                                " positive extents ([] for a scalar), found " + describe(*shape));
        } else {
            std::uint64_t elements = 1;
            for (std::size_t i = 0; i < shape->size(); ++i) {
                const nlohmann::json& extent = (*shape)[i];
                const bool whole =
                    extent.is_number_unsigned() || (extent.is_number_integer() && extent.get<std::int64_t>() > 0);
                if (!whole || extent.get<std::uint64_t>() == 0 || extent.get<std::uint64_t>() > MAX_SIZE / elements) {
                    reader.problem(
                        path + "/shape/" + std::to_string(i),
                        "expected a positive extent (the field must stay under 1 TiB), found " + describe(extent));
                    break;
                }
                elements *= extent.get<std::uint64_t>();
                field.shape.push_back(extent.get<std::uint64_t>());
            }
        }
    }
    if (auto doc = reader.string(json, path, "doc")) field.doc = *doc;
    if (reader.count() != before) return std::nullopt;
    if (field.byte_size() > MAX_SIZE) {
        reader.problem(path + "/shape", "the field's " + std::to_string(field.byte_size()) + " bytes exceed 1 TiB");
        return std::nullopt;
    }
    if (json.contains("offset")) {
        const auto offset = reader.integer(json, path, "offset", 0, MAX_SIZE);
        if (!offset) return std::nullopt;
        field.offset = *offset;
        if (field.offset % field.dtype.alignment() != 0) {
            reader.problem(path + "/offset", "offset " + std::to_string(field.offset) + " is not a multiple of " +
                                                 std::to_string(field.dtype.alignment()) + ", the alignment of " +
                                                 field.dtype.str() + " (zero-copy readers use it in place); use " +
                                                 std::to_string(round_up(field.offset, field.dtype.alignment())));
            return std::nullopt;
        }
    } else {
        field.offset = round_up(packed_end, field.dtype.alignment());
    }
    return field;
}

void check_overlaps(Reader& reader, const std::vector<Field>& fields, const std::vector<std::string>& paths) {
    std::vector<std::size_t> order(fields.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return fields[a].offset < fields[b].offset; });
    for (std::size_t k = 1; k < order.size(); ++k) {
        const Field& before = fields[order[k - 1]];
        const Field& after = fields[order[k]];
        if (before.offset + before.byte_size() > after.offset) {
            reader.problem(paths[order[k]] + "/offset",
                           "field \"" + after.name + "\" at " + std::to_string(after.offset) + " overlaps \"" +
                               before.name + "\" (bytes " + std::to_string(before.offset) + " to " +
                               std::to_string(before.offset + before.byte_size() - 1) + ")");
        }
    }
}

bool has_fields(Encoding encoding) {
    return encoding == Encoding::Struct || encoding == Encoding::Ndarray;
}

/// "fields": each field read (offsets packed after the previous one when absent), names unique, no overlaps.
void read_fields(Reader& reader, const nlohmann::json& document, Schema& schema) {
    const auto fields = document.find("fields");
    if (fields == document.end()) {
        if (has_fields(schema.encoding)) {
            reader.problem("", std::string("missing required key \"fields\" (encoding ") + to_string(schema.encoding) +
                                   "); add it");
        }
        return;
    }
    if (!has_fields(schema.encoding)) {
        reader.problem("/fields", std::string("encoding ") + to_string(schema.encoding) +
                                      " has no fields (its layout is opaque to dhub); remove \"fields\"");
        return;
    }
    if (!fields->is_array() || fields->empty() || fields->size() > MAX_FIELDS) {
        reader.problem("/fields", "expected an array of 1 to " + std::to_string(MAX_FIELDS) + " field objects, found " +
                                      describe(*fields));
        return;
    }
    std::vector<std::string> field_paths;
    std::uint64_t packed_end = 0;
    std::set<std::string> names;  // of every field, valid or not: a duplicate is one whatever else is wrong
    for (std::size_t i = 0; i < fields->size(); ++i) {
        const std::string path = "/fields/" + std::to_string(i);
        const nlohmann::json& entry = (*fields)[i];
        if (entry.is_object() && entry.contains("name") && entry["name"].is_string() &&
            !names.insert(entry["name"].get<std::string>()).second) {
            reader.problem(path + "/name",
                           "a second field named \"" + entry["name"].get<std::string>() + "\"; names are unique");
            continue;
        }
        auto field = read_field(reader, entry, path, packed_end);
        if (!field) continue;
        packed_end = field->offset + field->byte_size();
        schema.fields.push_back(std::move(*field));
        field_paths.push_back(path);
    }
    if (schema.encoding == Encoding::Ndarray && schema.fields.size() > 1) {
        reader.problem("/fields", "encoding ndarray holds one array: one field (at offset 0); use struct for more");
    }
    if (schema.encoding == Encoding::Ndarray && schema.fields.size() == 1 && schema.fields[0].offset != 0) {
        reader.problem("/fields/0/offset", "the array of encoding ndarray starts at offset 0");
    }
    check_overlaps(reader, schema.fields, field_paths);
}

/// "external": the format's name and its base64 descriptor, for encoding external only.
void read_external(Reader& reader, const nlohmann::json& document, Schema& schema) {
    const auto external = document.find("external");
    if (external == document.end()) {
        if (schema.encoding == Encoding::External) {
            reader.problem("",
                           "missing required key \"external\" ({\"format\", \"descriptor\"}) for encoding external");
        }
        return;
    }
    if (schema.encoding != Encoding::External) {
        reader.problem("/external",
                       "only encoding external has an \"external\" descriptor; remove it or set "
                       "\"encoding\": \"external\"");
        return;
    }
    if (!external->is_object()) {
        reader.problem("/external", "expected {\"format\": ..., \"descriptor\": base64}, found " + describe(*external));
        return;
    }
    reader.check_keys(*external, "/external", EXTERNAL_KEYS);
    const auto format = reader.string(*external, "/external", "format");
    if (!external->contains("format")) {
        reader.problem("/external", "missing required key \"format\" (e.g. \"protobuf\"); add it");
    } else if (format && format->empty()) {
        reader.problem("/external/format", "the format name is empty; name it (e.g. \"protobuf\")");
    } else if (format) {
        schema.external_format = *format;
    }
    // "" is no descriptor; libsodium must not see the null data() of an empty buffer.
    const auto text = reader.string(*external, "/external", "descriptor");
    if (!text || text->empty()) return;
    std::vector<std::uint8_t> bytes(text->size());
    std::size_t length = 0;
    if (sodium_base642bin(bytes.data(), bytes.size(), text->data(), text->size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        reader.problem("/external/descriptor", "not standard base64 (with padding)");
        return;
    }
    bytes.resize(length);
    schema.descriptor = std::move(bytes);
}

/// "align" and "size": defaults from the fields (C's alignment and sizeof), explicit values checked against them.
void read_layout(Reader& reader, const nlohmann::json& document, Schema& schema) {
    std::uint32_t needed_align = 1;
    std::uint64_t end = 0;
    for (const Field& field : schema.fields) {
        needed_align = std::max(needed_align, field.dtype.alignment());
        end = std::max(end, field.offset + field.byte_size());
    }
    schema.align = needed_align;
    if (const auto align = reader.integer(document, "", "align", 1, MAX_ALIGN)) {
        if ((*align & (*align - 1)) != 0 || *align < needed_align) {
            reader.problem("/align", "align " + std::to_string(*align) + " must be a power of two of at least " +
                                         std::to_string(needed_align) + " (the largest field alignment)");
        } else {
            schema.align = static_cast<std::uint32_t>(*align);
        }
    }
    schema.size = round_up(end, schema.align);
    if (const auto size = reader.integer(document, "", "size", 0, MAX_SIZE)) {
        if (*size < end) {
            reader.problem("/size", "size " + std::to_string(*size) + " is smaller than the " + std::to_string(end) +
                                        " bytes the fields span");
        } else if (has_fields(schema.encoding) && *size % schema.align != 0) {
            reader.problem("/size", "size " + std::to_string(*size) + " is not a multiple of the alignment " +
                                        std::to_string(schema.align) + " (as sizeof never is); use " +
                                        std::to_string(round_up(*size, schema.align)));
        } else {
            schema.size = *size;
        }
    }
}

}  // namespace

std::optional<Schema> parse_schema(const nlohmann::json& document,
                                   const std::string& json_path,
                                   std::vector<Problem>& problems) {
    Reader reader(json_path, problems);
    if (!document.is_object()) {
        reader.problem(
            "", "expected a schema object {\"name\", \"version\", \"fields\", ...}, found " + describe(document));
        return std::nullopt;
    }
    reader.check_keys(document, "", SCHEMA_KEYS);
    Schema schema;
    if (auto name = reader.string(document, "", "name")) {
        schema.name = *name;
        if (!is_schema_name(schema.name)) {
            reader.problem("/name", "\"" + schema.name +
                                        "\" is not a schema name: letters, digits, '.', '_' and "
                                        "'-', starting with a letter, at most " +
                                        std::to_string(MAX_NAME_LENGTH) + " characters (e.g. \"lab.thermo\")");
        }
    } else if (!document.contains("name")) {
        reader.problem("", "missing required key \"name\" (e.g. \"lab.thermo\"); add it");
    }
    if (auto version = reader.integer(document, "", "version", 1, MAX_VERSION)) {
        schema.version = static_cast<std::uint32_t>(*version);
    } else if (!document.contains("version")) {
        reader.problem("", "missing required key \"version\" (an integer from 1); add it");
    }
    if (auto encoding = reader.string(document, "", "encoding")) {
        if (auto known = encoding_from_string(*encoding)) {
            schema.encoding = *known;
        } else {
            reader.problem("/encoding",
                           "unknown encoding \"" + *encoding + "\"; use struct, ndarray, bytes or external");
        }
    }
    if (auto doc = reader.string(document, "", "doc")) schema.doc = *doc;

    read_fields(reader, document, schema);
    read_external(reader, document, schema);
    read_layout(reader, document, schema);
    if (reader.count() != 0) return std::nullopt;
    return schema;
}

}  // namespace dhub::schema
