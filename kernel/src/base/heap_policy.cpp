// SPDX-License-Identifier: Apache-2.0
#include "dhub/base/heap_policy.hpp"

#include <cstdlib>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dhub {

std::string malloc_threshold_in_environment() {
    if (const char* tunables = std::getenv("GLIBC_TUNABLES"); tunables != nullptr) {
        const std::string_view value(tunables);
        for (const char* name : {"glibc.malloc.trim_threshold", "glibc.malloc.mmap_threshold", "glibc.malloc.top_pad",
                                 "glibc.malloc.mmap_max"}) {
            if (value.find(name) != std::string_view::npos) return std::string("GLIBC_TUNABLES (") + name + ")";
        }
    }
    for (const char* name :
         {"MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"}) {
        if (std::getenv(name) != nullptr) return name;
    }
    return {};
}

HeapPolicy keep_freed_heap() {
#if defined(__GLIBC__)
    if (const std::string setting = malloc_threshold_in_environment(); !setting.empty()) {
        return {false, "malloc thresholds left as " + setting + " sets them"};
    }
    // The mmap threshold first: if it is refused nothing has changed, whereas a trim threshold set alone would
    // turn glibc's adaptive mmap threshold off and leave it at 128 KiB, mapping every large buffer afresh.
    const char* what_to_do =
        "; to keep freed heap anyway, start with "
        "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728";
    if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(KEPT_HEAP_MMAP_THRESHOLD)) != 1) {
        return {false, std::string("mallopt refused the mmap threshold: glibc's defaults stay") + what_to_do};
    }
    if (mallopt(M_TRIM_THRESHOLD, static_cast<int>(KEPT_HEAP_TRIM_THRESHOLD)) != 1) {
        return {false,
                std::string("mallopt refused the trim threshold: freed heap is given back as by default") + what_to_do};
    }
    return {true, "freed heap kept for reuse: blocks below " + std::to_string(KEPT_HEAP_MMAP_THRESHOLD >> 20) +
                      " MiB come from the heap, which keeps up to " + std::to_string(KEPT_HEAP_TRIM_THRESHOLD >> 20) +
                      " MiB of freed memory"};
#else
    return {false, "not glibc: the C library's heap defaults stay"};
#endif
}

}  // namespace dhub
