// SPDX-License-Identifier: Apache-2.0
#include "dhub/schema/dtype.hpp"

#include <charconv>

namespace dhub::schema {
namespace {

constexpr std::uint32_t MAX_BYTES_ITEMSIZE = 1U << 20;  // a fixed-length byte string of at most 1 MiB

bool is_number_kind(char kind) {
    return kind == 'i' || kind == 'u' || kind == 'f' || kind == 'c';
}

/// The sizes numpy has for each kind; empty for 'S' and 'V' (any size).
std::string_view allowed_sizes(char kind) {
    switch (kind) {
        case 'b':
            return "1";
        case 'i':
        case 'u':
            return "1, 2, 4 or 8";
        case 'f':
            return "2, 4 or 8";
        case 'c':
            return "8 or 16";
        default:
            return "";
    }
}

bool size_allowed(char kind, std::uint32_t size) {
    switch (kind) {
        case 'b':
            return size == 1;
        case 'i':
        case 'u':
            return size == 1 || size == 2 || size == 4 || size == 8;
        case 'f':
            return size == 2 || size == 4 || size == 8;
        case 'c':
            return size == 8 || size == 16;
        default:
            return size >= 1 && size <= MAX_BYTES_ITEMSIZE;
    }
}

}  // namespace

std::string Dtype::str() const {
    return std::string(1, byte_order) + kind + std::to_string(itemsize);
}

std::uint32_t Dtype::alignment() const noexcept {
    if (kind == 'c') return itemsize / 2;
    return is_number_kind(kind) ? itemsize : 1;
}

std::optional<Dtype> parse_dtype(std::string_view text, std::string& why) {
    const auto refuse = [&](const std::string& reason) -> std::optional<Dtype> {
        why = "dtype \"" + std::string(text) + "\": " + reason;
        return std::nullopt;
    };
    if (text.size() < 3) return refuse("expected a numpy type string such as \"<u2\", \"<f8\" or \"|S16\"");
    Dtype dtype;
    dtype.byte_order = text[0];
    dtype.kind = text[1];
    if (dtype.byte_order != '<' && dtype.byte_order != '>' && dtype.byte_order != '|') {
        return refuse("the first character is the byte order: '<' (little-endian), '>' (big-endian) or '|' (none)" +
                      std::string(dtype.byte_order == '=' ? "; '=' (native) is not allowed, name the order" : ""));
    }
    if (std::string_view("biufcSV").find(dtype.kind) == std::string_view::npos) {
        return refuse("unknown kind '" + std::string(1, dtype.kind) +
                      "'; use b (bool), i, u (integers), f (float), c (complex), S (bytes) or V (raw)");
    }
    const std::string_view digits = text.substr(2);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), dtype.itemsize);
    if (error != std::errc() || end != digits.data() + digits.size() || digits.front() == '0') {
        return refuse("the item size after the kind must be a positive decimal number");
    }
    if (!size_allowed(dtype.kind, dtype.itemsize)) {
        const std::string_view sizes = allowed_sizes(dtype.kind);
        return refuse(sizes.empty() ? "the size must be between 1 and " + std::to_string(MAX_BYTES_ITEMSIZE)
                                    : "kind '" + std::string(1, dtype.kind) + "' has sizes " + std::string(sizes));
    }
    const bool multi_byte_number = is_number_kind(dtype.kind) && dtype.itemsize > 1;
    if (multi_byte_number && dtype.byte_order == '|') {
        return refuse("a multi-byte number needs a byte order: \"<" + std::string(text.substr(1)) + "\"");
    }
    if (!multi_byte_number && dtype.byte_order != '|') {
        return refuse("a single-byte or byte-string type has no byte order: write \"|" + std::string(text.substr(1)) +
                      "\"");
    }
    return dtype;
}

}  // namespace dhub::schema
