// SPDX-License-Identifier: Apache-2.0
// A mapped DataBlock segment seen through its layout: typed access to the header, the consumer table, the
// flex zone and the slots. Creating one validates the header against the segment and against what the
// caller expects, with an error that names the field, the expected and the found value.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dhub/base/result.hpp"
#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/checksum.hpp"
#include "dhub/shm/layout.hpp"
#include "dhub/shm/segment.hpp"

namespace dhub::shm {

/// What an attacher insists on; unset fields are not checked.
struct ChannelExpectation {
    std::optional<std::size_t> slot_bytes{};
    std::optional<std::uint32_t> slot_count{};
    std::optional<SyncPolicy> sync{};
    std::optional<SchemaHash> schema_hash{};
    std::optional<std::size_t> flex_zone_bytes{};
};

class ChannelView {
public:
    ChannelView() = default;

    /// Lays a fresh, zeroed segment out for config and publishes it (init_state = READY last).
    static ChannelView initialise(Segment segment, const ChannelConfig& config);
    /// Waits up to ready_timeout_ns for the creator to publish the header, then validates it.
    static Result<ChannelView> attach(Segment segment,
                                      const ChannelExpectation& expected,
                                      std::uint64_t ready_timeout_ns);
    /// Validates without waiting: for inspection tools that must not block on a half-made segment.
    static Result<ChannelView> inspect(Segment segment);

    layout::SegmentHeader& header() const noexcept { return *header_; }
    layout::ConsumerEntry& consumer(std::uint32_t index) const noexcept { return consumers_[index]; }
    std::uint32_t consumer_capacity() const noexcept { return header_->consumer_capacity; }
    std::uint32_t slot_count() const noexcept { return slot_count_; }
    std::uint32_t slot_payload_bytes() const noexcept { return header_->slot_payload_bytes; }
    SyncPolicy sync() const noexcept { return static_cast<SyncPolicy>(header_->sync_policy); }
    ChecksumPolicy checksum() const noexcept { return static_cast<ChecksumPolicy>(header_->checksum_policy); }
    RingPolicy ring() const noexcept { return static_cast<RingPolicy>(header_->ring_policy); }

    /// The slot that holds (or will hold) sequence number seq.
    layout::SlotHeader& slot_header(std::uint64_t seq) const noexcept {
        return *reinterpret_cast<layout::SlotHeader*>(slot_base(seq));
    }
    std::byte* slot_payload(std::uint64_t seq) const noexcept { return slot_base(seq) + sizeof(layout::SlotHeader); }
    /// The flex zone; clamped to the mapping, whatever the shared header says by now.
    std::span<std::byte> flex_zone() const noexcept;
    /// The schema descriptor stored at creation (ChannelConfig::schema_descriptor), "" if none. It sits right
    /// after the consumer table; "" too if the shared header now places it outside the mapping.
    std::string_view schema_descriptor() const noexcept;
    /// The rejection counts of the channel's validators (layout::GateEntry); empty when it has none, or when the
    /// shared header now places them outside the mapping.
    std::span<layout::GateEntry> gate_table() const noexcept;

    const Segment& segment() const noexcept { return segment_; }
    const std::string& channel() const noexcept { return segment_.channel(); }
    bool valid() const noexcept { return header_ != nullptr; }

private:
    explicit ChannelView(Segment segment) noexcept;
    std::byte* slot_base(std::uint64_t seq) const noexcept {
        // Power-of-two rings use a mask; others a division (only on rings the user sized oddly).
        const std::uint64_t index = power_of_two_ ? (seq & slot_mask_) : (seq % slot_count_);
        return ring_ + index * slot_stride_;
    }

    Segment segment_;
    layout::SegmentHeader* header_ = nullptr;
    layout::ConsumerEntry* consumers_ = nullptr;
    // No member is added here lightly: the producer's and consumers' hot fields follow this view in their
    // cache-line-aligned state (24 more bytes here cost a lossless 4 KiB burst run 5 %).
    std::byte* flex_ = nullptr;
    std::byte* ring_ = nullptr;
    std::uint64_t slot_stride_ = 0;
    std::uint32_t slot_count_ = 0;
    std::uint64_t slot_mask_ = 0;
    bool power_of_two_ = true;
};

/// The segment geometry a configuration implies.
layout::Geometry geometry_of(const ChannelConfig& config) noexcept;

/// BLAKE2b-256 of the immutable header bytes [0, 128) with init_state read as zero.
Digest geometry_checksum(const layout::SegmentHeader& header) noexcept;

}  // namespace dhub::shm
