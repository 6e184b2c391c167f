// SPDX-License-Identifier: Apache-2.0
// A field's element type, written as numpy writes it ("<u2", ">f8", "|b1", "|S16"), so that a schema read
// from a segment becomes a numpy dtype with no translation table. Only the explicit forms are accepted: a
// byte order of '<' or '>' for multi-byte numbers and '|' for single bytes ("=" would depend on the host).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dhub::schema {

struct Dtype {
    char byte_order = '|';  ///< '<' little-endian, '>' big-endian, '|' not applicable (one byte, bytes, bool)
    char kind = 'u';        ///< 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'c' complex, 'S' bytes, 'V' raw
    std::uint32_t itemsize = 1;

    /// The numpy string ("<u2").
    std::string str() const;
    /// The alignment a zero-copy reader needs: the item size for numbers (a complex's component size), 1 for
    /// bool, bytes and raw.
    std::uint32_t alignment() const noexcept;
    bool operator==(const Dtype&) const = default;
};

/// Parses a numpy type string; nullopt with why set when it is not one this format accepts.
std::optional<Dtype> parse_dtype(std::string_view text, std::string& why);

}  // namespace dhub::schema
