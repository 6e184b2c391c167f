// SPDX-License-Identifier: Apache-2.0
// keep_freed_heap(): the pattern of a zmq_receive node (one thread allocates a window of 1 MiB message buffers,
// another frees them) stops faulting its pages in again every window, and a malloc setting in the environment
// is left alone. Each case runs in a forked child: malloc settings are process-wide.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "dhub/base/heap_policy.hpp"
#include "support/child_process.hpp"

namespace dhub {
namespace {

using testing::ChildProcess;

constexpr std::size_t BLOCK_BYTES = (std::size_t{1} << 20) + 64;  // a chunk and ZeroMQ's message header
constexpr int WINDOW = 16;                                        // 1 MiB chunks in flight to a zmq_receive node
constexpr int ROUNDS = 8;
constexpr long PAGES = static_cast<long>((ROUNDS - 1) * WINDOW * BLOCK_BYTES / 4096);  // after the first window

long minor_faults() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

/// Minor page faults over ROUNDS - 1 windows (the first one warms the heap up): one long-lived thread allocates
/// each window of blocks and writes every page of them, as ZeroMQ's I/O thread receives into its buffers; this
/// thread frees them, as the node releases its messages.
long faults_of_reused_windows() {
    std::vector<char*> blocks(WINDOW);
    std::binary_semaphore window_filled(0), window_freed(0);
    std::thread receiver([&] {
        for (int round = 0; round < ROUNDS; ++round) {
            for (char*& block : blocks) {
                block = static_cast<char*>(std::malloc(BLOCK_BYTES));
                for (std::size_t offset = 0; offset < BLOCK_BYTES; offset += 4096)
                    block[offset] = static_cast<char>(offset);
            }
            window_filled.release();
            window_freed.acquire();
        }
    });
    long after_first_round = 0;
    for (int round = 0; round < ROUNDS; ++round) {
        window_filled.acquire();
        for (char* block : blocks)
            std::free(block);
        if (round == 0) after_first_round = minor_faults();
        window_freed.release();
    }
    receiver.join();
    return minor_faults() - after_first_round;
}

/// Runs body in a child and returns the number it wrote to the pipe (-1 when the child failed or hung).
long in_child(const std::function<long()>& body) {
    int fds[2];
    if (::pipe(fds) != 0) return -1;
    ChildProcess child = ChildProcess::fork([&] {
        const long value = body();
        return ::write(fds[1], &value, sizeof value) == static_cast<ssize_t>(sizeof value) ? 0 : 1;
    });
    ::close(fds[1]);
    // Waiting first (the pipe holds the few bytes): a child that hangs is killed at the deadline, not read forever.
    const auto status = child.wait();
    long value = -1;
    if (::read(fds[0], &value, sizeof value) != static_cast<ssize_t>(sizeof value)) value = -1;
    ::close(fds[0]);
    return status.exited && status.code == 0 ? value : -1;
}

TEST(HeapPolicy, AWindowOfLargeBuffersFreedByAnotherThreadIsReusedWithoutFaultingItsPagesInAgain) {
#if defined(DHUB_SANITIZER_RUNTIME) || !defined(__GLIBC__)
    GTEST_SKIP() << "a sanitizer's allocator (or a C library other than glibc) has its own heap";
#endif
    if (const std::string setting = malloc_threshold_in_environment(); !setting.empty()) {
        GTEST_SKIP() << setting << " sets malloc thresholds: the policy leaves them alone";
    }
    const long with_defaults = in_child([] { return faults_of_reused_windows(); });
    const long with_policy = in_child([] {
        if (!keep_freed_heap().applied) return -2L;
        return faults_of_reused_windows();
    });
    ASSERT_GE(with_defaults, 0);
    ASSERT_GE(with_policy, 0) << "the child could not apply the policy (-2) or failed (-1)";
    // Kept, the windows after the first reuse the pages the first one faulted in.
    EXPECT_LT(with_policy, PAGES / 64) << with_policy << " faults over " << PAGES
                                       << " pages written (glibc's defaults: " << with_defaults << ")";
    // glibc's defaults give the top of the heap back after each window and fault nearly every page in again (here
    // 28,492 of 28,673). A kernel or glibc that does not shows nothing for the policy to fix.
    if (with_defaults <= PAGES / 2) {
        GTEST_SKIP() << "with glibc's defaults the windows faulted only " << with_defaults << " of " << PAGES
                     << " pages on this machine: the case shows nothing here";
    }
}

TEST(HeapPolicy, LeavesAThresholdTheEnvironmentSetsAlone) {
#if !defined(__GLIBC__)
    GTEST_SKIP() << "only glibc's heap is tuned";
#endif
    const long over_tunables = in_child([] {
        ::setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=1048576", 1);
        const HeapPolicy policy = keep_freed_heap();
        return policy.applied ? 1L : (policy.detail.find("glibc.malloc.trim_threshold") != std::string::npos ? 0L : 2L);
    });
    EXPECT_EQ(over_tunables, 0) << "1: applied over GLIBC_TUNABLES; 2: the detail does not name the tunable";
    const long over_old_style = in_child([] {
        ::unsetenv("GLIBC_TUNABLES");
        ::setenv("MALLOC_MMAP_MAX_", "0", 1);
        return keep_freed_heap().applied ? 1L : 0L;
    });
    EXPECT_EQ(over_old_style, 0);
    // A malloc tunable that is not a threshold (containers often cap the arenas) does not stop it.
    const long beside_arena_max = in_child([] {
        ::setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2", 1);
        return malloc_threshold_in_environment().empty() ? 0L : 1L;
    });
    EXPECT_EQ(beside_arena_max, 0);
}

}  // namespace
}  // namespace dhub
