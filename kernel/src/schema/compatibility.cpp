// SPDX-License-Identifier: Apache-2.0
#include "dhub/schema/compatibility.hpp"

#include "dhub/schema/schema_json.hpp"
#include "dhub/schema/schema_text.hpp"

namespace dhub::schema {
namespace {

std::string describe_field(const Field& field) {
    return "\"" + field.name + "\" " + field.dtype.str() + (field.shape.empty() ? "" : " " + shape_text(field.shape)) +
           " at " + std::to_string(field.offset);
}

/// The first way `written` differs from `expected` in the fields `expected` has, or "" if none does.
std::string first_field_difference(const Schema& expected, const Schema& written) {
    for (std::size_t i = 0; i < expected.fields.size(); ++i) {
        if (i >= written.fields.size()) {
            return "field " + std::to_string(i) + " " + describe_field(expected.fields[i]) + " is missing";
        }
        if (!expected.fields[i].same_layout(written.fields[i])) {
            return "field " + std::to_string(i) + " is " + describe_field(written.fields[i]) + " instead of " +
                   describe_field(expected.fields[i]);
        }
    }
    return {};
}

Verdict refuse(const Schema& expected, const Schema& written, const std::string& difference, const std::string& fix) {
    return {false, "slots of " + written.id() + " cannot be read as " + expected.id() + ": " + difference + "; " + fix};
}

}  // namespace

Verdict check_readable(const nlohmann::json& expected, const nlohmann::json& written) {
    const auto malformed = [](const char* whose, const std::vector<Problem>& problems) {
        std::string why = std::string("the ") + whose + " schema document is malformed";
        if (!problems.empty()) why += ": " + problems.front().json_path + ": " + problems.front().message;
        return Verdict{false, why};
    };
    std::vector<Problem> problems;
    const std::optional<Schema> reader = parse_schema(expected, "", problems);
    if (!reader) return malformed("reader's", problems);
    const std::optional<Schema> writer = parse_schema(written, "", problems);
    if (!writer) return malformed("writer's", problems);
    return check_readable(*reader, *writer);
}

Verdict check_readable(const Schema& expected, const Schema& written) {
    if (expected.name != written.name) {
        return refuse(expected, written, "they are different schemas",
                      "connect a channel of " + expected.name + " or put a converting stage in between");
    }
    if (expected.encoding != written.encoding) {
        return refuse(expected, written,
                      std::string("the encoding changed from ") + to_string(expected.encoding) + " to " +
                          to_string(written.encoding),
                      "a new encoding needs a new schema name");
    }
    if (written.version < expected.version) {
        return refuse(expected, written, "the writer is older than the reader",
                      "update the producer, or read it with a component built for " + written.id());
    }
    if (written.version == expected.version) {
        if (fingerprint(written) == fingerprint(expected)) return {true, {}};
        std::string difference = first_field_difference(expected, written);
        if (difference.empty() && written.fields.size() > expected.fields.size()) {
            difference = "field " + std::to_string(expected.fields.size()) + " " +
                         describe_field(written.fields[expected.fields.size()]) + " was added";
        }
        if (difference.empty()) {
            difference = "size " + std::to_string(written.size) + " or alignment " + std::to_string(written.align) +
                         " differs (" + std::to_string(expected.size) + ", " + std::to_string(expected.align) +
                         " expected)";
        }
        return refuse(expected, written, "same version, different content: " + difference,
                      "a changed schema needs a new version");
    }
    // A newer writer: readable when it only appended.
    if (expected.encoding == Encoding::External) {
        if (written.external_format != expected.external_format) {
            return refuse(
                expected, written,
                "the external format changed from " + expected.external_format + " to " + written.external_format,
                "a new format needs a new schema name");
        }
        return {true, {}};  // the format's own evolution rules apply to its descriptor
    }
    if (const std::string difference = first_field_difference(expected, written); !difference.empty()) {
        return refuse(expected, written, difference,
                      "a newer version may only append fields; give an incompatible change a new schema name");
    }
    if (written.size < expected.size) {
        return refuse(expected, written,
                      "its size " + std::to_string(written.size) + " is smaller than " + std::to_string(expected.size),
                      "a newer version may only grow");
    }
    if (written.align < expected.align) {
        return refuse(
            expected, written,
            "its alignment " + std::to_string(written.align) + " is smaller than " + std::to_string(expected.align),
            "a newer version may not lower the alignment");
    }
    return {true, {}};
}

}  // namespace dhub::schema
