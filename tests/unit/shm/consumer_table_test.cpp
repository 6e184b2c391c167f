// SPDX-License-Identifier: Apache-2.0
// Evicting dead consumers: who counts as dead (pid namespaces), and an eviction whose evictor died half-way.
#include "dhub/shm/consumer_table.hpp"

#include <gtest/gtest.h>

#include "dhub/base/process_identity.hpp"
#include "shm_fixture.hpp"

namespace dhub::shm::testing_support {
namespace {

using ConsumerTable_test = DataBlockFixture;

/// A pid that does not exist in this namespace: its owner would be judged dead at once here.
ProcessIdentity stranger_with_namespace(std::uint32_t pid_namespace) {
    ProcessIdentity stranger = ProcessIdentity::self();
    stranger.pid = (1u << token_bits::PID_BITS) - 1;
    stranger.pid_namespace = pid_namespace;
    return stranger;
}

/// Puts a seat in the state a holding reader leaves it in while it reads `held_sequence`.
void occupy_seat(const ChannelView& view, std::uint32_t seat, std::uint64_t owner, std::uint64_t held_sequence) {
    auto& entry = view.consumer(seat);
    entry.owner.store(owner);
    view.header().seats_in_use.store(seat + 1);
    view.header().holding_readers.fetch_add(1);
    entry.flags.store(layout::SEAT_HOLDS);
    entry.held.store(held_sequence + 1);
    entry.state.store(layout::CONSUMER_ACTIVE);
}

void expect_seat_cleared(const ChannelView& view, std::uint32_t seat) {
    EXPECT_EQ(view.consumer(seat).owner.load(), 0u);
    EXPECT_EQ(view.consumer(seat).held.load(), 0u);
    EXPECT_EQ(view.consumer(seat).flags.load(), 0u);
    EXPECT_EQ(view.consumer(seat).state.load(), layout::CONSUMER_FREE);
    EXPECT_EQ(view.header().holding_readers.load(), 0u);
}

TEST_F(ConsumerTable_test, AReaderInAnotherPidNamespaceIsNotEvicted) {
    // Containers sharing /dev/shm: the owner's pid means nobody (or somebody else) in our /proc.
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    const std::uint32_t own = ProcessIdentity::self().pid_namespace;
    const std::uint32_t foreign = own == 1 ? 2 : 1;
    const std::uint64_t owner = stranger_with_namespace(foreign).token();
    occupy_seat(producer.view(), 0, owner, 3);

    EXPECT_EQ(evict_dead_consumers(producer.view()), 0u);

    EXPECT_EQ(producer.view().consumer(0).owner.load(), owner);
    EXPECT_EQ(producer.view().consumer(0).held.load(), 4u) << "a live reader's hold was taken away";
}

TEST_F(ConsumerTable_test, AReaderOfThisPidNamespaceWhosePidIsGoneIsEvicted) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    occupy_seat(producer.view(), 0, stranger_with_namespace(ProcessIdentity::self().pid_namespace).token(), 3);

    EXPECT_EQ(evict_dead_consumers(producer.view()), 1u);

    expect_seat_cleared(producer.view(), 0);
}

TEST_F(ConsumerTable_test, AnEvictionLeftHalfDoneByADeadEvictorIsFinishedByTheNext) {
    // Arrange: a dead reader's seat, and an evictor that won the seat and died before clearing it.
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    const ChannelView& view = producer.view();
    const std::uint64_t dead_reader = stranger_with_namespace(ProcessIdentity::self().pid_namespace).token();
    occupy_seat(view, 0, dead_reader, 3);
    auto evictor = dhub::testing::ChildProcess::fork([&view, dead_reader] {
        std::uint64_t expected = dead_reader;
        const std::uint64_t mark = seat_evicting_mark(ProcessIdentity::self().token());
        return view.consumer(0).owner.compare_exchange_strong(expected, mark) ? 0 : 1;
    });
    ASSERT_TRUE(evictor.wait().exited);
    ASSERT_TRUE(seat_is_evicting(view.consumer(0).owner.load()));

    // Act
    EXPECT_EQ(evict_dead_consumers(view), 1u);

    // Assert: the seat and the slot it held are free again.
    expect_seat_cleared(view, 0);
}

TEST_F(ConsumerTable_test, AnEvictionInProgressByALiveEvictorIsLeftToIt) {
    Producer producer = make_producer(config(SyncPolicy::LatestOnly));
    const std::uint64_t mark = seat_evicting_mark(ProcessIdentity::self().token());
    occupy_seat(producer.view(), 0, mark, 3);

    EXPECT_EQ(evict_dead_consumers(producer.view()), 0u);

    EXPECT_EQ(producer.view().consumer(0).owner.load(), mark);
}

TEST_F(ConsumerTable_test, AnEvictingMarkIsNeverAToken) {
    const std::uint64_t token = ProcessIdentity::self().token();
    EXPECT_FALSE(seat_is_evicting(token));
    EXPECT_TRUE(seat_is_evicting(seat_evicting_mark(token)));
    EXPECT_EQ(seat_evictor(seat_evicting_mark(token)), token);
}

}  // namespace
}  // namespace dhub::shm::testing_support
