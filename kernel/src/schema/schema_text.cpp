// SPDX-License-Identifier: Apache-2.0
#include "dhub/schema/schema_text.hpp"

#include <algorithm>

namespace dhub::schema {
namespace {

std::string padded(std::string text, std::size_t width) {
    text.resize(std::max(text.size(), width), ' ');
    return text;
}

}  // namespace

std::string shape_text(const std::vector<std::uint64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
    return text + "]";
}

std::string layout_summary(const Schema& schema) {
    return std::string(to_string(schema.encoding)) + ", " + std::to_string(schema.size) + " bytes, align " +
           std::to_string(schema.align);
}

std::string field_table(const Schema& schema, std::string_view indent) {
    if (schema.fields.empty()) return {};
    std::size_t name_width = 5;   // "FIELD"
    std::size_t shape_width = 5;  // "SHAPE"
    for (const Field& field : schema.fields) {
        name_width = std::max(name_width, field.name.size());
        shape_width = std::max(shape_width, shape_text(field.shape).size());
    }
    std::string table = std::string(indent) + padded("FIELD", name_width) + "  " + padded("DTYPE", 6) + "  " +
                        padded("SHAPE", shape_width) + "  OFFSET\n";
    for (const Field& field : schema.fields) {
        table += std::string(indent) + padded(field.name, name_width) + "  " + padded(field.dtype.str(), 6) + "  " +
                 padded(shape_text(field.shape), shape_width) + "  " + std::to_string(field.offset) + "\n";
    }
    return table;
}

}  // namespace dhub::schema
