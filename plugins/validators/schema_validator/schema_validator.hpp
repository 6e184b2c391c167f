// SPDX-License-Identifier: Apache-2.0
// dhub.validator.schema: checks each slot of a channel against the channel's typed schema (docs/schemas.md),
// which it reads once, when it is created:
//   - length: the slot holds exactly the schema's size ("exact") or at least it ("at_least"), and every field
//     fits in it;
//   - nan / inf: no float field (f2, f4, f8, either byte order, and the parts of complex fields) holds a NaN
//     or an infinity, unless allowed. Every element of an array field is checked.
// Encodings bytes and external have no fields: only the length is checked. A channel whose schema is an
// opaque id or "*" cannot be checked, and the validator refuses to be created on it. Rejections name the
// field, the element and the value: "field 'samples' element 17 is NaN".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::schema_validator {

/// A float field to scan, prepared when the validator is created.
struct FloatField {
    std::string name;
    std::vector<std::uint64_t> shape;  ///< for naming an element; empty: a scalar
    std::uint64_t offset = 0;
    std::uint64_t floats = 0;  ///< floats in the field: its elements, twice as many for complex ones
    std::uint32_t width = 0;   ///< bytes of one float: 2, 4 or 8
    bool swapped = false;      ///< stored in the other byte order than this host's
    bool complex = false;      ///< (real, imaginary) pairs
};

/// Where a field ends, to say which one does not fit in a short slot.
struct FieldExtent {
    std::string name;
    std::uint64_t offset = 0;
    std::uint64_t end = 0;
};

class SchemaValidator : public sdk::Validator<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.validator.schema";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Rejects slots whose length or float values (NaN, infinity) disagree with the channel's typed schema";
    // "*": it guards any channel, and reads what the slots hold from the channel's typed schema.
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"length","type":"string","default":"exact","enum":["exact","at_least"],
 "doc":"the slot's byte count must equal the schema's size, or be at least it"},
{"name":"nan","type":"string","default":"reject","enum":["reject","allow"],"doc":"NaN in a float field"},
{"name":"inf","type":"string","default":"reject","enum":["reject","allow"],"doc":"+/-infinity in a float field"}
])json";

    explicit SchemaValidator(sdk::NodeContext& context);

    sdk::Verdict validate(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in) const;

private:
    sdk::Verdict reject_length(std::uint64_t bytes) const;

    std::string schema_id_;
    std::uint64_t size_ = 0;
    bool exact_length_ = true;
    bool reject_nan_ = true;
    bool reject_inf_ = true;
    std::uint64_t fields_end_ = 0;  ///< the end of the field that ends last
    std::vector<FieldExtent> extents_;
    std::vector<FloatField> floats_;  ///< empty when NaN and infinities are both allowed
};

}  // namespace dhub::plugins::schema_validator
