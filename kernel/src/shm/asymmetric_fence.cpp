// SPDX-License-Identifier: Apache-2.0
#include "asymmetric_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace dhub::shm::detail {
namespace {

int membarrier(int command) noexcept {
    return static_cast<int>(::syscall(__NR_membarrier, command, 0U, 0));
}

}  // namespace

bool register_for_asymmetric_fences() noexcept {
    // A function-local static: registered once, thread-safe, and the same answer for every channel.
    static const bool registered = [] {
        const int supported = membarrier(MEMBARRIER_CMD_QUERY);
        if (supported < 0 || (supported & MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0) return false;
        return membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
    }();
    return registered;
}

bool asymmetric_fence() noexcept {
    return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
}

}  // namespace dhub::shm::detail
