// SPDX-License-Identifier: Apache-2.0
#include "dhub/base/heap_policy.hpp"

#include <cstdlib>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dhub {
namespace {

/// The malloc setting the environment already makes, if any.
std::string malloc_setting_in_environment() {
    if (const char* tunables = std::getenv("GLIBC_TUNABLES");
        tunables != nullptr && std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) {
        return "GLIBC_TUNABLES";
    }
    for (const char* name : {"MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
        if (std::getenv(name) != nullptr) return name;
    }
    return {};
}

}  // namespace

HeapPolicy keep_freed_heap() {
#if defined(__GLIBC__)
    if (const std::string setting = malloc_setting_in_environment(); !setting.empty()) {
        return {false, "malloc settings left as " + setting + " gives them"};
    }
    // The trim threshold first: setting either turns glibc's adaptive thresholds off, so both are set.
    if (mallopt(M_TRIM_THRESHOLD, static_cast<int>(KEPT_HEAP_TRIM_THRESHOLD)) != 1 ||
        mallopt(M_MMAP_THRESHOLD, static_cast<int>(KEPT_HEAP_MMAP_THRESHOLD)) != 1) {
        return {false, "mallopt refused the heap thresholds; glibc's defaults stay"};
    }
    return {true, "freed heap kept for reuse: up to " + std::to_string(KEPT_HEAP_TRIM_THRESHOLD >> 20) +
                      " MiB per arena, blocks up to " + std::to_string(KEPT_HEAP_MMAP_THRESHOLD >> 20) +
                      " MiB from the heap"};
#else
    return {false, "not glibc: the C library's heap defaults stay"};
#endif
}

}  // namespace dhub
