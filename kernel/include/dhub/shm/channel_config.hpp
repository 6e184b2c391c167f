// SPDX-License-Identifier: Apache-2.0
// What a channel is: its slot geometry and its policies. One orthogonal set of choices: ring size
// (single / double / ring of N), delivery (latest-only / single reader / every reader) and integrity.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dhub/base/result.hpp"

namespace dhub::shm {

/// How many slots the ring has. Zero is never a valid value (so a zeroed header is recognisably unset).
enum class RingPolicy : std::uint8_t {
    Single = 1,  ///< one slot: the latest value
    Double = 2,  ///< two slots: the producer fills one while the other is read
    Ring = 3,    ///< N slots (ChannelConfig::slot_count)
};

/// Who sees which slot, and whether the producer waits for consumers.
enum class SyncPolicy : std::uint8_t {
    LatestOnly = 1,    ///< readers take the newest slot and may skip; the producer never waits
    SingleReader = 2,  ///< one lossless reader (seat 0), FIFO; the producer waits when the ring is full
    EveryReader = 3,   ///< every registered consumer sees every slot; the producer waits for the slowest
};

/// What one consumer is delivered, chosen when it attaches (ConsumerOptions::delivery).
enum class Delivery : std::uint8_t {
    Channel = 0,  ///< by the channel's SyncPolicy
    /// The newest slot, whatever the channel's policy: on a lossless channel the reader never holds the producer
    /// back (the producer does not wait for its seat), reads each slot into a private copy checked against
    /// reuse (never torn), and counts the slots it skipped. Zero copy stays for readers of the channel's policy.
    Latest = 1,
};

/// Per-slot BLAKE2b-256 of the committed payload bytes.
enum class ChecksumPolicy : std::uint8_t {
    None = 1,     ///< no checksum
    Compute = 2,  ///< producer computes at commit; consumers may verify on demand
    Verify = 3,   ///< producer computes at commit; every acquire_read verifies before handing out
};

using SchemaHash = std::array<std::uint8_t, 32>;

struct ChannelConfig {
    std::string name;               ///< [A-Za-z0-9_.-], 1..200 characters; the segment is /dev/shm/dhub1.<name>
    std::size_t slot_bytes = 4096;  ///< largest payload one slot holds
    RingPolicy ring = RingPolicy::Ring;
    std::uint32_t slot_count = 8;  ///< used when ring == Ring (>= 2); Single/Double imply 1/2
    SyncPolicy sync = SyncPolicy::SingleReader;
    ChecksumPolicy checksum = ChecksumPolicy::None;
    std::size_t flex_zone_bytes = 0;  ///< shared metadata region, 0 for none
    /// Size of the consumer table. SingleReader: seat 0 is the reader's, the others serve latest-only readers
    /// (ConsumerOptions::delivery).
    std::uint32_t max_consumers = 16;
    SchemaHash schema_hash{};  ///< identifies the slot layout; all zero = unchecked
    mode_t mode = 0600;        ///< permission bits of the segment
    /// Empty: any process that can open the segment may attach. Otherwise consumers must present the same
    /// secret (ConsumerOptions::attach_secret); the segment stores only a hash of it (attach_tag_of).
    std::string attach_secret{};
    /// The typed schema of the slots as a JSON document (docs/schemas.md), stored in the segment so that
    /// `dhub-shm inspect` and other languages can read the fields of a live channel; empty: none. The DataBlock
    /// stores the bytes as given and never parses them.
    std::string schema_descriptor{};
    /// Rows of rejection counts for the channel's validators (layout::GateEntry); 0: none. The DataBlock only
    /// makes room for them; the kernel's channel gate fills them (Producer::gate_table).
    std::uint32_t gate_entries = 0;

    /// The slot count the ring policy implies.
    std::uint32_t effective_slot_count() const noexcept;
};

inline constexpr std::size_t MAX_CHANNEL_NAME = 200;
inline constexpr std::uint32_t MAX_SLOT_COUNT = 1u << 20;
inline constexpr std::size_t MAX_SLOT_BYTES = std::size_t{1} << 31;
inline constexpr std::uint32_t MAX_CONSUMERS = 1024;
inline constexpr std::size_t MAX_FLEX_ZONE_BYTES = std::size_t{1} << 30;
inline constexpr std::size_t MAX_SCHEMA_DESCRIPTOR_BYTES = std::size_t{1} << 20;
inline constexpr std::uint32_t MAX_GATE_ENTRIES = 255;

/// Checks every field; the error names the field, the value and the allowed range.
VoidResult validate(const ChannelConfig& config);
VoidResult validate_channel_name(std::string_view name);

const char* to_string(RingPolicy policy) noexcept;
const char* to_string(SyncPolicy policy) noexcept;
const char* to_string(ChecksumPolicy policy) noexcept;
const char* to_string(Delivery delivery) noexcept;

/// How long a blocking call may wait, and how much of that it may spin before sleeping on a futex.
/// spin == 0: sleep at once (an idle channel costs no CPU); spin >= timeout: pure busy-wait.
struct WaitOptions {
    std::chrono::nanoseconds timeout{std::chrono::milliseconds(100)};
    std::chrono::nanoseconds spin{std::chrono::microseconds(20)};
    /// Between two looks of the spin, give the CPU to any other thread that is ready to run on it (sched_yield)
    /// instead of pausing: for threads that share CPUs, where a busy spin would hold the CPU that the awaited
    /// thread needs. Without another thread to run, the spin goes on at once, and no futex wake is needed.
    bool yield = false;
};

inline constexpr std::chrono::nanoseconds WAIT_FOREVER = std::chrono::nanoseconds::max();

}  // namespace dhub::shm
