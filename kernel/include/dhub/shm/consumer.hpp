// SPDX-License-Identifier: Apache-2.0
// The reading end of a DataBlock channel. Each consumer holds a seat in the segment's consumer table
// (identity, heartbeat, cursor). Zero-copy: acquire_read() hands out a read-only view of the slot.
//
//   auto consumer = Consumer::attach("cam0", {.name = "viewer"});
//   if (ReadSlot slot = consumer->acquire_read()) {      // Timeout / Closed / ChecksumMismatch otherwise
//       use(slot.payload(), slot.sequence(), slot.timestamp_ns());
//       slot.release();                                   // latest-only: Overwritten means read again
//   }
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "dhub/base/result.hpp"
#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/channel_view.hpp"
#include "dhub/shm/flex_zone.hpp"
#include "dhub/shm/status.hpp"

namespace dhub::shm {

struct ConsumerOptions {
    std::string name;             ///< shown by `dhub-shm inspect` (first 23 characters)
    ChannelExpectation expect{};  ///< refuse to attach unless the channel matches
    WaitOptions wait{};           ///< default for acquire_read()
    std::chrono::nanoseconds ready_timeout{std::chrono::seconds(1)};
    /// The channel's attach secret, as the producer's broker registration hands it out; checked against the
    /// segment's attach_tag (constant time). Ignored by channels created without one.
    std::string attach_secret{};
    /// Latest-only: hold each slot while it is read, so the producer never rewrites it meanwhile (it passes
    /// over a held slot; docs/shm-layout.md, "latest-only holds"). For readers that act on a slot before they
    /// can tell whether it stayed whole: dhub-kernel's nodes always hold. Without it, release() reports a slot
    /// rewritten during the read as Overwritten, and what was read must be discarded. Holding costs each read
    /// a locked store and the producer a look at the holds once per ring - 1 slots.
    bool hold = false;
    /// Delivery::Latest reads only the newest slot whatever the channel's policy; on a lossless channel the
    /// producer never waits for this reader, who gets a private copy of each slot instead of a view in place
    /// (checked against reuse, never torn) and counts what it skipped. For viewers and monitors beside a
    /// lossless recorder.
    Delivery delivery = Delivery::Channel;
};

namespace detail {
struct ConsumerState;

/// A latest-only read of a lossless channel: the slot's bytes copied out of the ring while it stayed whole.
struct CopiedSlot {
    const std::byte* data = nullptr;
    std::uint32_t bytes = 0;
    std::uint64_t timestamp_ns = 0;
};
}  // namespace detail

/// A slot being read. Move-only; released on destruction.
class [[nodiscard]] ReadSlot {
public:
    // Inline and branch-light: the handle sits on the per-slot path of every node thread.
    ReadSlot(ReadSlot&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)),
          data_(other.data_),
          bytes_(other.bytes_),
          sequence_(other.sequence_),
          timestamp_ns_(other.timestamp_ns_),
          status_(std::exchange(other.status_, Status::Invalid)) {}
    ReadSlot& operator=(ReadSlot&& other) noexcept;
    ReadSlot(const ReadSlot&) = delete;
    ReadSlot& operator=(const ReadSlot&) = delete;
    ~ReadSlot() {
        if (state_ != nullptr) (void)release();
    }

    explicit operator bool() const noexcept { return status_ == Status::Ok; }
    Status status() const noexcept { return status_; }
    /// The committed bytes, read-only, in place in shared memory.
    std::span<const std::byte> payload() const noexcept { return {data_, bytes_}; }
    /// For ChecksumMismatch too: the sequence number of the slot that failed.
    std::uint64_t sequence() const noexcept { return sequence_; }
    std::uint64_t timestamp_ns() const noexcept { return timestamp_ns_; }

    /// Hands the slot back. Ok, or (latest-only, without ConsumerOptions::hold) Overwritten: the producer
    /// reused the slot while it was read, so what was read may be torn and must be discarded.
    Status release() noexcept;

private:
    friend struct detail::ConsumerState;
    explicit ReadSlot(Status status, std::uint64_t sequence = 0) noexcept : sequence_(sequence), status_(status) {}
    ReadSlot(detail::ConsumerState* state,
             const std::byte* data,
             std::size_t bytes,
             std::uint64_t sequence,
             std::uint64_t timestamp_ns) noexcept
        : state_(state),
          data_(data),
          bytes_(bytes),
          sequence_(sequence),
          timestamp_ns_(timestamp_ns),
          status_(Status::Ok) {}

    detail::ConsumerState* state_ = nullptr;
    const std::byte* data_ = nullptr;
    std::size_t bytes_ = 0;
    std::uint64_t sequence_ = 0;
    std::uint64_t timestamp_ns_ = 0;
    Status status_ = Status::Invalid;
};

/// Consecutive committed slots held together and handed back with one cursor store (lossless policies);
/// the reading side of WriteBurst. A latest-only burst is the newest slot alone. Move-only; released on
/// destruction.
///
///   if (ReadBurst burst = consumer->acquire_burst(32)) {      // 1..32 slots, as many as are committed
///       for (std::size_t i = 0; i < burst.size(); ++i) use(burst.payload(i), burst.sequence(i));
///       burst.release();
///   }
class [[nodiscard]] ReadBurst {
public:
    ReadBurst(ReadBurst&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)),
          view_(other.view_),
          copy_(other.copy_),
          first_(other.first_),
          size_(std::exchange(other.size_, 0)),
          status_(std::exchange(other.status_, Status::Invalid)) {}
    ReadBurst& operator=(ReadBurst&& other) noexcept;
    ReadBurst(const ReadBurst&) = delete;
    ReadBurst& operator=(const ReadBurst&) = delete;
    ~ReadBurst() {
        if (state_ != nullptr) (void)release();
    }

    explicit operator bool() const noexcept { return status_ == Status::Ok; }
    Status status() const noexcept { return status_; }
    /// Slots held (0 unless status() is Ok).
    std::size_t size() const noexcept { return size_; }
    /// Slot i's committed bytes, read-only, in place. For ChecksumMismatch, sequence(0) names the slot
    /// that failed.
    std::span<const std::byte> payload(std::size_t i) const noexcept {
        if (copy_ != nullptr) [[unlikely]]
            return {copy_->data, copy_->bytes};
        // Clamped: a corrupted length must not let anyone read past the slot.
        const std::uint32_t bytes = view_->slot_header(first_ + i).payload_bytes.load(std::memory_order_relaxed);
        return {view_->slot_payload(first_ + i), std::min(bytes, view_->slot_payload_bytes())};
    }
    std::uint64_t sequence(std::size_t i) const noexcept { return first_ + i; }
    std::uint64_t timestamp_ns(std::size_t i) const noexcept {
        if (copy_ != nullptr) [[unlikely]]
            return copy_->timestamp_ns;
        return view_->slot_header(first_ + i).timestamp_ns.load(std::memory_order_relaxed);
    }

    /// Hands every slot back. Ok, or (latest-only) Overwritten as for ReadSlot::release.
    Status release() noexcept;
    /// Hands back the first `count` slots (lossless policies): the others are read again by the next
    /// acquire, first. count >= size() is release(); on a latest-only channel any count releases the slot.
    Status release(std::size_t count) noexcept;
    /// Hands back the first `count` slots (lossless policies) and keeps holding the others, which stay unchanged
    /// (the producer cannot pass them): a burst kept past one call. count >= size() is release().
    Status release_front(std::size_t count) noexcept;

private:
    friend struct detail::ConsumerState;
    explicit ReadBurst(Status status, std::uint64_t sequence = 0) noexcept : first_(sequence), status_(status) {}
    ReadBurst(detail::ConsumerState* state,
              const ChannelView* view,
              const detail::CopiedSlot* copy,
              std::uint64_t first,
              std::size_t size) noexcept
        : state_(state), view_(view), copy_(copy), first_(first), size_(size), status_(Status::Ok) {}

    detail::ConsumerState* state_ = nullptr;
    const ChannelView* view_ = nullptr;
    const detail::CopiedSlot* copy_ = nullptr;  ///< set for a latest-only read of a lossless channel
    std::uint64_t first_ = 0;
    std::size_t size_ = 0;
    Status status_ = Status::Invalid;
};

class Consumer {
public:
    /// Attaches to an existing channel and takes a seat in its consumer table. Fails with an error that
    /// names the field for a wrong magic, layout version, size or schema; with AlreadyExists if the single
    /// reader seat is held by a live process; PermissionDenied / NotFound from the OS.
    /// Every-reader and latest-only consumers start at the newest slot; a single reader resumes where the
    /// previous reader stopped (a slot it died holding is delivered again). A latest-only reader of a
    /// single-reader channel takes one of seats 1..max_consumers-1 (AlreadyExists when there is none).
    static Result<Consumer> attach(std::string_view channel, ConsumerOptions options = {});
    /// Reads through a seat another process claimed and keeps (the kernel, for an isolated node's host): the
    /// seat's owner must be owner_token and alive. The seat stays the owner's when this consumer ends or its
    /// process dies, cursor included: a successor attached to it reads on from the first slot not released (a
    /// slot held at a crash is delivered again), and no slot is lost meanwhile. options.name and the seat's
    /// flags are the owner's; hold and delivery must be those it claimed the seat with.
    static Result<Consumer> attach_to_seat(std::string_view channel,
                                           std::uint32_t seat,
                                           std::uint64_t owner_token,
                                           ConsumerOptions options = {});

    Consumer(Consumer&&) noexcept;
    Consumer& operator=(Consumer&&) noexcept;
    ~Consumer();

    /// Waits (options.wait) for the next slot by the channel's policy. Statuses: Timeout, Closed (the
    /// producer closed and everything was read), ChecksumMismatch (slot skipped and counted; sequence()
    /// names it). One slot may be held at a time.
    ReadSlot acquire_read() noexcept;
    ReadSlot acquire_read(WaitOptions wait) noexcept;

    /// Waits (options.wait) for at least one slot, then takes every committed unread slot, up to max
    /// (lossless policies; latest-only: the newest slot). Same statuses as acquire_read; with checksum
    /// verification a burst ends before a slot that fails, and a failing first slot is skipped and reported
    /// as ChecksumMismatch. A burst counts as the one slot held.
    ReadBurst acquire_burst(std::size_t max) noexcept;
    ReadBurst acquire_burst(std::size_t max, WaitOptions wait) noexcept;

    /// Lossless policies: grows a burst this consumer holds by up to `max` committed slots after it, waiting (wait)
    /// for at least one, for a reader that keeps slots past one call (a transport handing them to a network library
    /// without copying: acquire_burst, then extend_burst and ReadBurst::release_front). Only the new slots are
    /// verified; one that fails ends the growth before it, and when it would be the first new slot the burst is left
    /// as it was and ChecksumMismatch comes back (it is skipped, and counted, by the acquire that finds it leading).
    /// Statuses as acquire_burst; Invalid for a burst that is not this consumer's or on a latest-only channel. On any
    /// status but Ok the burst is unchanged.
    Status extend_burst(ReadBurst& burst, std::size_t max, WaitOptions wait) noexcept;

    /// Latest-only helper that re-reads until a read was not overwritten: fn(const ReadSlot&) is called
    /// once per attempt and must only trust what it read once read_consistent returns Ok.
    template <typename Fn>
    Status read_consistent(Fn&& fn, WaitOptions wait) {
        for (;;) {
            ReadSlot slot = acquire_read(wait);
            if (!slot) return slot.status();
            fn(static_cast<const ReadSlot&>(slot));
            if (const Status released = slot.release(); released != Status::Overwritten) return released;
        }
    }

    FlexZone flex_zone() const noexcept;
    /// Whether the process holding the producer lease is alive (false also when there is none).
    bool producer_alive() const noexcept;
    /// Whether this consumer reads only the newest slot: a latest-only channel, or Delivery::Latest.
    bool latest_only() const noexcept;
    /// Latest-only: slots committed since it joined that it never read, a newer one being read (the seat's count).
    std::uint64_t skipped() const noexcept;
    /// Where this consumer stands: the sequence its next lossless read starts from (latest-only: one past the
    /// newest slot it read, 0 before the first). Every slot below it was handed out, or skipped by a
    /// latest-only read.
    std::uint64_t next_sequence() const noexcept;
    /// Committed slots this consumer has not read yet (latest-only: 0 or 1).
    std::uint64_t backlog() const noexcept;
    /// Waits (wait) until more than `slots` committed slots are unread (lossless policies), the channel closes
    /// (Closed, once nothing more can come) or the timeout passes (Timeout). For a reader that left slots
    /// unconsumed and needs more before it can go on.
    Status wait_for_backlog_above(std::uint64_t slots, WaitOptions wait) noexcept;
    std::uint32_t seat() const noexcept;
    void heartbeat() noexcept;
    const ChannelView& view() const noexcept;

private:
    explicit Consumer(std::unique_ptr<detail::ConsumerState> state) noexcept;
    std::unique_ptr<detail::ConsumerState> state_;
};

}  // namespace dhub::shm
