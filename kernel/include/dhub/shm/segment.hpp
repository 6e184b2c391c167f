// SPDX-License-Identifier: Apache-2.0
// A named POSIX shared-memory segment mapped into this process (RAII). Knows nothing of the DataBlock
// layout: it creates, opens, maps, lists and unlinks "/dhub1.<channel>" objects.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dhub/base/result.hpp"

namespace dhub::shm {

/// Prefix of every dhub segment: `ls /dev/shm/dhub1.*` shows them; the 1 is the layout generation.
inline constexpr std::string_view SEGMENT_PREFIX = "dhub1.";

/// "/dhub1.<channel>", the name given to shm_open.
std::string segment_name(std::string_view channel);

/// What the file system says about a segment, without mapping it.
struct SegmentFile {
    std::size_t size = 0;
    std::uint64_t age_ns = 0;  ///< time since the file was last changed in size or metadata (creation)
    uid_t owner_uid = 0;
    mode_t mode = 0;
};

/// A segment that is empty or has no ready header is normally one whose creator died; but its creator may
/// also still be at work (sizing and pre-faulting a large segment takes a while). Only older ones are stale.
inline constexpr std::uint64_t CREATION_GRACE_NS = 10'000'000'000;

class Segment {
public:
    Segment() = default;
    Segment(Segment&& other) noexcept;
    Segment& operator=(Segment&& other) noexcept;
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;
    ~Segment();

    /// Creates the segment exclusively (fails with AlreadyExists if it exists), sizes and maps it.
    /// The memory is zero-filled and pre-faulted.
    static Result<Segment> create(std::string_view channel, std::size_t bytes, mode_t mode);
    /// Opens an existing segment read-write and maps all of it.
    static Result<Segment> open(std::string_view channel);
    /// Removes the name; processes that have it mapped keep their mapping.
    static VoidResult unlink(std::string_view channel);
    /// Size, age and owner of the segment's file.
    static Result<SegmentFile> stat(std::string_view channel);
    /// Channel names of every dhub segment on this host.
    static std::vector<std::string> list();

    std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    const std::string& channel() const noexcept { return channel_; }
    /// Owner uid and mode of the underlying object, as fstat reports them.
    uid_t owner_uid() const noexcept { return owner_uid_; }
    mode_t mode() const noexcept { return mode_; }

private:
    Segment(std::string channel, std::byte* data, std::size_t size, uid_t owner, mode_t mode) noexcept
        : channel_(std::move(channel)), data_(data), size_(size), owner_uid_(owner), mode_(mode) {}
    void reset() noexcept;

    std::string channel_;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    uid_t owner_uid_ = 0;
    mode_t mode_ = 0;
};

}  // namespace dhub::shm
