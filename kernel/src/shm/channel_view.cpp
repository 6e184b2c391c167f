// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/channel_view.hpp"

#include "dhub/shm/checksum.hpp"

#include <sched.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"

namespace dhub::shm {
namespace {

using layout::SegmentHeader;

Error mismatch(const std::string& channel,
               const char* field,
               const std::string& expected,
               const std::string& found,
               ErrorCode code = ErrorCode::Incompatible) {
    return Error{code,
                 "channel '" + channel + "': header field " + field + ": expected " + expected + ", found " + found};
}

/// Checks the header against itself, the layout this build knows and the size of the file. Every check
/// names the field; the order goes from "not a dhub segment at all" to "a dhub segment that differs".
VoidResult validate_header(const Segment& segment) {
    const std::string& channel = segment.channel();
    if (segment.size() < sizeof(SegmentHeader)) {
        return mismatch(channel, "total_bytes", "at least " + std::to_string(sizeof(SegmentHeader)) + " (one header)",
                        std::to_string(segment.size()) + " (file size: the segment is truncated)", ErrorCode::Corrupt);
    }
    const auto& header = *reinterpret_cast<const SegmentHeader*>(segment.data());
    if (header.magic != layout::SEGMENT_MAGIC) {
        return mismatch(channel, "magic",
                        "0x" + to_hex(reinterpret_cast<const std::uint8_t*>(&layout::SEGMENT_MAGIC), 8),
                        "0x" + to_hex(reinterpret_cast<const std::uint8_t*>(&header.magic), 8) +
                            " (not a dhub DataBlock, or overwritten)",
                        ErrorCode::Corrupt);
    }
    if (header.layout_version != layout::LAYOUT_VERSION) {
        return mismatch(
            channel, "layout_version", std::to_string(layout::LAYOUT_VERSION),
            std::to_string(header.layout_version) + " (producer and consumer were built from different dhub versions)");
    }
    if (header.header_bytes != sizeof(SegmentHeader)) {
        return mismatch(channel, "header_bytes", std::to_string(sizeof(SegmentHeader)),
                        std::to_string(header.header_bytes), ErrorCode::Corrupt);
    }
    const layout::Geometry geometry{header.slot_count,        header.slot_payload_bytes,      header.flex_zone_bytes,
                                    header.consumer_capacity, header.schema_descriptor_bytes, header.gate_entries};
    const struct {
        const char* field;
        std::uint64_t expected;
        std::uint64_t found;
    } derived[] = {
        {"slot_stride_bytes", geometry.slot_stride_bytes(), header.slot_stride_bytes},
        {"consumer_table_offset", geometry.consumer_table_offset(), header.consumer_table_offset},
        {"flex_zone_offset", geometry.flex_zone_offset(), header.flex_zone_offset},
        {"ring_offset", geometry.ring_offset(), header.ring_offset},
        {"total_bytes", geometry.total_bytes(), header.total_bytes},
    };
    const std::string geometry_text = " (derived from slot_count=" + std::to_string(header.slot_count) +
                                      ", slot_payload_bytes=" + std::to_string(header.slot_payload_bytes) +
                                      ", flex_zone_bytes=" + std::to_string(header.flex_zone_bytes) +
                                      ", consumer_capacity=" + std::to_string(header.consumer_capacity) +
                                      ", schema_descriptor_bytes=" + std::to_string(header.schema_descriptor_bytes) +
                                      ", gate_entries=" + std::to_string(header.gate_entries) + ")";
    for (const auto& check : derived) {
        if (check.expected != check.found) {
            return mismatch(channel, check.field, std::to_string(check.expected) + geometry_text,
                            std::to_string(check.found), ErrorCode::Corrupt);
        }
    }
    if (header.schema_descriptor_bytes > MAX_SCHEMA_DESCRIPTOR_BYTES) {
        return mismatch(channel, "schema_descriptor_bytes", "at most " + std::to_string(MAX_SCHEMA_DESCRIPTOR_BYTES),
                        std::to_string(header.schema_descriptor_bytes), ErrorCode::Corrupt);
    }
    if (header.slot_count == 0 || header.consumer_capacity == 0) {
        return mismatch(channel, header.slot_count == 0 ? "slot_count" : "consumer_capacity", ">= 1", "0",
                        ErrorCode::Corrupt);
    }
    const struct {
        const char* field;
        std::uint8_t value;
        const char* allowed;
    } policies[] = {
        {"ring_policy", header.ring_policy, "1 (single), 2 (double) or 3 (ring)"},
        {"sync_policy", header.sync_policy, "1 (latest_only), 2 (single_reader) or 3 (every_reader)"},
        {"checksum_policy", header.checksum_policy, "1 (none), 2 (compute) or 3 (verify)"},
    };
    for (const auto& policy : policies) {
        if (policy.value < 1 || policy.value > 3) {
            return mismatch(channel, policy.field, policy.allowed, std::to_string(policy.value), ErrorCode::Corrupt);
        }
    }
    if (segment.size() < header.total_bytes) {
        return mismatch(channel, "total_bytes", std::to_string(header.total_bytes) + " bytes mapped",
                        std::to_string(segment.size()) + " (file size: the segment is undersized)", ErrorCode::Corrupt);
    }
    const Digest expected_checksum = geometry_checksum(header);
    if (std::memcmp(expected_checksum.data(), header.geometry_checksum, expected_checksum.size()) != 0) {
        return mismatch(channel, "geometry_checksum", to_hex(expected_checksum.data(), 8) + "... (of bytes 0-127)",
                        to_hex(header.geometry_checksum, 8) + "... (an immutable header field was modified)",
                        ErrorCode::Corrupt);
    }
    return Ok{};
}

VoidResult check_expectation(const ChannelView& view, const ChannelExpectation& expected) {
    const auto& header = view.header();
    const std::string& channel = view.channel();
    if (expected.slot_bytes && *expected.slot_bytes != header.slot_payload_bytes) {
        return mismatch(channel, "slot_payload_bytes", std::to_string(*expected.slot_bytes),
                        std::to_string(header.slot_payload_bytes));
    }
    if (expected.slot_count && *expected.slot_count != header.slot_count) {
        return mismatch(channel, "slot_count", std::to_string(*expected.slot_count), std::to_string(header.slot_count));
    }
    if (expected.sync && *expected.sync != view.sync()) {
        return mismatch(channel, "sync_policy", to_string(*expected.sync), to_string(view.sync()));
    }
    if (expected.flex_zone_bytes && layout::round_up(*expected.flex_zone_bytes, 64) != header.flex_zone_bytes) {
        return mismatch(channel, "flex_zone_bytes", std::to_string(layout::round_up(*expected.flex_zone_bytes, 64)),
                        std::to_string(header.flex_zone_bytes));
    }
    if (expected.schema_hash &&
        std::memcmp(expected.schema_hash->data(), header.schema_hash, expected.schema_hash->size()) != 0) {
        return mismatch(channel, "schema_hash", to_hex(expected.schema_hash->data(), 32),
                        to_hex(header.schema_hash, 32));
    }
    return Ok{};
}

}  // namespace

layout::Geometry geometry_of(const ChannelConfig& config) noexcept {
    return layout::Geometry{config.effective_slot_count(),
                            static_cast<std::uint32_t>(config.slot_bytes),
                            static_cast<std::uint32_t>(config.flex_zone_bytes),
                            config.max_consumers,
                            static_cast<std::uint32_t>(config.schema_descriptor.size()),
                            config.gate_entries};
}

Digest geometry_checksum(const layout::SegmentHeader& header) noexcept {
    std::byte copy[128];
    std::memcpy(copy, &header, sizeof copy);
    std::memset(copy + offsetof(SegmentHeader, init_state), 0, sizeof(std::uint32_t));
    return blake2b_256(copy);
}

ChannelView::ChannelView(Segment segment) noexcept : segment_(std::move(segment)) {
    header_ = reinterpret_cast<SegmentHeader*>(segment_.data());
    consumers_ = reinterpret_cast<layout::ConsumerEntry*>(segment_.data() + header_->consumer_table_offset);
    flex_ = segment_.data() + header_->flex_zone_offset;
    ring_ = segment_.data() + header_->ring_offset;
    slot_stride_ = header_->slot_stride_bytes;
    slot_count_ = header_->slot_count;
    power_of_two_ = (slot_count_ & (slot_count_ - 1)) == 0;
    slot_mask_ = slot_count_ - 1;
}

// The header was validated when this view was made, but it is shared memory: another process may rewrite it
// since. Each field is read once, and a region the header now places past the mapping is cut to the mapping.
std::span<std::byte> ChannelView::flex_zone() const noexcept {
    const std::uint64_t begin = static_cast<std::uint64_t>(flex_ - segment_.data());
    const std::uint64_t bytes = header_->flex_zone_bytes;
    const std::uint64_t size = segment_.size();
    return {flex_, static_cast<std::size_t>(begin >= size ? 0 : std::min(bytes, size - begin))};
}

std::string_view ChannelView::schema_descriptor() const noexcept {
    const std::uint64_t capacity = header_->consumer_capacity;
    const std::uint64_t bytes = header_->schema_descriptor_bytes;
    const std::uint64_t begin = static_cast<std::uint64_t>(reinterpret_cast<std::byte*>(consumers_) - segment_.data()) +
                                capacity * sizeof(layout::ConsumerEntry);
    const std::uint64_t size = segment_.size();
    if (begin > size || bytes > size - begin) return {};
    return {reinterpret_cast<const char*>(segment_.data() + begin), static_cast<std::size_t>(bytes)};
}

std::span<layout::GateEntry> ChannelView::gate_table() const noexcept {
    const layout::Geometry geometry{
        header_->slot_count,        header_->slot_payload_bytes,      header_->flex_zone_bytes,
        header_->consumer_capacity, header_->schema_descriptor_bytes, header_->gate_entries};
    const std::uint64_t begin = geometry.gate_table_offset();
    const std::uint64_t size = segment_.size();
    const std::uint64_t bytes = std::uint64_t{geometry.gate_entries} * sizeof(layout::GateEntry);
    if (begin > size || bytes > size - begin) return {};
    return {reinterpret_cast<layout::GateEntry*>(segment_.data() + begin), geometry.gate_entries};
}

ChannelView ChannelView::initialise(Segment segment, const ChannelConfig& config) {
    auto& header = *reinterpret_cast<SegmentHeader*>(segment.data());
    const layout::Geometry geometry = geometry_of(config);
    // The lease comes first so that a creator dying mid-initialisation leaves an owner others can test.
    header.writer_lease.store(ProcessIdentity::self().token(), std::memory_order_relaxed);
    header.producer_start_ticks.store(ProcessIdentity::self().start_ticks, std::memory_order_relaxed);
    header.magic = layout::SEGMENT_MAGIC;
    header.layout_version = layout::LAYOUT_VERSION;
    header.total_bytes = geometry.total_bytes();
    header.header_bytes = sizeof(SegmentHeader);
    header.slot_count = geometry.slot_count;
    header.slot_payload_bytes = geometry.slot_payload_bytes;
    header.slot_stride_bytes = geometry.slot_stride_bytes();
    header.flex_zone_bytes = geometry.flex_zone_bytes();
    header.consumer_capacity = geometry.consumer_capacity;
    header.ring_policy = static_cast<std::uint8_t>(config.ring);
    header.sync_policy = static_cast<std::uint8_t>(config.sync);
    header.checksum_policy = static_cast<std::uint8_t>(config.checksum);
    header.gate_entries = static_cast<std::uint8_t>(geometry.gate_entries);
    header.creation_realtime_ns = realtime_ns();
    std::memcpy(header.schema_hash, config.schema_hash.data(), config.schema_hash.size());
    const Digest attach_tag = attach_tag_of(config.attach_secret);
    std::memcpy(header.attach_tag, attach_tag.data(), attach_tag.size());
    header.consumer_table_offset = geometry.consumer_table_offset();
    header.flex_zone_offset = geometry.flex_zone_offset();
    header.ring_offset = geometry.ring_offset();
    header.mode = static_cast<std::uint32_t>(config.mode);
    header.schema_descriptor_bytes = geometry.schema_descriptor_bytes;
    std::memcpy(segment.data() + geometry.schema_descriptor_offset(), config.schema_descriptor.data(),
                config.schema_descriptor.size());
    const Digest checksum = geometry_checksum(header);
    std::memcpy(header.geometry_checksum, checksum.data(), checksum.size());
    header.producer_epoch.store(1, std::memory_order_relaxed);
    header.producer_heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);

    ChannelView view(std::move(segment));
    for (std::uint32_t i = 0; i < geometry.slot_count; ++i) {
        view.slot_header(i).seq.store(layout::SLOT_EMPTY, std::memory_order_relaxed);
    }
    header.init_state.store(layout::INIT_READY, std::memory_order_release);
    return view;
}

Result<ChannelView> ChannelView::attach(Segment segment,
                                        const ChannelExpectation& expected,
                                        std::uint64_t ready_timeout_ns) {
    if (segment.size() >= sizeof(SegmentHeader)) {
        const auto& header = *reinterpret_cast<const SegmentHeader*>(segment.data());
        const std::uint64_t deadline = monotonic_ns() + ready_timeout_ns;
        while (header.init_state.load(std::memory_order_acquire) != layout::INIT_READY) {
            if (monotonic_ns() >= deadline) {
                return Error{ErrorCode::Timeout,
                             "channel '" + segment.channel() + "': header field init_state: expected ready, found " +
                                 std::to_string(header.init_state.load()) +
                                 " (its creator has not finished, or died while creating it; `dhub-shm gc` removes "
                                 "segments of dead creators)"};
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    if (auto valid = validate_header(segment); !valid) return valid.error();
    ChannelView view(std::move(segment));
    if (auto matches = check_expectation(view, expected); !matches) return matches.error();
    return view;
}

Result<ChannelView> ChannelView::inspect(Segment segment) {
    if (segment.size() >= sizeof(SegmentHeader)) {
        const auto& header = *reinterpret_cast<const SegmentHeader*>(segment.data());
        if (header.init_state.load(std::memory_order_acquire) != layout::INIT_READY) {
            return Error{ErrorCode::Corrupt,
                         "channel '" + segment.channel() + "': header field init_state: expected ready, found " +
                             std::to_string(header.init_state.load()) + " (not yet or never initialised)"};
        }
    }
    if (auto valid = validate_header(segment); !valid) return valid.error();
    return ChannelView(std::move(segment));
}

}  // namespace dhub::shm
