// SPDX-License-Identifier: Apache-2.0
// Describing a slot struct's fields once, next to the struct, so that the kernel knows the typed schema of a
// component's ports (docs/schemas.md) without a graph declaring it:
//
//   struct Thermo {
//       std::uint64_t timestamp_ns;
//       std::uint16_t box_id;
//       double celsius[4];
//   };
//
//   inline const dhub::sdk::StructSchema thermo_schema = dhub::sdk::struct_schema<Thermo>(
//       "lab.thermo", 1, "One reading of a four-probe thermocouple box.",
//       {DHUB_FIELD(Thermo, timestamp_ns), DHUB_FIELD(Thermo, box_id), DHUB_FIELD(Thermo, celsius, "probes 1 to 4")});
//
//   class Box : public dhub::sdk::Source<Thermo> {
//       static constexpr const char* output_schema = "lab.thermo@1";
//       static std::vector<dhub::sdk::StructSchema> schemas() { return {thermo_schema}; }
//       ...
//
// The numpy type strings, shapes (from C arrays and std::array), offsets, size and alignment all come from the
// compiler, so the description cannot drift from the struct; a field left out is a gap the reader skips.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

namespace dhub::sdk {

/// One field: name, numpy type string ("<f8"), shape (empty for a scalar), byte offset, optional doc.
struct StructField {
    std::string name;
    std::string dtype;
    std::vector<std::size_t> shape;
    std::size_t offset = 0;
    std::string doc;
};

/// A struct's schema document (encoding "struct"), ready to be handed to the kernel.
struct StructSchema {
    std::string name;
    std::uint32_t version = 1;
    std::string doc;
    std::size_t size = 0;
    std::size_t align = 1;
    std::vector<StructField> fields;

    /// The schema id ports name: "<name>@<version>".
    std::string id() const { return name + "@" + std::to_string(version); }
    /// The document as JSON text (docs/schemas.md, "A schema document").
    std::string json() const;
};

namespace detail {

inline char byte_order_char() {
    return std::endian::native == std::endian::little ? '<' : '>';
}

template <typename T>
struct Element {
    using type = std::remove_cv_t<T>;
    static void shape(std::vector<std::size_t>&) {}
};
template <typename T, std::size_t N>
struct Element<T[N]> {
    using type = typename Element<T>::type;  // const T[N] is T const[N]: the element carries the const
    static void shape(std::vector<std::size_t>& dims) {
        dims.push_back(N);
        Element<T>::shape(dims);
    }
};
template <typename T, std::size_t N>
struct Element<std::array<T, N>> {
    static_assert(N > 0, "an array field has at least one element");
    using type = typename Element<T>::type;
    static void shape(std::vector<std::size_t>& dims) {
        dims.push_back(N);
        Element<T>::shape(dims);
    }
};

/// The numpy type string of an arithmetic type: "<u2", "<f8", "|b1", "|i1".
template <typename T>
std::string dtype_of() {
    static_assert(std::is_arithmetic_v<T>,
                  "a described field is a number, a bool, or a (nested) C array or std::array of them");
    static_assert(!std::is_same_v<T, long double>, "numpy has no portable type for long double");
    const char kind = std::is_same_v<T, bool>       ? 'b'
                      : std::is_floating_point_v<T> ? 'f'
                      : std::is_signed_v<T>         ? 'i'
                                                    : 'u';
    const char order = sizeof(T) == 1 ? '|' : byte_order_char();
    return std::string{order, kind} + std::to_string(sizeof(T));
}

inline void append_quoted(std::string& out, const std::string& text) {
    out += '"';
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char HEX[] = "0123456789abcdef";
                    out += "\\u00";
                    out += HEX[(c >> 4) & 0xF];
                    out += HEX[c & 0xF];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

}  // namespace detail

/// A field of type Member at offset (DHUB_FIELD fills both in). A const member describes like its type.
template <typename Member>
StructField field(std::string name, std::size_t offset, std::string doc = {}) {
    StructField described{
        std::move(name), detail::dtype_of<typename detail::Element<Member>::type>(), {}, offset, std::move(doc)};
    detail::Element<Member>::shape(described.shape);
    return described;
}

/// The schema of T (a standard-layout struct): its size and alignment from the compiler, its fields as given.
template <typename T>
StructSchema struct_schema(std::string name,
                           std::uint32_t version,
                           std::string doc,
                           std::initializer_list<StructField> fields) {
    static_assert(std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T>,
                  "a slot struct is standard-layout and trivially copyable");
    return StructSchema{std::move(name), version, std::move(doc), sizeof(T), alignof(T), fields};
}

inline std::string StructSchema::json() const {
    std::string out = "{\"name\":";
    detail::append_quoted(out, name);
    out += ",\"version\":" + std::to_string(version);
    if (!doc.empty()) {
        out += ",\"doc\":";
        detail::append_quoted(out, doc);
    }
    out += ",\"encoding\":\"struct\",\"size\":" + std::to_string(size) + ",\"align\":" + std::to_string(align) +
           ",\"fields\":[";
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const StructField& field = fields[i];
        out += i == 0 ? "{\"name\":" : ",{\"name\":";
        detail::append_quoted(out, field.name);
        out += ",\"dtype\":\"" + field.dtype + "\"";
        if (!field.shape.empty()) {
            out += ",\"shape\":[";
            for (std::size_t d = 0; d < field.shape.size(); ++d)
                out += (d == 0 ? "" : ",") + std::to_string(field.shape[d]);
            out += "]";
        }
        out += ",\"offset\":" + std::to_string(field.offset);
        if (!field.doc.empty()) {
            out += ",\"doc\":";
            detail::append_quoted(out, field.doc);
        }
        out += "}";
    }
    return out + "]}";
}

/// The JSON array of documents a component hands the kernel (dhub_component_descriptor::schema_documents).
inline std::string schema_array(const std::vector<StructSchema>& schemas) {
    std::string out = "[";
    for (std::size_t i = 0; i < schemas.size(); ++i)
        out += (i == 0 ? "" : ",") + schemas[i].json();
    return out + "]";
}

}  // namespace dhub::sdk

/// A field of struct Type: its name, numpy type, shape and offset from the compiler; an optional doc string.
#define DHUB_FIELD(Type, member, ...) \
    ::dhub::sdk::field<decltype(Type::member)>(#member, offsetof(Type, member) __VA_OPT__(, ) __VA_ARGS__)
