// SPDX-License-Identifier: Apache-2.0
// The binary layout of a DataBlock segment. This is ABI shared by every process that maps the segment:
// any change to a field, its offset or its meaning must bump LAYOUT_VERSION (a static_assert below and the
// LayoutBinaryCompatibility test pin every offset). docs/shm-layout.md describes each field, the slot
// state machine and the memory-ordering argument.
//
// Segment map (offsets from the segment base; no pointers are stored, only offsets):
//   [0, H)          SegmentHeader                          H = sizeof(SegmentHeader)
//   [C, C+K*128)    ConsumerEntry[K]                       K = consumer_capacity
//   [D, D+Y)        schema descriptor (JSON text)          D = C+K*128, Y = schema_descriptor_bytes
//   [G, G+E*128)    GateEntry[E]                           G = D+Y up to 64, E = gate_entries (validators)
//   [F, F+Z)        flex zone                              F = G+E*128; Z = flex_zone_bytes up to 64
//   [R, R+N*S)      ring: N slots of stride S              R is 4 KiB aligned; S = 64 + payload up to 64
//   total rounded up to 4 KiB
// A slot is a 64-byte SlotHeader followed by its payload.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dhub::shm::layout {

inline constexpr std::uint64_t SEGMENT_MAGIC = 0x314D485342554844ULL;  // "DHUBSHM1" little-endian
// 2: latest-only holds (ConsumerEntry::held, reuse_claim); 3: holds_fenced (a producer's looks may be unfenced);
// 4: identity tokens carry a pid-namespace tag, and an evicting seat's owner names its evictor;
// 5: the typed schema's descriptor is stored after the consumer table (schema_descriptor_bytes);
// 6: a seat may read a lossless channel latest-only (SEAT_LATEST, ConsumerEntry::skipped), and a single-reader
//    channel has max_consumers seats: seat 0 is its reader's, the others are latest seats
// 7: a channel guarded by validators has a table of their rejections (gate_entries, GateEntry)
inline constexpr std::uint32_t LAYOUT_VERSION = 8;
inline constexpr std::size_t CACHE_LINE = 64;
inline constexpr std::size_t PAGE = 4096;

/// SegmentHeader::init_state values. The creator writes every field, then release-stores Ready; an
/// attacher reads nothing else before it acquire-loads Ready (the seed published magic first: bug).
inline constexpr std::uint32_t INIT_IN_PROGRESS = 0;
inline constexpr std::uint32_t INIT_READY = 0x52454459;  // "YDER"

/// SlotHeader::seq while the producer writes the slot (the low bits keep the sequence being written).
inline constexpr std::uint64_t SLOT_BUSY_BIT = 1ULL << 63;
/// SlotHeader::seq of a slot that never held data.
inline constexpr std::uint64_t SLOT_EMPTY = ~0ULL >> 1;

/// Counters the producer updates (relaxed: they are statistics, not synchronisation).
struct ProducerCounters {
    std::atomic<std::uint64_t> slots_recovered;  ///< slots a dead producer left mid-write, reset on takeover
    std::atomic<std::uint64_t> aborts;
    std::atomic<std::uint64_t> bytes_committed;
    std::atomic<std::uint64_t> write_waits;        ///< acquire_write had to wait for a consumer
    std::atomic<std::uint64_t> write_timeouts;     ///< ... and gave up
    std::atomic<std::uint64_t> consumers_evicted;  ///< dead consumers removed from the table
    std::atomic<std::uint64_t> takeovers;          ///< a new producer took over after the old one died
    std::atomic<std::uint64_t> flex_writes;
};
static_assert(sizeof(ProducerCounters) == CACHE_LINE);

struct alignas(CACHE_LINE) SegmentHeader {
    // ---- line 0: frozen prefix and immutable geometry (never change after INIT_READY) -------------
    std::uint64_t magic;                    ///< SEGMENT_MAGIC
    std::uint32_t layout_version;           ///< LAYOUT_VERSION; offset 8 is frozen forever
    std::atomic<std::uint32_t> init_state;  ///< INIT_IN_PROGRESS -> INIT_READY (release)
    std::uint64_t total_bytes;              ///< size of the whole segment
    std::uint32_t header_bytes;             ///< sizeof(SegmentHeader)
    std::uint32_t slot_count;
    std::uint32_t slot_payload_bytes;  ///< largest payload per slot (as configured)
    std::uint32_t slot_stride_bytes;   ///< 64-byte SlotHeader + payload rounded up to 64
    std::uint32_t flex_zone_bytes;     ///< rounded up to 64
    std::uint32_t consumer_capacity;
    std::uint8_t ring_policy;      ///< RingPolicy
    std::uint8_t sync_policy;      ///< SyncPolicy
    std::uint8_t checksum_policy;  ///< ChecksumPolicy
    std::uint8_t gate_entries;     ///< GateEntry rows after the schema descriptor; 0: the channel has no validators
    std::uint8_t reserved0[4];
    std::uint64_t creation_realtime_ns;
    // ---- line 1: schema and region offsets ---------------------------------------------------------
    std::uint8_t schema_hash[32];
    std::uint64_t consumer_table_offset;
    std::uint64_t flex_zone_offset;
    std::uint64_t ring_offset;
    std::uint32_t mode;  ///< permission bits at creation (for inspection)
    /// Length of the typed schema's JSON document (docs/schemas.md) stored right after the consumer table;
    /// 0: the channel carries an opaque schema id only. Immutable, so covered by geometry_checksum.
    std::uint32_t schema_descriptor_bytes;
    // ---- line 2: integrity of the lines above and producer ownership (cold) -----------------------
    std::uint8_t geometry_checksum[32];               ///< BLAKE2b-256 of bytes [0, 128) with init_state taken as 0
    std::atomic<std::uint64_t> writer_lease;          ///< ProcessIdentity::token() of the producer, 0 = none
    std::atomic<std::uint64_t> producer_start_ticks;  ///< full start time of the lease holder
    std::atomic<std::uint32_t> producer_epoch;        ///< +1 on every create or takeover
    std::atomic<std::uint32_t> closed;                ///< 1 once the producer closed the channel cleanly
    /// Latest-only: sequence numbers the producer passed over because a reader held their slot (never
    /// published; a gap in write_seq that no reader waits for).
    std::atomic<std::uint64_t> held_skips;
    // ---- line 3: producer hot path: read by every consumer, written only by the producer ----------
    alignas(CACHE_LINE) std::atomic<std::uint64_t> write_seq;  ///< committed slots = next sequence
    std::atomic<std::uint64_t> producer_heartbeat_ns;          ///< CLOCK_MONOTONIC
    /// Slots lost before they reached this channel, as its producer learnt of them: sequence numbers a
    /// transport's far producer committed that never arrived (layout 8). Written rarely, only by the producer.
    std::atomic<std::uint64_t> upstream_lost;
    std::uint8_t reserved3[40];
    // ---- line 4: consumers asleep waiting for a commit (written by consumers, read by producer) ---
    alignas(CACHE_LINE) std::atomic<std::uint32_t> readers_waiting;
    std::atomic<std::uint32_t> commit_futex;  ///< bumped by the producer to wake sleeping readers
    /// Seats [0, this) may be in use: raised (never lowered) by a consumer taking a seat, before it can hold a
    /// latest-only slot, so the producer looks at that many seats' holds, not at the whole table.
    std::atomic<std::uint32_t> seats_in_use;
    std::uint8_t reserved4[52];
    // ---- line 5: producer asleep waiting for space (written by producer, read by consumers) -------
    alignas(CACHE_LINE) std::atomic<std::uint32_t> writer_waiting;
    std::atomic<std::uint32_t> space_futex;  ///< bumped by a consumer to wake a sleeping producer
    /// A sleeping producer is woken by the consumer whose cursor reaches this (half a ring of space).
    std::atomic<std::uint64_t> writer_wake_cursor;
    /// Latest-only: the producer writes only sequences below this until it looks at the readers' holds
    /// again; stored (seq_cst) before it looks (docs/shm-layout.md, "latest-only holds"). Not on write_seq's
    /// line: readers poll that one, and this is stored once per look, not per slot.
    std::atomic<std::uint64_t> reuse_claim;
    /// Latest-only: 1 while the producer stores its claims and reads the holds with fences (seq_cst); 0 while
    /// it looks without fences (no holding reader yet), and a reader taking a hold must then order its side
    /// with an asymmetric fence (membarrier). Set once per producer; docs/shm-layout.md, "latest-only holds".
    std::atomic<std::uint32_t> holds_fenced;
    std::uint8_t reserved5[36];
    // ---- line 6: flex zone seqlock -----------------------------------------------------------------
    alignas(CACHE_LINE) std::atomic<std::uint64_t> flex_seq;  ///< odd while a writer holds the zone
    std::atomic<std::uint64_t> flex_used_bytes;               ///< bytes of the zone the last writer wrote
    /// attach_tag_of(the channel's attach secret); all zero: no secret is asked on attach. Written before
    /// INIT_READY, read only by attaching consumers (so it can share this rarely written line).
    std::uint8_t attach_tag[32];
    /// Latest-only: attached consumers that hold the slots they read (ConsumerOptions::hold). While it is 0
    /// the producer's looks skip reading the holds. Raised before such a seat holds anything; lowered when the
    /// seat is given up or evicted (a crash in between leaves it too high, which only costs looks).
    std::atomic<std::uint32_t> holding_readers;
    std::uint8_t reserved6[12];
    // ---- line 7: producer counters -----------------------------------------------------------------
    alignas(CACHE_LINE) ProducerCounters counters;
};

/// One per consumer seat. Line 0 is written by its consumer on every release and read by the producer
/// when it looks for the slowest reader; line 1 is identity and statistics.
struct alignas(CACHE_LINE) ConsumerEntry {
    std::atomic<std::uint64_t> cursor;        ///< next sequence this consumer will read
    std::atomic<std::uint64_t> heartbeat_ns;  ///< CLOCK_MONOTONIC
    std::atomic<std::uint32_t> state;         ///< CONSUMER_FREE / CONSUMER_JOINING / CONSUMER_ACTIVE
    /// SEAT_HOLDS: counted in SegmentHeader::holding_readers. SEAT_LATEST: a latest-only reader of a lossless
    /// channel, whose cursor the producer never waits for. Set before the seat becomes active.
    std::atomic<std::uint32_t> flags;
    /// Latest-only: the sequence this consumer is reading + 1 (0: none). The producer never rewrites a slot
    /// a live hold names (docs/shm-layout.md, "latest-only holds").
    std::atomic<std::uint64_t> held;
    /// Latest-only reads whose slot was found rewritten at release (discarded). Holds keep it 0.
    std::atomic<std::uint64_t> overwritten_releases;
    /// Latest-only readers: slots committed since the seat joined that it never read (a newer one was read).
    std::atomic<std::uint64_t> skipped;
    std::uint8_t reserved1[16];
    alignas(
        CACHE_LINE) std::atomic<std::uint64_t> owner;  ///< ProcessIdentity::token(), 0 = free seat, or an evicting mark
    std::atomic<std::uint64_t> reads;
    std::atomic<std::uint64_t> checksum_failures;
    std::atomic<std::uint64_t> overwritten_retries;  ///< latest-only reads redone because a slot was reused
    std::atomic<std::uint64_t> read_timeouts;
    char name[24];  ///< NUL-terminated, truncated
};

inline constexpr std::uint32_t CONSUMER_FREE = 0;
inline constexpr std::uint32_t CONSUMER_JOINING = 1;
inline constexpr std::uint32_t CONSUMER_ACTIVE = 2;

/// ConsumerEntry::flags bits.
inline constexpr std::uint32_t SEAT_HOLDS = 1;
inline constexpr std::uint32_t SEAT_LATEST = 2;

/// One row of a guarded channel's rejection counts: one validator and one kind of rejection. Written only by
/// the producer (the validators run in its node before publication), read by inspection.
struct alignas(CACHE_LINE) GateEntry {
    /// GATE_ENTRY_UNUSED, or GATE_ENTRY_NAMED once validator, reason and on_reject are written (release).
    std::atomic<std::uint32_t> state;
    std::uint8_t on_reject;  ///< GateAction: what the channel does with a slot this validator rejects
    std::uint8_t reserved0[3];
    char validator[48];  ///< the validator's name on the channel, NUL-terminated
    char reason[48];     ///< the kind of rejection ("out_of_range"; "other" once a validator has too many kinds)
    std::atomic<std::uint64_t> rejected;
    std::uint8_t reserved1[16];
};

inline constexpr std::uint32_t GATE_ENTRY_UNUSED = 0;
inline constexpr std::uint32_t GATE_ENTRY_NAMED = 1;
/// GateEntry::on_reject values.
enum class GateAction : std::uint8_t { Drop = 1, Quarantine = 2, StopGraph = 3 };
/// "drop", "quarantine", "stop_graph"; "unknown" for anything else (a header from a newer writer, or damage).
constexpr const char* to_string(GateAction action) noexcept {
    switch (action) {
        case GateAction::Drop:
            return "drop";
        case GateAction::Quarantine:
            return "quarantine";
        case GateAction::StopGraph:
            return "stop_graph";
    }
    return "unknown";
}

/// The first 64 bytes of every slot.
struct alignas(CACHE_LINE) SlotHeader {
    std::atomic<std::uint64_t> seq;            ///< sequence held; SLOT_BUSY_BIT while written; SLOT_EMPTY if never
    std::atomic<std::uint64_t> timestamp_ns;   ///< producer's stamp (CLOCK_MONOTONIC unless it gave one)
    std::atomic<std::uint32_t> payload_bytes;  ///< committed length
    std::uint32_t flags;                       ///< reserved, 0
    std::uint8_t checksum[32];                 ///< BLAKE2b-256 of payload[0, payload_bytes) when checksums are on
    std::uint64_t reserved;
};

static_assert(sizeof(SegmentHeader) == 8 * CACHE_LINE);
static_assert(sizeof(ConsumerEntry) == 2 * CACHE_LINE);
static_assert(sizeof(GateEntry) == 2 * CACHE_LINE);
static_assert(offsetof(GateEntry, rejected) == 104);
static_assert(offsetof(SegmentHeader, gate_entries) == 51);
static_assert(sizeof(SlotHeader) == CACHE_LINE);
static_assert(offsetof(SegmentHeader, layout_version) == 8);
static_assert(offsetof(SegmentHeader, init_state) == 12);
static_assert(offsetof(SegmentHeader, schema_hash) == 64);
static_assert(offsetof(SegmentHeader, geometry_checksum) == 128);
static_assert(offsetof(SegmentHeader, writer_lease) == 160);
static_assert(offsetof(SegmentHeader, write_seq) == 192);
static_assert(offsetof(SegmentHeader, upstream_lost) == 208);
static_assert(offsetof(SegmentHeader, reuse_claim) == 336);
static_assert(offsetof(SegmentHeader, seats_in_use) == 264);
static_assert(offsetof(SegmentHeader, holding_readers) == 432);
static_assert(offsetof(SegmentHeader, holds_fenced) == 344);
static_assert(offsetof(ConsumerEntry, held) == 24);
static_assert(offsetof(ConsumerEntry, skipped) == 40);
static_assert(offsetof(SegmentHeader, readers_waiting) == 256);
static_assert(offsetof(SegmentHeader, writer_waiting) == 320);
static_assert(offsetof(SegmentHeader, flex_seq) == 384);
static_assert(offsetof(SegmentHeader, counters) == 448);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

/// Where everything sits, derived only from the geometry. The creator uses it to lay the segment out and
/// an attacher to check that the header is consistent with itself and with the file size.
struct Geometry {
    std::uint32_t slot_count = 0;
    std::uint32_t slot_payload_bytes = 0;
    std::uint32_t flex_zone_bytes_requested = 0;
    std::uint32_t consumer_capacity = 0;
    std::uint32_t schema_descriptor_bytes = 0;
    std::uint32_t gate_entries = 0;

    std::uint32_t slot_stride_bytes() const noexcept;
    std::uint32_t flex_zone_bytes() const noexcept;
    std::uint64_t consumer_table_offset() const noexcept;
    std::uint64_t schema_descriptor_offset() const noexcept;
    std::uint64_t gate_table_offset() const noexcept;
    std::uint64_t flex_zone_offset() const noexcept;
    std::uint64_t ring_offset() const noexcept;
    std::uint64_t total_bytes() const noexcept;
};

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t alignment) noexcept {
    return (value + alignment - 1) / alignment * alignment;
}

}  // namespace dhub::shm::layout
