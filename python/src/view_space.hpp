// SPDX-License-Identifier: Apache-2.0
// Where the numpy views of a Python producer or consumer point: a second mapping of the channel's segment
// (the same pages, mapped again with mremap), not the mapping the DataBlock code works on.
//
// Why a second one: numpy has no way to invalidate an array. A view that Python code keeps after its slot
// was released would read (or write) whatever the producer puts in that slot next. When that happens
// (ViewSpace::cut_loose), the pages under the kept views are replaced in place by a private copy of what they
// held, so the kept arrays keep the values they had at release and never see, nor touch, the ring again; the
// rest of that mapping is unmapped and the next view is made in a fresh one. The channel's own mapping is
// never touched, so nothing of this reaches the DataBlock or the other readers.
#pragma once
#include <cstddef>
#include <memory>
#include <span>

namespace dhub::python {

/// A byte range of a view mapping (a kept slot).
struct ViewRange {
    const std::byte* begin = nullptr;
    std::size_t bytes = 0;
};

class ViewSpace {
public:
    /// channel_base/size: the channel's own mapping (ChannelView's segment). writable: the producer's views.
    ViewSpace(std::byte* channel_base, std::size_t size, bool writable) noexcept
        : channel_base_(channel_base), size_(size), writable_(writable) {}
    ~ViewSpace();
    ViewSpace(const ViewSpace&) = delete;
    ViewSpace& operator=(const ViewSpace&) = delete;

    /// Whether p lies in the channel's mapping (a Delivery::Latest copy does not).
    bool holds(const std::byte* p) const noexcept { return p >= channel_base_ && p < channel_base_ + size_; }
    /// Where p of the channel's mapping is in the current view mapping, which is made on first use. Raises
    /// dhub.IoError if the mapping cannot be made.
    std::byte* translate(const std::byte* p);
    /// Cuts the ranges (of the current view mapping) loose: their pages become private copies, owned by the
    /// returned object (unmapped when it goes), and the rest of the mapping is unmapped. Raises dhub.IoError on
    /// failure (then the ranges are unmapped and a kept view would fault; it never happens short of ENOMEM).
    std::shared_ptr<void> cut_loose(std::span<const ViewRange> ranges);
    /// The channel is going away: unmaps the current view mapping (every view still in it must be cut loose).
    void retire() noexcept;

private:
    std::byte* channel_base_;
    std::size_t size_;
    bool writable_;
    std::byte* view_base_ = nullptr;  ///< current view mapping, size_ bytes; nullptr until needed
};

}  // namespace dhub::python
