// SPDX-License-Identifier: Apache-2.0
// Anonymous shared memory created before fork(): parent and children see it at the same address,
// which is all the raw baselines need (no names, nothing left behind in /dev/shm).
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace dhub::bench {

class SharedMapping {
public:
    /// mmap(MAP_SHARED | MAP_ANONYMOUS) of `size_bytes` (rounded up to pages), zero-filled.
    /// Throws std::system_error.
    explicit SharedMapping(std::size_t size_bytes);
    SharedMapping(SharedMapping&& other) noexcept;
    SharedMapping& operator=(SharedMapping&& other) noexcept;
    SharedMapping(const SharedMapping&) = delete;
    SharedMapping& operator=(const SharedMapping&) = delete;
    ~SharedMapping();

    std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

    /// Constructs a T at `offset` (default: the start). Objects in the mapping are never destroyed;
    /// use types that need no destructor (atomics, PODs).
    template <typename T, typename... Args>
    T* emplace_at(std::size_t offset, Args&&... args) {
        return ::new (static_cast<void*>(data_ + offset)) T(std::forward<Args>(args)...);
    }
    template <typename T, typename... Args>
    T* emplace(Args&&... args) {
        return emplace_at<T>(0, std::forward<Args>(args)...);
    }

private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace dhub::bench
