// SPDX-License-Identifier: Apache-2.0
#include "view_space.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "errors.hpp"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels refuse it, which only costs page faults later
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace dhub::python {
namespace {

std::size_t page_size() noexcept {
    static const auto size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

/// Windows (now private copies) that kept views point into; unmapped with the last of those views.
struct FrozenWindows {
    std::vector<std::pair<std::byte*, std::size_t>> windows;
    FrozenWindows() = default;
    FrozenWindows(const FrozenWindows&) = delete;
    FrozenWindows& operator=(const FrozenWindows&) = delete;
    ~FrozenWindows() {
        for (auto [base, bytes] : windows)
            munmap(base, bytes);
    }
};

[[noreturn]] void raise_errno(const char* call) {
    raise(Error{ErrorCode::Io, std::string("dhub views: ") + call + " failed: " + std::strerror(errno)});
}

}  // namespace

ViewSpace::~ViewSpace() {
    retire();
}

void ViewSpace::retire() noexcept {
    for (const auto& [payload, window] : windows_)
        munmap(window.base, window.bytes);
    windows_.clear();
}

std::byte* ViewSpace::translate(const std::byte* payload) {
    if (const auto found = windows_.find(payload); found != windows_.end()) {
        return found->second.base + found->second.lead;
    }
    const std::size_t page = page_size();
    const auto offset = static_cast<std::size_t>(payload - channel_base_);
    const std::size_t first = offset / page * page;
    const std::size_t end = std::min(size_, (offset + std::max<std::size_t>(slot_bytes_, 1) + page - 1) / page * page);
    // old_size 0 on a shared mapping: a new mapping of the very same pages. No file descriptor or name is needed,
    // so it cannot be another segment of the same name.
    void* mapped = mremap(channel_base_ + first, 0, end - first, MREMAP_MAYMOVE);
    if (mapped == MAP_FAILED) raise_errno("mremap");
    if (!writable_ && mprotect(mapped, end - first, PROT_READ) != 0) {
        munmap(mapped, end - first);
        raise_errno("mprotect");
    }
    // One call instead of a page fault per page on first use (a 1 MiB slot is 256 pages).
    (void)madvise(mapped, end - first, writable_ ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
    const Window window{static_cast<std::byte*>(mapped), end - first, offset - first};
    windows_.emplace(payload, window);
    return window.base + window.lead;
}

std::shared_ptr<void> ViewSpace::cut_loose(std::span<const std::byte* const> views) noexcept {
    std::shared_ptr<FrozenWindows> frozen;
    try {
        frozen = std::make_shared<FrozenWindows>();
        frozen->windows.reserve(views.size());
    } catch (...) {
        // No memory even for the bookkeeping: the kept views' windows are given up for good (left mapped, never
        // reused or unmapped), so the views still see the ring but never unmapped memory.
        degraded_ = true;
        std::erase_if(windows_, [views](const auto& entry) {
            return std::any_of(views.begin(), views.end(), [&entry](const std::byte* view) {
                return view >= entry.second.base && view < entry.second.base + entry.second.bytes;
            });
        });
        return {};
    }
    for (const std::byte* view : views) {
        const auto found = std::find_if(windows_.begin(), windows_.end(), [view](const auto& entry) {
            return view >= entry.second.base && view < entry.second.base + entry.second.bytes;
        });
        if (found == windows_.end()) continue;  // already cut loose with another view of the same window
        const Window window = found->second;
        windows_.erase(found);
        ++cut_count_;
        // From here the window belongs to the kept views, copied or not.
        frozen->windows.emplace_back(window.base, window.bytes);
        // Copy into fresh anonymous memory (MAP_POPULATE: one call instead of a zero-fill fault per page), then move
        // that over the window in one step: a kept view never sees a moment without memory under it.
        void* copy =
            mmap(nullptr, window.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (copy == MAP_FAILED) {
            degraded_ = true;
            continue;
        }
        std::memcpy(copy, window.base, window.bytes);
        if (!writable_) mprotect(copy, window.bytes, PROT_READ);
        if (mremap(copy, window.bytes, window.bytes, MREMAP_MAYMOVE | MREMAP_FIXED, window.base) == MAP_FAILED) {
            munmap(copy, window.bytes);
            degraded_ = true;
        }
    }
    return frozen;
}

void ViewSpace::trim(std::size_t max) noexcept {
    if (windows_.size() > max) retire();
}

}  // namespace dhub::python
