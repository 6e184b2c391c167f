// SPDX-License-Identifier: Apache-2.0
#include "schema_validator.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "schema_layout.hpp"

namespace dhub::plugins::schema_validator {
namespace {

constexpr const char* KIND_LENGTH = "length";
constexpr const char* KIND_NAN = "nan";
constexpr const char* KIND_INF = "inf";

/// IEEE 754 bits of a float of U's width: an exponent of all ones is an infinity (mantissa 0) or a NaN.
template <typename U>
struct FloatMasks {
    U exponent = 0;
    U mantissa = 0;
    U sign = 0;
};

template <typename U>
constexpr U byteswap(U value) noexcept {
    if constexpr (sizeof(U) == 2) {
        return __builtin_bswap16(value);
    } else if constexpr (sizeof(U) == 4) {
        return __builtin_bswap32(value);
    } else {
        return __builtin_bswap64(value);
    }
}

/// The masks for floats stored in the field's byte order, so that the scan never swaps a value.
template <typename U>
constexpr FloatMasks<U> masks(bool swapped) noexcept {
    FloatMasks<U> native;
    if constexpr (sizeof(U) == 2) {
        native = {0x7C00U, 0x03FFU, 0x8000U};
    } else if constexpr (sizeof(U) == 4) {
        native = {0x7F80'0000U, 0x007F'FFFFU, 0x8000'0000U};
    } else {
        native = {0x7FF0'0000'0000'0000ULL, 0x000F'FFFF'FFFF'FFFFULL, 0x8000'0000'0000'0000ULL};
    }
    if (!swapped) return native;
    return {byteswap(native.exponent), byteswap(native.mantissa), byteswap(native.sign)};
}

/// A float that is not finite, and what it is.
struct NonFinite {
    std::uint64_t index = 0;  ///< among the field's floats; the field's float count when there is none
    bool nan = false;
    bool negative = false;
};

/// The first float of [data, data + count floats) that is a NaN (when nan) or an infinity (when inf).
/// memcpy: slots and fields need not be aligned for U.
template <typename U>
NonFinite first_non_finite(const std::byte* data, std::uint64_t count, bool swapped, bool nan, bool inf) noexcept {
    const FloatMasks<U> m = masks<U>(swapped);
    for (std::uint64_t i = 0; i < count; ++i) {
        U bits;
        std::memcpy(&bits, data + i * sizeof(U), sizeof(U));
        if ((bits & m.exponent) != m.exponent) continue;
        const bool is_nan = (bits & m.mantissa) != 0;
        if (is_nan ? nan : inf) return {i, is_nan, (bits & m.sign) != 0};
    }
    return {count, false, false};
}

NonFinite first_non_finite(const FloatField& field, const std::byte* data, bool nan, bool inf) noexcept {
    switch (field.width) {
        case 2:
            return first_non_finite<std::uint16_t>(data, field.floats, field.swapped, nan, inf);
        case 4:
            return first_non_finite<std::uint32_t>(data, field.floats, field.swapped, nan, inf);
        default:
            return first_non_finite<std::uint64_t>(data, field.floats, field.swapped, nan, inf);
    }
}

/// " element 17" of a 1-D field, " element [2, 1]" of a row-major N-D one, "" for a scalar.
std::string element_name(const std::vector<std::uint64_t>& shape, std::uint64_t element) {
    if (shape.empty()) return "";
    if (shape.size() == 1) return " element " + std::to_string(element);
    std::vector<std::uint64_t> index(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        index[d] = element % shape[d];
        element /= shape[d];
    }
    std::string text = " element [";
    for (std::size_t d = 0; d < index.size(); ++d)
        text += (d == 0 ? "" : ", ") + std::to_string(index[d]);
    return text + "]";
}

sdk::Verdict reject_non_finite(const FloatField& field, const NonFinite& found) {
    const std::uint64_t element = field.complex ? found.index / 2 : found.index;
    const char* part = !field.complex ? "" : found.index % 2 == 0 ? " (real part)" : " (imaginary part)";
    const char* value = found.nan ? "NaN" : found.negative ? "-inf" : "inf";
    return sdk::Verdict::reject_as(
        found.nan ? KIND_NAN : KIND_INF,
        "field '" + field.name + "'" + element_name(field.shape, element) + part + " is " + value);
}

SchemaLayout read_layout(sdk::NodeContext& context) {
    const std::string_view document = context.schema_document(sdk::Direction::Input, 0);
    if (document.empty()) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                             "the channel has no typed schema (its schema is '" +
                                 std::string(context.schema(sdk::Direction::Input, 0)) +
                                 "'), so there is nothing to check its slots against; declare one in the graph's "
                                 "\"schemas\" and name it in the channel's \"schema\" (docs/schemas.md)");
    }
    try {
        return read_schema_layout(document);
    } catch (const std::invalid_argument& error) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT,
                             std::string("cannot read the channel's typed schema: ") + error.what());
    }
}

}  // namespace

SchemaValidator::SchemaValidator(sdk::NodeContext& context)
    : exact_length_(context.params().string("length") == "exact"),
      reject_nan_(context.params().string("nan") == "reject"),
      reject_inf_(context.params().string("inf") == "reject") {
    SchemaLayout layout = read_layout(context);
    schema_id_ = std::move(layout.id);
    size_ = layout.size;
    const bool swap_little = std::endian::native != std::endian::little;
    for (FieldLayout& field : layout.fields) {
        fields_end_ = std::max(fields_end_, field.end());
        extents_.push_back({field.name, field.offset, field.end()});
        const bool is_float = field.kind == 'f' || field.kind == 'c';
        if (!is_float || !(reject_nan_ || reject_inf_)) continue;
        FloatField scanned;
        scanned.name = std::move(field.name);
        scanned.shape = std::move(field.shape);
        scanned.offset = field.offset;
        scanned.complex = field.kind == 'c';
        scanned.width = scanned.complex ? field.itemsize / 2 : field.itemsize;
        scanned.floats = scanned.complex ? 2 * field.elements : field.elements;
        scanned.swapped = field.byte_order == '<' ? swap_little : !swap_little;
        floats_.push_back(std::move(scanned));
    }
}

sdk::Verdict SchemaValidator::reject_length(std::uint64_t bytes) const {
    if (exact_length_ ? bytes != size_ : bytes < size_) {
        return sdk::Verdict::reject_as(KIND_LENGTH, "slot of " + std::to_string(bytes) + " bytes, but " + schema_id_ +
                                                        " is " + (exact_length_ ? "" : "at least ") +
                                                        std::to_string(size_) + " bytes");
    }
    for (const FieldExtent& field : extents_) {
        if (field.end > bytes) {
            return sdk::Verdict::reject_as(
                KIND_LENGTH, "field '" + field.name + "' (bytes " + std::to_string(field.offset) + " to " +
                                 std::to_string(field.end) + ") does not fit in the slot of " + std::to_string(bytes) +
                                 " bytes");
        }
    }
    return sdk::Verdict::accept();
}

sdk::Verdict SchemaValidator::validate(sdk::NodeContext& /*context*/, const sdk::InputSlot<sdk::Bytes>& in) const {
    const std::span<const std::byte> bytes = in.bytes();
    if (exact_length_ ? bytes.size() != size_ : bytes.size() < size_) return reject_length(bytes.size());
    if (bytes.size() < fields_end_) return reject_length(bytes.size());
    for (const FloatField& field : floats_) {
        const NonFinite found = first_non_finite(field, bytes.data() + field.offset, reject_nan_, reject_inf_);
        if (found.index < field.floats) return reject_non_finite(field, found);
    }
    return sdk::Verdict::accept();
}

}  // namespace dhub::plugins::schema_validator

DHUB_PLUGIN("schema_validator",
            "1.0.0",
            "Apache-2.0",
            "Typed-schema validator (dhub.validator.schema)",
            dhub::sdk::component<dhub::plugins::schema_validator::SchemaValidator>())
