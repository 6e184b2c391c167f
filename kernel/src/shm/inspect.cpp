// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/inspect.hpp"

#include <cstring>
#include <string>

#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"
#include "dhub/shm/channel_view.hpp"
#include "dhub/shm/checksum.hpp"
#include "dhub/shm/consumer_table.hpp"
#include "dhub/shm/segment.hpp"

namespace dhub::shm {
namespace {

using layout::SegmentHeader;

std::uint64_t age_of(std::uint64_t stamp_ns) noexcept {
    const std::uint64_t now = monotonic_ns();
    return stamp_ns != 0 && stamp_ns <= now ? now - stamp_ns : 0;
}

const char* seat_state(std::uint64_t owner, std::uint32_t state) noexcept {
    if (seat_is_evicting(owner)) return "evicting";
    if (owner == 0) return "free";
    return state == layout::CONSUMER_ACTIVE ? "active" : "joining";
}

bool any_live_consumer(const ChannelView& view) noexcept {
    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        const std::uint64_t owner = view.consumer(seat).owner.load(std::memory_order_acquire);
        if (owner != 0 && !seat_is_evicting(owner) && liveness_of(owner) == Liveness::Alive) return true;
    }
    return false;
}

}  // namespace

Result<ChannelInfo> inspect_channel(std::string_view channel) {
    auto segment = Segment::open(channel);
    if (!segment) return segment.error();
    const auto owner_uid = segment->owner_uid();
    const auto mode = segment->mode();
    auto viewed = ChannelView::inspect(std::move(segment.value()));
    if (!viewed) return viewed.error();
    const ChannelView& view = viewed.value();
    const SegmentHeader& header = view.header();

    ChannelInfo info;
    info.channel = std::string(channel);
    info.segment_bytes = view.segment().size();
    info.mode = static_cast<std::uint32_t>(mode);
    info.owner_uid = static_cast<std::uint32_t>(owner_uid);
    info.layout_version = header.layout_version;
    info.slot_count = header.slot_count;
    info.slot_payload_bytes = header.slot_payload_bytes;
    info.slot_stride_bytes = header.slot_stride_bytes;
    info.flex_zone_bytes = header.flex_zone_bytes;
    info.consumer_capacity = header.consumer_capacity;
    info.ring = view.ring();
    info.sync = view.sync();
    info.checksum = view.checksum();
    info.schema_hash_hex = to_hex(header.schema_hash, sizeof header.schema_hash);
    info.schema_descriptor = std::string(view.schema_descriptor());
    info.creation_realtime_ns = header.creation_realtime_ns;
    const std::uint64_t lease = header.writer_lease.load(std::memory_order_acquire);
    info.producer_pid = token_pid(lease);
    info.producer_start_ticks = header.producer_start_ticks.load(std::memory_order_relaxed);
    info.producer_alive = liveness_of(lease) == Liveness::Alive;
    info.producer_epoch = header.producer_epoch.load(std::memory_order_relaxed);
    info.producer_heartbeat_age_ns = age_of(header.producer_heartbeat_ns.load(std::memory_order_relaxed));
    info.closed = header.closed.load(std::memory_order_acquire) != 0;
    info.write_seq = header.write_seq.load(std::memory_order_acquire);
    const std::uint64_t flex_seq = header.flex_seq.load(std::memory_order_acquire);
    info.flex_version = flex_seq / 2;
    info.flex_locked = (flex_seq & 1) != 0;
    const auto& counters = header.counters;
    info.counters = {
        {"slots_recovered", counters.slots_recovered.load()},
        {"aborts", counters.aborts.load()},
        {"bytes_committed", counters.bytes_committed.load()},
        {"write_waits", counters.write_waits.load()},
        {"write_timeouts", counters.write_timeouts.load()},
        {"consumers_evicted", counters.consumers_evicted.load()},
        {"takeovers", counters.takeovers.load()},
        {"flex_writes", counters.flex_writes.load()},
        {"held_skips", header.held_skips.load()},
        {"upstream_lost", header.upstream_lost.load()},
    };
    for (std::uint32_t index = 0; index < view.slot_count(); ++index) {
        const auto& slot = view.slot_header(index);
        const std::uint64_t seq = slot.seq.load(std::memory_order_acquire);
        info.slots.push_back(SlotInfo{index, seq & ~layout::SLOT_BUSY_BIT, (seq & layout::SLOT_BUSY_BIT) != 0,
                                      seq == layout::SLOT_EMPTY, slot.payload_bytes.load(), slot.timestamp_ns.load()});
    }
    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        const auto& entry = view.consumer(seat);
        const std::uint64_t owner = entry.owner.load(std::memory_order_acquire);
        if (owner == 0) continue;
        ConsumerInfo consumer;
        consumer.seat = seat;
        consumer.pid = seat_is_evicting(owner) ? 0 : token_pid(owner);
        consumer.state = seat_state(owner, entry.state.load());
        consumer.alive = !seat_is_evicting(owner) && liveness_of(owner) == Liveness::Alive;
        consumer.cursor = entry.cursor.load();
        consumer.heartbeat_age_ns = age_of(entry.heartbeat_ns.load());
        consumer.reads = entry.reads.load();
        consumer.checksum_failures = entry.checksum_failures.load();
        consumer.overwritten_retries = entry.overwritten_retries.load();
        consumer.overwritten_releases = entry.overwritten_releases.load();
        consumer.held_sequence = entry.held.load();
        consumer.read_timeouts = entry.read_timeouts.load();
        consumer.latest = view.sync() == SyncPolicy::LatestOnly || (entry.flags.load() & layout::SEAT_LATEST) != 0;
        consumer.skipped = entry.skipped.load();
        consumer.name.assign(entry.name, strnlen(entry.name, sizeof entry.name));
        info.consumers.push_back(std::move(consumer));
    }
    for (const layout::GateEntry& entry : view.gate_table()) {
        if (entry.state.load(std::memory_order_acquire) != layout::GATE_ENTRY_NAMED) continue;
        GateInfo gate;
        gate.validator.assign(entry.validator, strnlen(entry.validator, sizeof entry.validator));
        gate.reason.assign(entry.reason, strnlen(entry.reason, sizeof entry.reason));
        gate.on_reject = to_string(static_cast<layout::GateAction>(entry.on_reject));
        gate.rejected = entry.rejected.load(std::memory_order_relaxed);
        info.gates.push_back(std::move(gate));
    }
    return info;
}

Result<RecoveryReport> recover_channel(std::string_view channel, bool dry_run) {
    auto segment = Segment::open(channel);
    if (!segment) return segment.error();
    auto viewed = ChannelView::inspect(std::move(segment.value()));
    if (!viewed) return viewed.error();
    const ChannelView& view = viewed.value();
    auto& header = view.header();
    RecoveryReport report;

    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        const std::uint64_t owner = view.consumer(seat).owner.load(std::memory_order_acquire);
        if (owner == 0) continue;
        if (seat_is_evicting(owner)) {
            const std::string evictor = "pid " + std::to_string(token_pid(seat_evictor(owner)));
            if (liveness_of(seat_evictor(owner)) == Liveness::Dead) {
                report.actions.push_back("finish the eviction of consumer seat " + std::to_string(seat) + " that " +
                                         evictor + " left half-done when it died");
            }
            continue;
        }
        const std::string who =
            "consumer seat " + std::to_string(seat) + " (pid " + std::to_string(token_pid(owner)) + ")";
        if (liveness_of(owner) == Liveness::Alive) {
            report.refused.push_back(who + ": process alive, left alone");
        } else {
            report.actions.push_back("evict dead " + who);
        }
    }
    if (!dry_run) evict_dead_consumers(view);

    const std::uint64_t lease = header.writer_lease.load(std::memory_order_acquire);
    if (lease != 0 && liveness_of(lease) == Liveness::Alive) {
        report.refused.push_back("producer pid " + std::to_string(token_pid(lease)) +
                                 ": process alive, its slots and lease left alone");
        return report;
    }
    if (lease != 0) {
        report.actions.push_back("release the lease of dead producer pid " + std::to_string(token_pid(lease)));
        if (!dry_run) {
            std::uint64_t expected = lease;
            header.writer_lease.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
        }
    }
    for (std::uint32_t index = 0; index < view.slot_count(); ++index) {
        auto& slot = view.slot_header(index);
        const std::uint64_t seq = slot.seq.load(std::memory_order_acquire);
        if ((seq & layout::SLOT_BUSY_BIT) == 0) continue;
        report.actions.push_back("reset slot " + std::to_string(index) + " left mid-write (sequence " +
                                 std::to_string(seq & ~layout::SLOT_BUSY_BIT) + ")");
        if (!dry_run) slot.seq.store(layout::SLOT_EMPTY, std::memory_order_release);
    }
    const std::uint64_t flex_seq = header.flex_seq.load(std::memory_order_acquire);
    if ((flex_seq & 1) != 0) {
        report.actions.push_back("unlock the flex zone (a writer died holding it)");
        if (!dry_run) header.flex_seq.store(flex_seq + 1, std::memory_order_release);
    }
    return report;
}

GarbageReport collect_garbage(bool dry_run, bool force) {
    GarbageReport report;
    auto remove = [&](const std::string& channel) {
        report.removed.push_back(channel);
        if (!dry_run) (void)Segment::unlink(channel);
    };
    for (const std::string& channel : Segment::list()) {
        const auto file = Segment::stat(channel);
        if (!file) {
            report.kept.push_back(channel + ": " + file.error().message);
            continue;
        }
        const bool young = file->age_ns < CREATION_GRACE_NS;
        if (file->size < sizeof(SegmentHeader)) {
            if (young) {
                report.kept.push_back(channel + ": being created (no header yet)");
            } else {
                remove(channel);  // its creator died before sizing it
            }
            continue;
        }
        auto segment = Segment::open(channel);
        if (!segment) {
            report.kept.push_back(channel + ": " + segment.error().message);
            continue;
        }
        const auto& header = *reinterpret_cast<const SegmentHeader*>(segment->data());
        if (header.init_state.load(std::memory_order_acquire) != layout::INIT_READY && young) {
            report.kept.push_back(channel + ": being created (header not ready yet)");
            continue;
        }
        // Nothing is read from a header that does not validate: its owner fields could name any process.
        auto viewed = ChannelView::inspect(std::move(segment.value()));
        if (!viewed) {
            report.corrupt.push_back(channel + ": " + viewed.error().message);
            if (force && !dry_run) (void)Segment::unlink(channel);
            continue;
        }
        const std::uint64_t lease = viewed->header().writer_lease.load(std::memory_order_acquire);
        if (liveness_of(lease) == Liveness::Alive) {
            report.kept.push_back(channel + ": producer pid " + std::to_string(token_pid(lease)) + " is alive");
            continue;
        }
        if (any_live_consumer(viewed.value())) {
            report.kept.push_back(channel + ": producer is gone but a consumer is still attached");
            continue;
        }
        remove(channel);
    }
    return report;
}

}  // namespace dhub::shm
