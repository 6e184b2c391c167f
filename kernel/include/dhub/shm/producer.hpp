// SPDX-License-Identifier: Apache-2.0
// The writing end of a DataBlock channel. One producer per channel, enforced in shared memory by a lease
// word that names the owning process (pid + start time). Zero-copy: acquire_write() hands out the slot
// itself; the caller fills it and commits.
//
//   auto producer = Producer::create(config);            // or an Error naming what is wrong
//   if (WriteSlot slot = producer->acquire_write()) {    // Timeout/NotOwner otherwise
//       std::span<std::byte> buffer = slot.payload();
//       ... fill buffer ...
//       slot.commit(bytes_written);                      // or let it go out of scope: aborted
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "dhub/base/result.hpp"
#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/channel_view.hpp"
#include "dhub/shm/flex_zone.hpp"
#include "dhub/shm/status.hpp"

namespace dhub::shm {

struct ProducerOptions {
    WaitOptions wait{};  ///< default for acquire_write()
    /// Remove the segment name when the producer closes cleanly (consumers keep their mapping and see
    /// Closed once they have read everything).
    bool unlink_on_close = true;
    /// close() marks the channel closed (consumers drain, then get Closed). False: close() only gives the lease
    /// back (unlink_on_close does not apply), the channel stays open for the next producer to adopt (a dhub-node-host
    /// writing for its kernel, which decides when the channel ends).
    bool close_channel = true;
    /// How long to wait for a half-created segment of another process before judging it.
    std::chrono::nanoseconds ready_timeout{std::chrono::seconds(1)};
};

class Producer;
class WriteBurst;
namespace detail {
struct ProducerState;
}

/// A slot being written. Move-only; aborted on destruction unless committed.
class [[nodiscard]] WriteSlot {
public:
    // Inline and branch-light: the handle sits on the per-slot path of every node thread.
    WriteSlot(WriteSlot&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)),
          data_(other.data_),
          capacity_(other.capacity_),
          sequence_(other.sequence_),
          status_(std::exchange(other.status_, Status::Invalid)) {}
    WriteSlot& operator=(WriteSlot&& other) noexcept;
    WriteSlot(const WriteSlot&) = delete;
    WriteSlot& operator=(const WriteSlot&) = delete;
    ~WriteSlot() {
        if (state_ != nullptr) abort();
    }

    explicit operator bool() const noexcept { return status_ == Status::Ok; }
    Status status() const noexcept { return status_; }
    /// The whole slot, slot_bytes long, writable in place.
    std::span<std::byte> payload() const noexcept { return {data_, capacity_}; }
    std::uint64_t sequence() const noexcept { return sequence_; }

    /// Publishes the first bytes of the slot, stamped now (CLOCK_MONOTONIC). TooLarge leaves the slot held.
    Status commit(std::size_t bytes) noexcept;
    /// Same, with the producer's own timestamp (e.g. the instrument's hardware time, in ns).
    Status commit(std::size_t bytes, std::uint64_t timestamp_ns) noexcept;
    /// Same, for a caller that read CLOCK_MONOTONIC just before (now_ns, the producer's heartbeat): the clock is
    /// read once per slot, not twice (a guarded channel resolves stamps before its validators run).
    Status commit(std::size_t bytes, std::uint64_t timestamp_ns, std::uint64_t now_ns) noexcept {
        return commit_stamped(bytes, timestamp_ns, now_ns);
    }
    /// Gives the slot back unpublished.
    void abort() noexcept;

private:
    friend struct detail::ProducerState;
    explicit WriteSlot(Status status) noexcept : status_(status) {}
    Status commit_stamped(std::size_t bytes, std::uint64_t timestamp_ns, std::uint64_t now_ns) noexcept;
    WriteSlot(detail::ProducerState* state, std::byte* data, std::size_t capacity, std::uint64_t sequence) noexcept
        : state_(state), data_(data), capacity_(capacity), sequence_(sequence), status_(Status::Ok) {}

    detail::ProducerState* state_ = nullptr;
    std::byte* data_ = nullptr;
    std::size_t capacity_ = 0;
    std::uint64_t sequence_ = 0;
    Status status_ = Status::Invalid;
};

/// Up to N consecutive slots acquired together and published together: one write_seq store, one fence and
/// one wake-up check for the whole burst instead of one per slot, which is what limits a producer whose
/// consumer keeps up with it (every publication hands write_seq's cache line over). Move-only; slots not
/// committed are given back, unpublished, on destruction.
///
///   if (WriteBurst burst = producer->acquire_burst(32)) {   // 1..32 slots, as many as are free
///       for (std::size_t i = 0; i < burst.size(); ++i) {
///           ... fill burst.payload(i) ...
///           burst.stamp(i, bytes_written);                    // timestamp 0: the commit's time
///       }
///       burst.commit(burst.size());                           // publishes slots [0, n); the rest go back
///   }
class [[nodiscard]] WriteBurst {
public:
    WriteBurst(WriteBurst&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)),
          view_(other.view_),
          first_(other.first_),
          size_(std::exchange(other.size_, 0)),
          status_(std::exchange(other.status_, Status::Invalid)) {}
    WriteBurst& operator=(WriteBurst&& other) noexcept;
    WriteBurst(const WriteBurst&) = delete;
    WriteBurst& operator=(const WriteBurst&) = delete;
    ~WriteBurst() {
        if (state_ != nullptr) abort();
    }

    explicit operator bool() const noexcept { return status_ == Status::Ok; }
    Status status() const noexcept { return status_; }
    /// Slots held (0 unless status() is Ok).
    std::size_t size() const noexcept { return size_; }
    /// Slot i (< size()), slot_bytes long, writable in place.
    std::span<std::byte> payload(std::size_t i) const noexcept {
        return {view_->slot_payload(first_ + i), view_->slot_payload_bytes()};
    }
    std::uint64_t sequence(std::size_t i) const noexcept { return first_ + i; }
    /// Sets slot i's committed length and timestamp (0: stamped at commit). A slot committed without a
    /// stamp carries its whole slot, stamped at commit. TooLarge if bytes exceeds the slot.
    Status stamp(std::size_t i, std::size_t bytes, std::uint64_t timestamp_ns = 0) noexcept {
        if (state_ == nullptr || i >= size_) return Status::Invalid;
        if (bytes > view_->slot_payload_bytes()) return Status::TooLarge;
        auto& slot = view_->slot_header(first_ + i);
        slot.payload_bytes.store(static_cast<std::uint32_t>(bytes), std::memory_order_relaxed);
        slot.timestamp_ns.store(timestamp_ns, std::memory_order_relaxed);
        return Status::Ok;
    }
    /// Publishes slots [0, count) with one store and gives the others back unpublished; count 0 publishes
    /// nothing. Invalid if count > size().
    Status commit(std::size_t count) noexcept { return commit(count, 0); }
    /// Same, with the CLOCK_MONOTONIC time the caller read just before (unstamped slots and the heartbeat get
    /// it): one clock read per burst, not two. 0: read it here.
    Status commit(std::size_t count, std::uint64_t now_ns) noexcept;
    /// Gives every slot back unpublished.
    void abort() noexcept;

private:
    friend struct detail::ProducerState;
    explicit WriteBurst(Status status) noexcept : status_(status) {}
    WriteBurst(detail::ProducerState* state, const ChannelView* view, std::uint64_t first, std::size_t size) noexcept
        : state_(state), view_(view), first_(first), size_(size), status_(Status::Ok) {}

    detail::ProducerState* state_ = nullptr;
    const ChannelView* view_ = nullptr;
    std::uint64_t first_ = 0;
    std::size_t size_ = 0;
    Status status_ = Status::Invalid;
};

class Producer {
public:
    /// Creates the channel's segment, or takes an existing one over when its producer is dead and its
    /// geometry matches config (sequence numbers continue; consumers stay attached). An existing segment
    /// of a dead producer with another geometry is replaced. A live producer makes this fail with
    /// AlreadyExists naming its pid.
    static Result<Producer> create(const ChannelConfig& config, ProducerOptions options = {});
    /// Takes over an existing channel whose lease was handed over (hand_over()) or whose producer died, and
    /// whose geometry matches config; never creates one. Slots its predecessor left half-written are never
    /// published (recovered as for any takeover). NotFound without the segment; AlreadyExists naming the pid
    /// while a live process holds the lease; Incompatible naming the first field that differs.
    static Result<Producer> adopt(const ChannelConfig& config, ProducerOptions options = {});

    Producer(Producer&&) noexcept;
    Producer& operator=(Producer&&) noexcept;
    ~Producer();

    /// Waits (options.wait) for a free slot. Status Timeout when consumers hold the ring full; NotOwner
    /// if another producer took the channel over. One slot may be outstanding at a time.
    WriteSlot acquire_write() noexcept;
    WriteSlot acquire_write(WaitOptions wait) noexcept;

    /// Waits (options.wait) until at least one slot is free, then takes as many consecutive free slots as
    /// there are, up to max. A latest-only channel never hands out its newest committed slot, so a burst
    /// there is at most slot_count - 1 long (1 on a single-slot ring). Same statuses as acquire_write; a
    /// burst counts as the one outstanding acquisition.
    WriteBurst acquire_burst(std::size_t max) noexcept;
    WriteBurst acquire_burst(std::size_t max, WaitOptions wait) noexcept;

    FlexZone flex_zone() const noexcept;
    /// Refreshes the producer heartbeat; commits do this too. Call it when idle for long.
    void heartbeat() noexcept;
    /// Adds count to the header's upstream_lost: slots lost before they reached this channel (a transport's
    /// receiver counts the sequence numbers its far producer committed that never arrived).
    void count_upstream_loss(std::uint64_t count) noexcept;
    /// Marks the channel closed (consumers drain, then get Closed), releases the lease and, if
    /// options.unlink_on_close, removes the name. Idempotent; the destructor calls it.
    void close() noexcept;
    /// Gives the lease up without closing the channel or removing its name, for another process to adopt()
    /// (the kernel handing a channel to an isolated node's host). This object is inert afterwards.
    void hand_over() noexcept;

    /// Sequence number the next commit will carry.
    std::uint64_t next_sequence() const noexcept;
    /// True if this producer took over the channel from a dead one instead of creating it.
    bool took_over() const noexcept;
    const ChannelView& view() const noexcept;

private:
    explicit Producer(std::unique_ptr<detail::ProducerState> state) noexcept;
    std::unique_ptr<detail::ProducerState> state_;
};

}  // namespace dhub::shm
