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

namespace dhub::python {
namespace {

std::size_t page_size() noexcept {
    static const auto size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

/// Pages (private copies) that kept views point into; unmapped with the last view.
struct FrozenPages {
    std::vector<std::pair<std::byte*, std::size_t>> ranges;
    FrozenPages() = default;
    FrozenPages(const FrozenPages&) = delete;
    FrozenPages& operator=(const FrozenPages&) = delete;
    ~FrozenPages() {
        for (auto [begin, bytes] : ranges)
            munmap(begin, bytes);
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
    if (view_base_ != nullptr) munmap(view_base_, size_);
    view_base_ = nullptr;
}

std::byte* ViewSpace::translate(const std::byte* p) {
    if (view_base_ == nullptr) {
        // old_size 0 on a shared mapping: a new mapping of the very same pages, at an address of the kernel's
        // choosing. No file descriptor or name is needed, so it cannot be another segment of the same name.
        void* mapped = mremap(channel_base_, 0, size_, MREMAP_MAYMOVE);
        if (mapped == MAP_FAILED) raise_errno("mremap");
        if (!writable_ && mprotect(mapped, size_, PROT_READ) != 0) {
            munmap(mapped, size_);
            raise_errno("mprotect");
        }
        view_base_ = static_cast<std::byte*>(mapped);
    }
    return view_base_ + (p - channel_base_);
}

std::shared_ptr<void> ViewSpace::cut_loose(std::span<const ViewRange> ranges) {
    // Whole pages around each range, merged where they touch.
    const std::size_t page = page_size();
    std::vector<std::pair<std::size_t, std::size_t>> pages;  // [first, end) offsets in the mapping
    for (const ViewRange& range : ranges) {
        const auto offset = static_cast<std::size_t>(range.begin - view_base_);
        const std::size_t first = offset / page * page;
        const std::size_t end =
            std::min(size_, (offset + std::max<std::size_t>(range.bytes, 1) + page - 1) / page * page);
        pages.emplace_back(first, end);
    }
    std::sort(pages.begin(), pages.end());
    std::vector<std::pair<std::size_t, std::size_t>> merged;
    for (const auto& span : pages) {
        if (!merged.empty() && span.first <= merged.back().second) {
            merged.back().second = std::max(merged.back().second, span.second);
        } else {
            merged.push_back(span);
        }
    }

    auto frozen = std::make_shared<FrozenPages>();
    std::size_t kept_until = 0;  // everything of the old mapping before this offset is dealt with
    for (const auto& [first, end] : merged) {
        const std::size_t bytes = end - first;
        // Copy into fresh anonymous memory, then move that over the shared pages in one step: a kept view
        // never sees a moment without memory under it.
        void* copy = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (copy == MAP_FAILED) {
            view_base_ = nullptr;  // left mapped: the kept views stay readable, the next view gets a fresh mapping
            raise_errno("mmap");
        }
        std::memcpy(copy, view_base_ + first, bytes);
        if (!writable_) mprotect(copy, bytes, PROT_READ);
        if (mremap(copy, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, view_base_ + first) == MAP_FAILED) {
            munmap(copy, bytes);
            view_base_ = nullptr;
            raise_errno("mremap");
        }
        frozen->ranges.emplace_back(view_base_ + first, bytes);
        if (first > kept_until) munmap(view_base_ + kept_until, first - kept_until);
        kept_until = end;
    }
    if (kept_until < size_) munmap(view_base_ + kept_until, size_ - kept_until);
    view_base_ = nullptr;  // the next view gets a fresh mapping
    return frozen;
}

}  // namespace dhub::python
