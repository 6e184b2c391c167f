// SPDX-License-Identifier: Apache-2.0
// Where the numpy views of a Python producer or consumer point: windows of their own onto the channel's slots
// (the same pages mapped again with mremap), not the mapping the DataBlock code works on.
//
// Why: numpy has no way to invalidate an array. A view that Python code keeps after its slot was released would
// read (or write) whatever the producer puts in that slot next. When that happens (ViewSpace::cut_loose), the
// pages of the kept view's window are replaced in place by a private copy of what they held, so the kept arrays
// keep the values they had at release and never see, nor touch, the ring again; the next view of that slot gets a
// fresh window. One window per slot keeps that cost to the slot's own pages. The channel's own mapping is never
// touched, so nothing of this reaches the DataBlock or the other readers.
#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <unordered_map>

namespace dhub::python {

class ViewSpace {
public:
    /// channel_base/size: the channel's own mapping (ChannelView's segment); slot_bytes: a slot's payload size.
    /// writable: the producer's views.
    ViewSpace(std::byte* channel_base, std::size_t size, std::size_t slot_bytes, bool writable) noexcept
        : channel_base_(channel_base), size_(size), slot_bytes_(slot_bytes), writable_(writable) {}
    ~ViewSpace();
    ViewSpace(const ViewSpace&) = delete;
    ViewSpace& operator=(const ViewSpace&) = delete;

    /// Whether p lies in the channel's mapping (a Delivery::Latest copy does not).
    bool holds(const std::byte* p) const noexcept { return p >= channel_base_ && p < channel_base_ + size_; }
    /// Where the slot payload at p (of the channel's mapping) is seen in its window, which is made on first use.
    /// Raises dhub.IoError if the window cannot be made.
    std::byte* translate(const std::byte* payload);
    /// Cuts the windows holding the given views loose: their pages become private copies owned by the returned
    /// object (unmapped when it goes), and the slots get fresh windows next time. Never raises: a window that
    /// cannot be copied (ENOMEM, the process's mapping limit) is handed over as it is, so its kept views still
    /// see the ring but stay mapped; degraded() then says so.
    std::shared_ptr<void> cut_loose(std::span<const std::byte* const> views) noexcept;
    /// Unmaps every cached window when there are more than max (a huge ring, or many channels): call it only when no
    /// array refers to a cached window (between a release and the next read or write).
    void trim(std::size_t max) noexcept;
    /// Some window could not be copied when it was cut loose.
    bool degraded() const noexcept { return degraded_; }
    /// The channel is going away: unmaps every window (every view still in one must be cut loose first).
    void retire() noexcept;
    /// Windows cut loose so far.
    std::uint64_t cut_count() const noexcept { return cut_count_; }

private:
    struct Window {
        std::byte* base = nullptr;  ///< page-aligned start of the window
        std::size_t bytes = 0;
        std::size_t lead = 0;  ///< the payload's offset in its first page
    };
    std::byte* channel_base_;
    std::size_t size_;
    std::size_t slot_bytes_;
    bool writable_;
    std::unordered_map<const std::byte*, Window> windows_;  ///< by payload address in the channel's mapping
    std::uint64_t cut_count_ = 0;
    bool degraded_ = false;
};

}  // namespace dhub::python
