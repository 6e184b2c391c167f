// SPDX-License-Identifier: Apache-2.0
// wait_any: one sleep on several channels (what a node with several inputs waits on).
#include <gtest/gtest.h>

#include <array>
#include <thread>

#include "dhub/shm/wait_any.hpp"
#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;

/// Two channels, each with a producer and a consumer.
class WaitAny_test : public ::testing::Test {
protected:
    static ChannelConfig config_of(const std::string& name) {
        ChannelConfig config;
        config.name = name;
        config.slot_count = 4;
        config.slot_bytes = 64;
        return config;
    }
    Producer produce(const dhub::testing::ChannelCleanup& channel) {
        auto created = Producer::create(config_of(channel.name()));
        EXPECT_TRUE(created) << created.error().message;
        return std::move(created.value());
    }
    Consumer consume(const dhub::testing::ChannelCleanup& channel) {
        auto attached = Consumer::attach(channel.name(), {.name = "waiter"});
        EXPECT_TRUE(attached) << attached.error().message;
        return std::move(attached.value());
    }
    static void commit_one(Producer& producer) {
        WriteSlot slot = producer.acquire_write(waiting(LONG_WAIT));
        ASSERT_TRUE(slot);
        ASSERT_EQ(slot.commit(8), Status::Ok);
    }

    dhub::testing::ChannelCleanup first_{dhub::testing::unique_channel_name("wait_any_a")};
    dhub::testing::ChannelCleanup second_{dhub::testing::unique_channel_name("wait_any_b")};
};

TEST_F(WaitAny_test, TimesOutWhenNothingArrives) {
    Producer a = produce(first_);
    Producer b = produce(second_);
    Consumer ca = consume(first_);
    Consumer cb = consume(second_);
    const std::array<Consumer*, 2> both = {&ca, &cb};
    EXPECT_EQ(wait_any(both, waiting(NO_WAIT)), Status::Timeout);
    EXPECT_EQ(wait_any(both, waiting(SHORT_WAIT)), Status::Timeout);
}

TEST_F(WaitAny_test, WakesForACommitOnAnyChannelWhileAsleep) {
    Producer a = produce(first_);
    Producer b = produce(second_);
    Consumer ca = consume(first_);
    Consumer cb = consume(second_);
    const std::array<Consumer*, 2> both = {&ca, &cb};
    // The commit comes from another thread while the waiter sleeps (no spin): only a wake-up can end the wait
    // before its 10 s timeout, and the test's own deadline is far below that.
    std::thread producer([&] {
        std::this_thread::sleep_for(SHORT_WAIT);
        commit_one(b);
    });
    EXPECT_EQ(wait_any(both, waiting(LONG_WAIT)), Status::Ok);
    producer.join();
    EXPECT_FALSE(readable_now(ca));
    EXPECT_TRUE(readable_now(cb));
}

TEST_F(WaitAny_test, AClosedChannelIsReadableSoItsEndIsSeen) {
    Producer a = produce(first_);
    Producer b = produce(second_);
    Consumer ca = consume(first_);
    Consumer cb = consume(second_);
    a.close();
    const std::array<Consumer*, 2> both = {&ca, &cb};
    EXPECT_EQ(wait_any(both, waiting(NO_WAIT)), Status::Ok);
    EXPECT_TRUE(readable_now(ca));
}

TEST_F(WaitAny_test, NullEntriesAreSkipped) {
    Producer a = produce(first_);
    Consumer ca = consume(first_);
    commit_one(a);
    const std::array<Consumer*, 2> some = {nullptr, &ca};
    EXPECT_EQ(wait_any(some, waiting(NO_WAIT)), Status::Ok);
}

}  // namespace
}  // namespace dhub::shm
