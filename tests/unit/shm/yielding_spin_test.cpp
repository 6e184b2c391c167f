// SPDX-License-Identifier: Apache-2.0
// WaitOptions::yield: a waiter that spins on the CPU of the thread it waits for lets that thread run between its
// looks. Shown where nothing else would let it: both threads SCHED_FIFO at one priority on one CPU, where a busy
// spinner keeps the CPU until it sleeps, and a spin as long as the timeout never sleeps. So the producer commits
// during the wait only if the waiter yields: the wait ends Ok, where a busy spin ends in Timeout.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

/// Exit codes of the child that runs the two threads.
enum ChildExit : int {
    WAITED_OK = 0,
    WAIT_FAILED = 1,     ///< the wait did not end Ok: the producer never ran during the spin
    NO_REALTIME = 77,    ///< SCHED_FIFO refused (no CAP_SYS_NICE, or a cgroup without real-time budget)
    SET_UP_FAILED = 78,  ///< affinity, channel or thread could not be set up
    CHILD_DIED = 79,     ///< (the parent's) the child ended by a signal, or could not be waited for
};

bool run_fifo(pthread_t thread) {
    sched_param param{};
    param.sched_priority = 1;
    return ::pthread_setschedparam(thread, SCHED_FIFO, &param) == 0;
}

/// In a child: pins itself to one CPU, creates the channel, starts a SCHED_FIFO producer that commits one slot
/// as soon as it runs, and waits for that slot with `wait` from a SCHED_FIFO thread of the same priority.
[[noreturn]] void wait_beside_producer(const std::string& channel, WaitOptions wait) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) ::_exit(SET_UP_FAILED);
    int first = 0;
    while (!CPU_ISSET(first, &set))
        ++first;
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(SET_UP_FAILED);

    ChannelConfig config;
    config.name = channel;
    config.slot_count = 4;
    config.slot_bytes = 64;
    auto producer = Producer::create(config);
    if (!producer) ::_exit(SET_UP_FAILED);
    auto consumer = Consumer::attach(channel, {.name = "waiter"});
    if (!consumer) ::_exit(SET_UP_FAILED);
    if (!run_fifo(::pthread_self())) ::_exit(NO_REALTIME);

    // The writer inherits this thread's CPU and SCHED_FIFO priority (set again below, to be sure): at one FIFO
    // priority it cannot preempt this thread, so once `go` is set it runs only when this thread yields or sleeps.
    // Until then it sleeps on `go`: a pthread_create that waits for its thread to start (ThreadSanitizer's does)
    // lets it run first.
    std::atomic<bool> go{false};
    std::thread writer([&] {
        go.wait(false);
        WriteSlot slot = producer->acquire_write(waiting(LONG_WAIT));
        if (slot) (void)slot.commit(8);
    });
    const bool fifo = run_fifo(writer.native_handle());
    go = true;
    go.notify_one();
    if (!fifo) {
        writer.join();
        ::_exit(NO_REALTIME);
    }
    const ReadSlot read = consumer->acquire_read(wait);
    const bool ok = static_cast<bool>(read);
    writer.join();
    ::_exit(ok ? WAITED_OK : WAIT_FAILED);
}

int exit_of_child(const std::string& channel, WaitOptions wait) {
    const pid_t child = ::fork();
    if (child == 0) wait_beside_producer(channel, wait);
    if (child < 0) return SET_UP_FAILED;
    int status = 0;
    if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return CHILD_DIED;
    return WEXITSTATUS(status);
}

TEST(YieldingSpin, AWaiterThatYieldsLetsTheProducerOnItsCpuRunAndSeesItsSlot) {
    const dhub::testing::ChannelCleanup channel(dhub::testing::unique_channel_name("yielding_spin"));
    // Spin as long as the timeout: the waiter never sleeps, so only its yields can let the producer run. The
    // producer needs microseconds; a broken yield holds the CPU (at SCHED_FIFO) for the whole half second.
    const WaitOptions wait{
        .timeout = std::chrono::milliseconds(500), .spin = std::chrono::milliseconds(500), .yield = true};
    const int exit = exit_of_child(channel.name(), wait);
    if (exit == NO_REALTIME) GTEST_SKIP() << "SCHED_FIFO refused to this process (CAP_SYS_NICE, cgroup RT budget)";
    ASSERT_NE(exit, SET_UP_FAILED) << "could not pin the child, create the channel or start the producer";
    ASSERT_NE(exit, CHILD_DIED) << "the child that waits beside the producer died by a signal";
    EXPECT_EQ(exit, WAITED_OK) << "the producer sharing the waiter's CPU never ran while the waiter spun";
}

TEST(YieldingSpin, ABusyWaiterOnTheSameCpuKeepsTheProducerOutAsTheTestAboveRequires) {
    // The control: the same set-up without yield must time out, or the test above would pass without yielding.
    const dhub::testing::ChannelCleanup channel(dhub::testing::unique_channel_name("busy_spin"));
    const WaitOptions wait{
        .timeout = std::chrono::milliseconds(100), .spin = std::chrono::milliseconds(100), .yield = false};
    const int exit = exit_of_child(channel.name(), wait);
    if (exit == NO_REALTIME) GTEST_SKIP() << "SCHED_FIFO refused to this process (CAP_SYS_NICE, cgroup RT budget)";
    ASSERT_NE(exit, SET_UP_FAILED) << "could not pin the child, create the channel or start the producer";
    ASSERT_NE(exit, CHILD_DIED) << "the child that waits beside the producer died by a signal";
    EXPECT_EQ(exit, WAIT_FAILED) << "the producer ran on the busy waiter's CPU: the set-up does not isolate yield";
}

TEST(YieldingSpin, AYieldingWaiterTimesOutWhenNothingComesAndSeesASlotThatDoes) {
    // The ordinary cases, with the producer free to run anywhere.
    const dhub::testing::ChannelCleanup channel(dhub::testing::unique_channel_name("yielding_spin_plain"));
    ChannelConfig config;
    config.name = channel.name();
    config.slot_count = 4;
    config.slot_bytes = 64;
    auto producer = Producer::create(config);
    ASSERT_TRUE(producer) << producer.error().message;
    auto consumer = Consumer::attach(channel.name(), {.name = "waiter"});
    ASSERT_TRUE(consumer) << consumer.error().message;
    const WaitOptions wait{
        .timeout = std::chrono::milliseconds(20), .spin = std::chrono::milliseconds(5), .yield = true};
    EXPECT_EQ(consumer->acquire_read(wait).status(), Status::Timeout);
    std::thread writer([&] {
        WriteSlot slot = producer->acquire_write(waiting(LONG_WAIT));
        ASSERT_TRUE(slot);
        ASSERT_EQ(slot.commit(8), Status::Ok);
    });
    const ReadSlot read =
        consumer->acquire_read({.timeout = LONG_WAIT, .spin = std::chrono::milliseconds(5), .yield = true});
    writer.join();
    EXPECT_TRUE(read) << to_string(read.status());
}

}  // namespace
}  // namespace dhub::shm
