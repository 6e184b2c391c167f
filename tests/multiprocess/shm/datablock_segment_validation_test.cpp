// SPDX-License-Identifier: Apache-2.0
// A consumer must refuse a segment it cannot trust, with an error that names the field and the expected
// and found values: corrupted header fields, a truncated or empty file, or a segment another user owns.
// The producer is always another process (dhub-shm-test-peer); the test damages its segment from outside.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dhub/shm/channel_view.hpp"
#include "dhub/shm/consumer.hpp"
#include "dhub/shm/layout.hpp"
#include "dhub/shm/segment.hpp"
#include "multiprocess_support.hpp"
#include "support/test_channel.hpp"

namespace dhub::testing {
namespace {

using shm::layout::SegmentHeader;
using namespace std::chrono_literals;

constexpr std::size_t SLOT_BYTES = 4096;
constexpr std::uint32_t RING_SLOTS = 8;
constexpr std::uint8_t PRODUCER_SCHEMA_BYTE = 0x5A;
constexpr std::uint8_t FLIP_LOW_BITS = 0xFF;
constexpr std::size_t SCHEMA_BYTE_TO_FLIP = 7;
constexpr shm::WaitOptions CLOSE_WAIT{.timeout = 10s, .spin = 0ns};

std::string hex(const void* bytes, std::size_t count) {
    std::string text;
    char digits[3];
    for (std::size_t index = 0; index < count; ++index) {
        std::snprintf(digits, sizeof digits, "%02x", static_cast<const unsigned char*>(bytes)[index]);
        text += digits;
    }
    return text;
}

shm::ChannelConfig producer_config(const std::string& name, mode_t mode = 0600) {
    shm::ChannelConfig config{.name = name, .slot_bytes = SLOT_BYTES, .slot_count = RING_SLOTS, .mode = mode};
    config.schema_hash.fill(PRODUCER_SCHEMA_BYTE);
    return config;
}

/// A live producer process (hold-lease peer) owning the channel until the fixture ends.
class LiveProducerChannel : public ::testing::Test {
protected:
    void start_producer(mode_t mode = 0600) {
        ReadySignal ready;
        producer = spawn_peer("hold-lease", channel_arguments(producer_config(channel.name(), mode)), ready);
        ASSERT_TRUE(ready.wait(READY_TIMEOUT)) << "hold-lease peer never created the channel";
    }

    const ChannelCleanup channel{unique_channel_name("validate")};
    std::optional<ChildProcess> producer;
};

// ---- corrupted header fields ------------------------------------------------------------------------------

/// One way to damage the header. apply() changes the mapped header (and/or what the consumer expects) and
/// returns the fragments the attach error must contain: the field name, expected and found values.
struct HeaderCorruption {
    std::string label;
    ErrorCode code;
    std::function<std::vector<std::string>(SegmentHeader&, shm::ConsumerOptions&)> apply;
};

void PrintTo(const HeaderCorruption& corruption, std::ostream* out) {
    *out << corruption.label;
}

std::vector<HeaderCorruption> header_corruptions() {
    return {
        {"Magic", ErrorCode::Corrupt,
         [](SegmentHeader& header, shm::ConsumerOptions&) -> std::vector<std::string> {
             const std::uint64_t original = header.magic;
             header.magic ^= FLIP_LOW_BITS;
             return {"magic", "expected 0x" + hex(&original, sizeof original),
                     "found 0x" + hex(&header.magic, sizeof header.magic)};
         }},
        {"LayoutVersion", ErrorCode::Incompatible,
         [](SegmentHeader& header, shm::ConsumerOptions&) -> std::vector<std::string> {
             header.layout_version = shm::layout::LAYOUT_VERSION + 1;
             return {"layout_version", "expected " + std::to_string(shm::layout::LAYOUT_VERSION),
                     "found " + std::to_string(shm::layout::LAYOUT_VERSION + 1)};
         }},
        {"SlotCount", ErrorCode::Corrupt,
         [](SegmentHeader& header, shm::ConsumerOptions&) -> std::vector<std::string> {
             // The stored total_bytes no longer matches what the changed slot_count implies.
             header.slot_count += 1;
             const shm::layout::Geometry implied{header.slot_count, header.slot_payload_bytes, header.flex_zone_bytes,
                                                 header.consumer_capacity};
             return {"total_bytes", "expected " + std::to_string(implied.total_bytes()),
                     "slot_count=" + std::to_string(header.slot_count), "found " + std::to_string(header.total_bytes)};
         }},
        {"TotalBytes", ErrorCode::Corrupt,
         [](SegmentHeader& header, shm::ConsumerOptions&) -> std::vector<std::string> {
             const std::uint64_t original = header.total_bytes;
             header.total_bytes += shm::layout::PAGE;
             return {"total_bytes", "expected " + std::to_string(original),
                     "found " + std::to_string(header.total_bytes)};
         }},
        {"SchemaHashByteInHeader", ErrorCode::Corrupt,
         [](SegmentHeader& header, shm::ConsumerOptions&) -> std::vector<std::string> {
             // The schema hash is covered by the geometry checksum: a flipped byte is detected as damage.
             header.schema_hash[SCHEMA_BYTE_TO_FLIP] ^= FLIP_LOW_BITS;
             const shm::Digest recomputed = shm::geometry_checksum(header);
             return {"geometry_checksum", "expected " + hex(recomputed.data(), 8),
                     "found " + hex(header.geometry_checksum, 8)};
         }},
        {"SchemaDescriptorBytes", ErrorCode::Corrupt,
         [](SegmentHeader& header, shm::ConsumerOptions&) -> std::vector<std::string> {
             // A stored descriptor length that moved would move the flex zone: the derived offset disagrees.
             header.schema_descriptor_bytes += shm::layout::CACHE_LINE;
             const shm::layout::Geometry implied{header.slot_count, header.slot_payload_bytes, header.flex_zone_bytes,
                                                 header.consumer_capacity, header.schema_descriptor_bytes};
             return {"flex_zone_offset", "expected " + std::to_string(implied.flex_zone_offset()),
                     "schema_descriptor_bytes=" + std::to_string(header.schema_descriptor_bytes),
                     "found " + std::to_string(header.flex_zone_offset)};
         }},
        {"SchemaHashExpectedByConsumer", ErrorCode::Incompatible,
         [](SegmentHeader& header, shm::ConsumerOptions& options) -> std::vector<std::string> {
             shm::SchemaHash expected{};
             expected.fill(PRODUCER_SCHEMA_BYTE);
             expected[SCHEMA_BYTE_TO_FLIP] ^= FLIP_LOW_BITS;
             options.expect.schema_hash = expected;
             return {"schema_hash", "expected " + hex(expected.data(), expected.size()),
                     "found " + hex(header.schema_hash, sizeof header.schema_hash)};
         }},
    };
}

class CorruptedHeader : public LiveProducerChannel, public ::testing::WithParamInterface<HeaderCorruption> {};

TEST_P(CorruptedHeader, AttachIsRefusedNamingTheFieldAndBothValues) {
    // Arrange
    start_producer();
    auto segment = shm::Segment::open(channel.name());
    ASSERT_TRUE(segment.ok()) << segment.error().message;
    auto& header = *reinterpret_cast<SegmentHeader*>(segment->data());
    shm::ConsumerOptions options;
    const std::vector<std::string> fragments = GetParam().apply(header, options);

    // Act
    const auto attached = shm::Consumer::attach(channel.name(), options);

    // Assert
    ASSERT_FALSE(attached.ok()) << "attached to a corrupted segment";
    EXPECT_EQ(attached.error().code, GetParam().code) << to_string(attached.error().code);
    EXPECT_THAT(attached.error().message, ::testing::HasSubstr(channel.name()));
    for (const std::string& fragment : fragments) {
        EXPECT_THAT(attached.error().message, ::testing::HasSubstr(fragment));
    }
}

std::string corruption_name(const ::testing::TestParamInfo<HeaderCorruption>& info) {
    return info.param.label;
}

INSTANTIATE_TEST_SUITE_P(EachField, CorruptedHeader, ::testing::ValuesIn(header_corruptions()), corruption_name);

// ---- truncated and empty segments -------------------------------------------------------------------------

/// Resizes the channel's segment file behind everyone's back.
void truncate_segment(const std::string& channel, off_t bytes) {
    const int fd = ::shm_open(shm::segment_name(channel).c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::ftruncate(fd, bytes), 0);
    ::close(fd);
}

using UndersizedSegment = LiveProducerChannel;

TEST_F(UndersizedSegment, AttachRefusesAFileSmallerThanTotalBytes) {
    // Arrange
    start_producer();
    const std::uint64_t total = [&] {
        const auto segment = shm::Segment::open(channel.name());
        return segment.ok() ? reinterpret_cast<const SegmentHeader*>(segment->data())->total_bytes : 0;
    }();
    ASSERT_GT(total, shm::layout::PAGE);
    const std::uint64_t shrunk = total - shm::layout::PAGE;
    truncate_segment(channel.name(), static_cast<off_t>(shrunk));

    // Act
    const auto attached = shm::Consumer::attach(channel.name());

    // Assert
    ASSERT_FALSE(attached.ok());
    EXPECT_EQ(attached.error().code, ErrorCode::Corrupt);
    EXPECT_THAT(attached.error().message, ::testing::HasSubstr("total_bytes"));
    EXPECT_THAT(attached.error().message, ::testing::HasSubstr("expected " + std::to_string(total)));
    EXPECT_THAT(attached.error().message, ::testing::HasSubstr("found " + std::to_string(shrunk) + " (file size"));
}

TEST_F(UndersizedSegment, AttachRefusesAFileSmallerThanTheHeader) {
    // Arrange
    start_producer();
    const std::size_t shrunk = sizeof(SegmentHeader) / 2;
    truncate_segment(channel.name(), static_cast<off_t>(shrunk));

    // Act
    const auto attached = shm::Consumer::attach(channel.name());

    // Assert
    ASSERT_FALSE(attached.ok());
    EXPECT_EQ(attached.error().code, ErrorCode::Corrupt);
    EXPECT_THAT(attached.error().message, ::testing::HasSubstr("total_bytes"));
    EXPECT_THAT(attached.error().message, ::testing::HasSubstr("at least " + std::to_string(sizeof(SegmentHeader))));
    EXPECT_THAT(attached.error().message, ::testing::HasSubstr("found " + std::to_string(shrunk) + " (file size"));
}

/// A zero-length /dev/shm/dhub1.<name>, as left by a creator that died before sizing it (or as seen while a
/// creator is still at work: the library gives such a file CREATION_GRACE_NS before judging it stale).
class EmptySegment : public ::testing::Test {
protected:
    void SetUp() override {
        const int fd = ::shm_open(shm::segment_name(channel.name()).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
        ASSERT_GE(fd, 0);
        ::close(fd);
    }

    ChildProcess start_producer(const std::string& expect_takeover) const {
        return spawn_peer("produce",
                          concat(channel_arguments(producer_config(channel.name())),
                                 {"--count", std::to_string(SLOTS), "--expect-takeover", expect_takeover, "--keep"}));
    }

    static constexpr std::uint64_t SLOTS = 3;
    const ChannelCleanup channel{unique_channel_name("empty")};
};

TEST_F(EmptySegment, AttachIsRefusedNamingTheFile) {
    // Act
    const auto refused = shm::Consumer::attach(channel.name());

    // Assert
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::Corrupt);
    EXPECT_THAT(refused.error().message, ::testing::HasSubstr("/dev/shm" + shm::segment_name(channel.name())));
    EXPECT_THAT(refused.error().message, ::testing::HasSubstr("size 0"));
}

TEST_F(EmptySegment, ProducerProcessLeavesAFreshOneToItsPossiblyLiveCreator) {
    // Act
    ChildProcess producer = start_producer("no");
    const ExitStatus producer_exit = producer.wait(PEER_DEADLINE);

    // Assert
    EXPECT_TRUE(exited_with(producer_exit, PeerExit::CreateRefusedAlreadyExists));
}

TEST_F(EmptySegment, ProducerProcessReplacesAStaleOneAndConsumersReadIt) {
    // Arrange: wait (condition, bounded) until the file is older than the creation grace period.
    constexpr auto grace = std::chrono::nanoseconds(shm::CREATION_GRACE_NS);
    const bool stale = wait_until(
        [&] {
            const auto file = shm::Segment::stat(channel.name());
            return file.ok() && file->age_ns >= shm::CREATION_GRACE_NS;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(grace) + READY_TIMEOUT);
    ASSERT_TRUE(stale) << "the empty segment never became older than CREATION_GRACE_NS";

    // Act
    ChildProcess producer = start_producer("no");
    const ExitStatus producer_exit = producer.wait(PEER_DEADLINE);
    auto consumer = shm::Consumer::attach(channel.name());

    // Assert
    EXPECT_TRUE(exited_with(producer_exit, PeerExit::Ok));
    ASSERT_TRUE(consumer.ok()) << consumer.error().message;
    const Received received = read_until_quiet(*consumer, PayloadSizes::Full, CLOSE_WAIT);
    EXPECT_EQ(received.sequences, consecutive(0, SLOTS));
    EXPECT_TRUE(received.corrupt.empty());
    EXPECT_EQ(received.final_status, shm::Status::Closed);
}

// ---- permissions ------------------------------------------------------------------------------------------

constexpr uid_t NOBODY_UID = 65534;
constexpr gid_t NOBODY_GID = 65534;

/// Exit codes of the unprivileged child.
enum class UnprivilegedAttach : int {
    Attached = 0,
    DeniedNamingTheSegment = 1,
    DeniedWithoutNamingTheSegment = 2,
    OtherError = 3,
    CouldNotDropPrivileges = 4,
};

/// In a forked child: become nobody, then try to attach.
int attach_as_nobody(const std::string& channel) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(NOBODY_GID) != 0 || ::setuid(NOBODY_UID) != 0 ||
        ::getuid() != NOBODY_UID) {
        return static_cast<int>(UnprivilegedAttach::CouldNotDropPrivileges);
    }
    const auto attached = shm::Consumer::attach(channel);
    if (attached.ok()) return static_cast<int>(UnprivilegedAttach::Attached);
    std::fprintf(stderr, "attach as nobody: %s: %s\n", to_string(attached.error().code),
                 attached.error().message.c_str());
    if (attached.error().code != ErrorCode::PermissionDenied) return static_cast<int>(UnprivilegedAttach::OtherError);
    const bool named = attached.error().message.find(shm::segment_name(channel)) != std::string::npos;
    return static_cast<int>(named ? UnprivilegedAttach::DeniedNamingTheSegment
                                  : UnprivilegedAttach::DeniedWithoutNamingTheSegment);
}

class SegmentPermissions : public LiveProducerChannel {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a segment and then drop privileges";
    }

    ExitStatus attach_from_unprivileged_process() {
        ChildProcess child = ChildProcess::fork([name = channel.name()] { return attach_as_nobody(name); });
        return child.wait(PEER_DEADLINE);
    }
};

TEST_F(SegmentPermissions, AnotherUserIsDeniedAPrivateSegment) {
    // Arrange
    start_producer(0600);

    // Act
    const ExitStatus child = attach_from_unprivileged_process();

    // Assert
    EXPECT_TRUE(child.exited && child.code == static_cast<int>(UnprivilegedAttach::DeniedNamingTheSegment))
        << "child " << (child.exited ? "exited " + std::to_string(child.code) : "did not exit normally");
}

TEST_F(SegmentPermissions, AnotherUserAttachesToAWorldReadableSegment) {
    // Arrange
    start_producer(0666);

    // Act
    const ExitStatus child = attach_from_unprivileged_process();

    // Assert
    EXPECT_TRUE(child.exited && child.code == static_cast<int>(UnprivilegedAttach::Attached))
        << "child " << (child.exited ? "exited " + std::to_string(child.code) : "did not exit normally");
}

}  // namespace
}  // namespace dhub::testing
