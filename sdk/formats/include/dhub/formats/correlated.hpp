// SPDX-License-Identifier: Apache-2.0
// The slot layout of schema "dhub.correlated@1", what dhub.stage.correlate writes: one slot per matched set,
// the slots of every input side by side, each as it came (docs/plugins.md):
//
//   offset 0    CorrelatedHeader (16 bytes)
//   offset 16   count CorrelatedPart entries (32 bytes each), in the correlator's input order
//   then        the parts' payloads, each starting at its `offset` (a multiple of 8)
//
// Little-endian, host layout. Changing it means a new schema id, never an edit of this one.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

namespace dhub::formats {

inline constexpr const char* CORRELATED_SCHEMA_ID = "dhub.correlated@1";
inline constexpr std::uint32_t CORRELATED_MAGIC = 0x53434844;  // "DHCS" in memory order

struct CorrelatedHeader {
    std::uint32_t magic;  ///< CORRELATED_MAGIC
    std::uint32_t count;  ///< parts that follow (the correlator's inputs), >= 2
    std::uint64_t reserved;
};

struct CorrelatedPart {
    std::uint64_t sequence;      ///< the input slot's sequence on its channel
    std::uint64_t timestamp_ns;  ///< the input slot's timestamp
    std::uint64_t offset;        ///< of its payload, from the start of the slot
    std::uint64_t bytes;         ///< committed bytes of the input slot
};

static_assert(sizeof(CorrelatedHeader) == 16 && sizeof(CorrelatedPart) == 32);
static_assert(std::is_trivially_copyable_v<CorrelatedPart> && std::is_standard_layout_v<CorrelatedPart>);
static_assert(std::endian::native == std::endian::little, "dhub.correlated@1 is little-endian");

constexpr std::uint64_t correlated_align(std::uint64_t bytes) noexcept {
    return (bytes + 7) & ~std::uint64_t{7};
}

/// Bytes of a set whose parts hold these payload sizes.
inline std::uint64_t correlated_bytes(std::span<const std::uint64_t> part_bytes) noexcept {
    std::uint64_t total = sizeof(CorrelatedHeader) + part_bytes.size() * sizeof(CorrelatedPart);
    for (const std::uint64_t bytes : part_bytes)
        total = correlated_align(total) + bytes;
    return total;
}

/// One part of a set read in place.
struct CorrelatedView {
    CorrelatedPart part{};
    std::span<const std::byte> payload;
};

/// Reads a set; nullopt when the slot is not one (wrong magic, parts outside the slot).
inline std::optional<std::vector<CorrelatedView>> parse_correlated(std::span<const std::byte> slot) {
    CorrelatedHeader header{};
    if (slot.size() < sizeof header) return std::nullopt;
    std::memcpy(&header, slot.data(), sizeof header);
    if (header.magic != CORRELATED_MAGIC || header.count > (slot.size() - sizeof header) / sizeof(CorrelatedPart)) {
        return std::nullopt;
    }
    std::vector<CorrelatedView> parts(header.count);
    for (std::uint32_t i = 0; i < header.count; ++i) {
        std::memcpy(&parts[i].part, slot.data() + sizeof header + i * sizeof(CorrelatedPart), sizeof(CorrelatedPart));
        const CorrelatedPart& part = parts[i].part;
        if (part.offset > slot.size() || part.bytes > slot.size() - part.offset) return std::nullopt;
        parts[i].payload = slot.subspan(static_cast<std::size_t>(part.offset), static_cast<std::size_t>(part.bytes));
    }
    return parts;
}

}  // namespace dhub::formats
