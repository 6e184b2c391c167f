// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/layout.hpp"

namespace dhub::shm::layout {

std::uint32_t Geometry::slot_stride_bytes() const noexcept {
    return static_cast<std::uint32_t>(sizeof(SlotHeader) + round_up(slot_payload_bytes, CACHE_LINE));
}

std::uint32_t Geometry::flex_zone_bytes() const noexcept {
    return static_cast<std::uint32_t>(round_up(flex_zone_bytes_requested, CACHE_LINE));
}

std::uint64_t Geometry::consumer_table_offset() const noexcept {
    return sizeof(SegmentHeader);
}

std::uint64_t Geometry::schema_descriptor_offset() const noexcept {
    return consumer_table_offset() + std::uint64_t{consumer_capacity} * sizeof(ConsumerEntry);
}

std::uint64_t Geometry::gate_table_offset() const noexcept {
    return round_up(schema_descriptor_offset() + schema_descriptor_bytes, CACHE_LINE);
}

std::uint64_t Geometry::flex_zone_offset() const noexcept {
    return gate_table_offset() + std::uint64_t{gate_entries} * sizeof(GateEntry);
}

std::uint64_t Geometry::ring_offset() const noexcept {
    return round_up(flex_zone_offset() + flex_zone_bytes(), PAGE);
}

std::uint64_t Geometry::total_bytes() const noexcept {
    return round_up(ring_offset() + std::uint64_t{slot_count} * slot_stride_bytes(), PAGE);
}

}  // namespace dhub::shm::layout
