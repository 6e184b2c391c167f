// SPDX-License-Identifier: Apache-2.0
// Looking into segments from outside, and repairing what dead processes left behind. Used by the
// `dhub-shm` tool and by tests. Nothing here touches state owned by a live process.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dhub/base/result.hpp"
#include "dhub/shm/channel_config.hpp"

namespace dhub::shm {

struct SlotInfo {
    std::uint32_t index = 0;
    std::uint64_t seq = 0;
    bool busy = false;   ///< being written (or its writer died mid-write)
    bool empty = false;  ///< never held data (or an aborted write)
    std::uint32_t payload_bytes = 0;
    std::uint64_t timestamp_ns = 0;
};

struct ConsumerInfo {
    std::uint32_t seat = 0;
    std::uint32_t pid = 0;
    const char* state = "";  ///< free / joining / active / evicting
    bool alive = false;
    std::uint64_t cursor = 0;
    std::uint64_t heartbeat_age_ns = 0;
    std::uint64_t reads = 0;
    std::uint64_t checksum_failures = 0;
    std::uint64_t overwritten_retries = 0;  ///< latest-only reads redone: the newest slot was being rewritten
    std::uint64_t overwritten_releases =
        0;                            ///< latest-only reads found rewritten at release (discarded; holds keep it 0)
    std::uint64_t held_sequence = 0;  ///< latest-only: the sequence being read + 1 (0: none)
    std::uint64_t read_timeouts = 0;
    /// Reads only the newest slot: a latest-only channel's seat, or a latest reader of a lossless one.
    bool latest = false;
    std::uint64_t skipped = 0;  ///< latest: slots committed since it joined that it never read
    std::string name;
};

/// One row of a guarded channel's rejection counts (layout::GateEntry).
struct GateInfo {
    std::string validator;
    std::string reason;
    const char* on_reject = "";  ///< drop / quarantine / stop_graph
    std::uint64_t rejected = 0;
};

struct ChannelInfo {
    std::string channel;
    std::uint64_t segment_bytes = 0;
    std::uint32_t mode = 0;
    std::uint32_t owner_uid = 0;
    std::uint32_t layout_version = 0;
    std::uint32_t slot_count = 0;
    std::uint32_t slot_payload_bytes = 0;
    std::uint32_t slot_stride_bytes = 0;
    std::uint32_t flex_zone_bytes = 0;
    std::uint32_t consumer_capacity = 0;
    RingPolicy ring{};
    SyncPolicy sync{};
    ChecksumPolicy checksum{};
    std::string schema_hash_hex;
    std::string schema_descriptor;  ///< the stored typed schema's JSON (docs/schemas.md), "" if none
    std::uint64_t creation_realtime_ns = 0;
    std::uint32_t producer_pid = 0;  ///< 0 when no producer holds the lease
    std::uint64_t producer_start_ticks = 0;
    bool producer_alive = false;
    std::uint32_t producer_epoch = 0;
    std::uint64_t producer_heartbeat_age_ns = 0;
    bool closed = false;
    std::uint64_t write_seq = 0;
    std::uint64_t flex_version = 0;
    bool flex_locked = false;
    std::map<std::string, std::uint64_t> counters;  ///< producer counters by name
    std::vector<SlotInfo> slots;
    std::vector<ConsumerInfo> consumers;  ///< occupied seats only
    std::vector<GateInfo> gates;          ///< the validators' rejections, one row per validator and reason
};

/// Reads everything about a channel without changing it (and without taking a consumer seat).
Result<ChannelInfo> inspect_channel(std::string_view channel);

struct RecoveryReport {
    std::vector<std::string> actions;  ///< what was done (or, dry run, would be done)
    std::vector<std::string> refused;  ///< what was left alone because its owner is alive
};

/// Evicts dead consumers; if the producer is dead also releases its lease, resets slots it left mid-write
/// and unlocks a flex zone it died holding. Refuses to touch anything owned by a live process.
Result<RecoveryReport> recover_channel(std::string_view channel, bool dry_run);

struct GarbageReport {
    std::vector<std::string> removed;  ///< channels whose segment was (or would be) removed
    std::vector<std::string> kept;     ///< "<channel>: <reason>"
    /// "<channel>: <what is wrong>" for segments whose header does not validate (corrupt, or another layout
    /// version): nothing in them is trusted, not even the owner fields. Removed only with force.
    std::vector<std::string> corrupt;
};

/// Removes segments nobody alive uses: no live producer and no live consumer, or a creator that died
/// before finishing the header. A segment whose header does not validate is listed as corrupt and removed
/// only when `force` is set.
GarbageReport collect_garbage(bool dry_run, bool force = false);

}  // namespace dhub::shm
