// SPDX-License-Identifier: Apache-2.0
// A channel written and read by another process on its owner's behalf (crash isolation): the lease handed over
// and adopted, a seat lent and read through, and what is left when that process dies half-way: a slot it was
// writing is never published, a slot it was reading is delivered again, and the channel never closes.
#include <unistd.h>

#include "dhub/base/process_identity.hpp"
#include "shm_fixture.hpp"

namespace dhub::shm {
namespace {

using namespace testing_support;
using dhub::testing::ChildProcess;

class HandOver : public DataBlockFixture {};

TEST_F(HandOver, AdoptedChannelContinuesTheSequenceForTheSameReaders) {
    const ChannelConfig channel = config(SyncPolicy::SingleReader);
    Producer owner = make_producer(channel);
    Consumer reader = make_consumer();
    for (std::uint64_t value : {10, 11, 12})
        ASSERT_EQ(write_value(owner, value), Status::Ok);
    owner.hand_over();
    EXPECT_FALSE(reader.producer_alive());  // no lease while it is handed over
    auto adopted = Producer::adopt(channel);
    ASSERT_TRUE(adopted) << adopted.error().message;
    EXPECT_EQ(adopted->next_sequence(), 3u);
    ASSERT_EQ(write_value(*adopted, 13), Status::Ok);
    for (std::uint64_t value : {10, 11, 12, 13})
        EXPECT_EQ(read_value(reader, SHORT_WAIT), value);
}

TEST_F(HandOver, AdoptRefusesALiveProducerAnotherGeometryAndAMissingChannel) {
    const ChannelConfig channel = config(SyncPolicy::SingleReader);
    Producer owner = make_producer(channel);
    auto live = Producer::adopt(channel);
    ASSERT_FALSE(live);
    EXPECT_EQ(live.error().code, ErrorCode::AlreadyExists);
    EXPECT_NE(live.error().message.find("pid " + std::to_string(::getpid())), std::string::npos)
        << live.error().message;

    owner.hand_over();
    ChannelConfig other = channel;
    other.slot_count = 8;
    auto different = Producer::adopt(other);
    ASSERT_FALSE(different);
    EXPECT_EQ(different.error().code, ErrorCode::Incompatible);
    EXPECT_NE(different.error().message.find("slot_count"), std::string::npos) << different.error().message;

    ChannelConfig missing = channel;
    missing.name += "-missing";
    auto absent = Producer::adopt(missing);
    ASSERT_FALSE(absent);
    EXPECT_EQ(absent.error().code, ErrorCode::NotFound);
}

TEST_F(HandOver, ProducerThatDoesNotCloseTheChannelOnlyGivesItsLeaseBack) {
    const ChannelConfig channel = config(SyncPolicy::SingleReader);
    Producer owner = make_producer(channel);
    Consumer reader = make_consumer();
    owner.hand_over();
    {
        auto writer = Producer::adopt(channel, {.close_channel = false});
        ASSERT_TRUE(writer);
        ASSERT_EQ(write_value(*writer, 7), Status::Ok);
    }  // closed: gives the lease back only
    EXPECT_EQ(read_value(reader, SHORT_WAIT), 7u);
    Status status = Status::Ok;
    EXPECT_FALSE(read_value(reader, SHORT_WAIT, &status));
    EXPECT_EQ(status, Status::Timeout);  // not Closed: the channel goes on
    auto back = Producer::adopt(channel);
    ASSERT_TRUE(back) << back.error().message;
    back->close();
    EXPECT_FALSE(read_value(reader, SHORT_WAIT, &status));
    EXPECT_EQ(status, Status::Closed);
}

TEST_F(HandOver, SlotAWriterDiedWritingIsNeverPublished) {
    const ChannelConfig channel = config(SyncPolicy::SingleReader);
    Producer owner = make_producer(channel);
    Consumer reader = make_consumer();
    ASSERT_EQ(write_value(owner, 1), Status::Ok);
    owner.hand_over();
    ChildProcess writer = ChildProcess::fork([&] {
        auto adopted = Producer::adopt(channel, {.close_channel = false});
        if (!adopted) return 1;
        if (write_value(*adopted, 2) != Status::Ok) return 2;
        WriteSlot half = adopted->acquire_write();
        if (!half) return 3;
        std::memset(half.payload().data(), 0xAB, half.payload().size());
        ::_exit(0);  // dies holding it, as a crash would
    });
    ASSERT_EQ(writer.wait().code, 0);
    auto back = Producer::adopt(channel);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->next_sequence(), 2u);
    ASSERT_EQ(write_value(*back, 3), Status::Ok);
    for (std::uint64_t value : {1, 2, 3})
        EXPECT_EQ(read_value(reader, SHORT_WAIT), value);
    Status status = Status::Ok;
    EXPECT_FALSE(read_value(reader, SHORT_WAIT, &status));
    EXPECT_EQ(status, Status::Timeout);
}

TEST_F(HandOver, LentSeatKeepsItsCursorAcrossAReaderThatDiedReading) {
    const ChannelConfig channel = config(SyncPolicy::EveryReader, RingPolicy::Ring, 4);
    Producer producer = make_producer(channel);
    Consumer kept = make_consumer("kept");  // the owner's seat, never read through here
    const std::uint64_t owner = ProcessIdentity::self().token();
    for (std::uint64_t value : {0, 1, 2, 3})
        ASSERT_EQ(write_value(producer, value), Status::Ok);
    ChildProcess reader = ChildProcess::fork([&] {
        auto lent = Consumer::attach_to_seat(channel.name, kept.seat(), owner, {.name = "lent"});
        if (!lent) return 1;
        if (read_value(*lent) != 0u || read_value(*lent) != 1u) return 2;
        ReadSlot held = lent->acquire_read();  // slot 2, held when it dies
        if (!held) return 3;
        ::_exit(0);
    });
    ASSERT_EQ(reader.wait().code, 0);
    // The seat is still the owner's: the ring stays held for it (slot 2 is not released), nothing is lost.
    EXPECT_EQ(write_value(producer, 4), Status::Ok);
    EXPECT_EQ(write_value(producer, 5), Status::Ok);
    EXPECT_EQ(write_value(producer, 6), Status::Timeout);
    auto successor = Consumer::attach_to_seat(channel.name, kept.seat(), owner, {.name = "lent"});
    ASSERT_TRUE(successor) << successor.error().message;
    for (std::uint64_t value : {2, 3, 4, 5})
        EXPECT_EQ(read_value(*successor), value);
}

TEST_F(HandOver, SeatIsLentOnlyByItsLiveOwner) {
    const ChannelConfig channel = config(SyncPolicy::EveryReader);
    Producer producer = make_producer(channel);
    Consumer kept = make_consumer("kept");
    const std::uint64_t owner = ProcessIdentity::self().token();
    auto wrong_owner = Consumer::attach_to_seat(channel.name, kept.seat(), owner + 1, {});
    ASSERT_FALSE(wrong_owner);
    EXPECT_EQ(wrong_owner.error().code, ErrorCode::NotFound);
    auto free_seat = Consumer::attach_to_seat(channel.name, kept.seat() + 1, owner, {});
    ASSERT_FALSE(free_seat);
    auto past_the_table = Consumer::attach_to_seat(channel.name, 1000, owner, {});
    ASSERT_FALSE(past_the_table);
    EXPECT_EQ(past_the_table.error().code, ErrorCode::InvalidArgument);
    {
        auto lent = Consumer::attach_to_seat(channel.name, kept.seat(), owner, {});
        ASSERT_TRUE(lent) << lent.error().message;
    }  // a borrowed seat is not given up by its borrower
    EXPECT_TRUE(Consumer::attach_to_seat(channel.name, kept.seat(), owner, {}));
}

}  // namespace
}  // namespace dhub::shm
