// SPDX-License-Identifier: Apache-2.0
// The zmq transport's wire protocol: every message survives encode and decode, and every malformed frame a peer
// could send is refused with words naming what is wrong (plugins/transports/zmq/wire.hpp).
#include "wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dhub::zmq_transport {
namespace {

using Frames = std::vector<std::vector<std::byte>>;

std::variant<Message, DecodeError> decode_frames(const Frames& frames) {
    std::vector<std::span<const std::byte>> spans(frames.begin(), frames.end());
    return decode(spans);
}

template <typename T>
T round_trip(const T& message, const Frames& extra = {}) {
    Frames frames{encode(message)};
    frames.insert(frames.end(), extra.begin(), extra.end());
    const auto decoded = decode_frames(frames);
    EXPECT_TRUE(std::holds_alternative<Message>(decoded))
        << (std::holds_alternative<DecodeError>(decoded) ? std::get<DecodeError>(decoded).what : "");
    EXPECT_TRUE(std::holds_alternative<T>(std::get<Message>(decoded)));
    return std::get<T>(std::get<Message>(decoded));
}

std::string refusal(const Frames& frames, RefuseCode code = RefuseCode::Malformed) {
    const auto decoded = decode_frames(frames);
    if (!std::holds_alternative<DecodeError>(decoded)) {
        ADD_FAILURE() << "decoded a malformed message";
        return {};
    }
    EXPECT_EQ(std::get<DecodeError>(decoded).code, code);
    return std::get<DecodeError>(decoded).what;
}

std::vector<std::byte> bytes_of(const std::string& text) {
    const auto* first = reinterpret_cast<const std::byte*>(text.data());
    return {first, first + text.size()};
}

ChannelDescription cam0() {
    ChannelDescription channel{"cam0", 4096, 64, {}};
    for (std::size_t i = 0; i < channel.schema_hash.size(); ++i)
        channel.schema_hash[i] = static_cast<std::uint8_t>(i);
    return channel;
}

TEST(TransportWire_test, EveryMessageSurvivesEncodeAndDecode) {
    const Hello hello{cam0(), 0x1122334455667788ULL, 42, 64, "kernel-b/rx"};
    EXPECT_EQ(round_trip(hello), hello);
    const Welcome welcome{cam0(), 7, 40, 1 << 20, Delivery::Latest};
    EXPECT_EQ(round_trip(welcome), welcome);
    const Refuse refuse{RefuseCode::UnknownPeer, "unknown receiver: say HELLO"};
    EXPECT_EQ(round_trip(refuse), refuse);
    const Credit credit{7, 41, 63, CREDIT_REWIND};
    EXPECT_EQ(round_trip(credit), credit);
    const Heartbeat heartbeat{7, 44};
    EXPECT_EQ(round_trip(heartbeat), heartbeat);
    EXPECT_EQ(round_trip(Bye{}), Bye{});
    const End end{7, 45};
    EXPECT_EQ(round_trip(end), end);

    const Frames frames{encode(Data{7, 41, 123456789, 10, 6, 40, DATA_LAST_CHUNK}), bytes_of("wxyz")};
    const auto decoded = decode_frames(frames);  // the payload points into frames: they stay
    ASSERT_TRUE(std::holds_alternative<Message>(decoded));
    const Data data = std::get<Data>(std::get<Message>(decoded));
    EXPECT_EQ(data.session, 7u);
    EXPECT_EQ(data.sequence, 41u);
    EXPECT_EQ(data.timestamp_ns, 123456789u);
    EXPECT_EQ(data.slot_bytes, 10u);
    EXPECT_EQ(data.offset, 6u);
    EXPECT_EQ(data.previous, 40u);
    EXPECT_EQ(data.flags, DATA_LAST_CHUNK);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(data.payload.data()), data.payload.size()), "wxyz");
}

TEST(TransportWire_test, ABatchCarriesWholeSlotsBackToBack) {
    const Batch batch{7, {{40, 1000, 3, 39}, {41, 1001, 0, 40}, {43, 1003, 5, 41}}, {}};
    const Frames frames{encode(batch), bytes_of("abcVWXYZ")};
    const auto decoded = decode_frames(frames);
    ASSERT_TRUE(std::holds_alternative<Message>(decoded))
        << (std::holds_alternative<DecodeError>(decoded) ? std::get<DecodeError>(decoded).what : "");
    const Batch got = std::get<Batch>(std::get<Message>(decoded));
    EXPECT_EQ(got.slots, batch.slots);
    const std::vector<Data> each = got.as_data();
    ASSERT_EQ(each.size(), 3u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(each[0].payload.data()), each[0].payload.size()), "abc");
    EXPECT_TRUE(each[1].payload.empty());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(each[2].payload.data()), each[2].payload.size()), "VWXYZ");
    EXPECT_EQ(each[2].sequence, 43u);
    EXPECT_EQ(each[2].previous, 41u);
    EXPECT_EQ(each[2].flags, DATA_LAST_CHUNK);
    EXPECT_EQ(each[2].slot_bytes, 5u);

    EXPECT_EQ(refusal({encode(batch), bytes_of("abcVWXYZ!")}), "BATCH: its slots hold 8 bytes, its payload frame 9");
    EXPECT_EQ(refusal({encode(batch), bytes_of("abc")}),
              "BATCH: its slots hold more than the 3 bytes of its payload frame");
    EXPECT_EQ(refusal({encode(Batch{7, {}, {}}), bytes_of("")}), "BATCH of 0 slots, 1 to 256 allowed");
    EXPECT_EQ(refusal({encode(batch)}), "BATCH: 1 frames, expected 2");
    auto huge = encode(Batch{7, {{1, 1, ~std::uint64_t{0}, 0}, {2, 2, 2, 1}}, {}});
    EXPECT_EQ(refusal({huge, bytes_of("ab")}), "BATCH: its slots hold more than the 2 bytes of its payload frame");
}

TEST(TransportWire_test, TextsLongerThanTheLimitsAreCutSoThatWhatIsSentDecodes) {
    const Hello hello{cam0(), 0, RESUME_NONE, 1, std::string(1000, 'l')};
    EXPECT_EQ(round_trip(hello).label, std::string(MAX_NAME_BYTES, 'l'));
    EXPECT_EQ(round_trip(Refuse{RefuseCode::Mismatch, std::string(5000, 't')}).text.size(), MAX_TEXT_BYTES);
}

TEST(TransportWire_test, EveryCutOfEveryMessageIsRefusedNeverRead) {
    const Frames messages = {encode(Hello{cam0(), 1, 2, 3, "rx"}),
                             encode(Welcome{cam0(), 1, 2, 3, Delivery::Lossless}),
                             encode(Refuse{RefuseCode::Mismatch, "why"}),
                             encode(Credit{1, 2, 3, 0}),
                             encode(Heartbeat{1, 2}),
                             encode(End{1, 2})};
    for (const auto& message : messages) {
        for (std::size_t length = 0; length < message.size(); ++length) {
            const std::vector<std::byte> cut(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(length));
            EXPECT_FALSE(refusal({cut}).empty()) << "cut at " << length;
        }
        std::vector<std::byte> longer = message;
        longer.push_back(std::byte{0});
        EXPECT_FALSE(refusal({longer}).empty()) << "one byte too many";
    }
}

TEST(TransportWire_test, MalformedFramesAreRefusedNamingWhatIsWrong) {
    EXPECT_EQ(refusal({}), "an empty message: no header frame");
    EXPECT_EQ(refusal({bytes_of("GET / HTTP/1.1")}),
              "not a dhub zmq transport message (its first four bytes are not \"DHZT\")");

    auto other_version = encode(Credit{1, 2, 3, 0});
    other_version[4] = std::byte{2};
    EXPECT_EQ(refusal({other_version}, RefuseCode::Version), "protocol version 2, this end speaks 1");

    auto unknown_type = encode(Bye{});
    unknown_type[6] = std::byte{99};
    EXPECT_EQ(refusal({unknown_type}), "unknown message type 99");

    EXPECT_EQ(refusal({encode(Credit{1, 2, 3, 0}), bytes_of("x")}), "CREDIT: 2 frames, expected 1");
    EXPECT_EQ(refusal({encode(Data{1, 2, 3, 8, 0, RESUME_NONE, 0})}), "DATA: 1 frames, expected 2");
    EXPECT_EQ(refusal({encode(Data{1, 5, 3, 8, 6, 4, 0}), bytes_of("abc")}),
              "DATA for sequence 5: a chunk of 3 bytes at offset 6 overruns the slot's 8 bytes");
    EXPECT_EQ(refusal({encode(Data{1, 5, 3, 8, ~std::uint64_t{0}, 4, 0}), bytes_of("abc")}),
              "DATA for sequence 5: a chunk of 3 bytes at offset 18446744073709551615 overruns the slot's 8 bytes");
    EXPECT_EQ(refusal({encode(Data{1, 5, 3, 8, 0, 4, DATA_LAST_CHUNK}), bytes_of("abc")}),
              "DATA for sequence 5: the last chunk ends at 3 of 8 bytes");

    auto bad_delivery = encode(Welcome{cam0(), 1, 2, 3, Delivery::Lossless});
    bad_delivery[8 + 8 + 8 + 4] = std::byte{9};
    EXPECT_EQ(refusal({bad_delivery}), "WELCOME: delivery 9, expected 1 (lossless) or 2 (latest)");

    auto long_name = encode(Hello{cam0(), 1, 2, 3, "rx"});
    long_name[8 + 8 + 8 + 4 + 4 + 8 + 32] = std::byte{0xFF};  // name length 0x..FF
    long_name[8 + 8 + 8 + 4 + 4 + 8 + 32 + 1] = std::byte{0xFF};
    EXPECT_EQ(refusal({long_name}), "HELLO: a name of 65535 bytes, at most 256 allowed");

    auto bad_code = encode(Refuse{RefuseCode::Mismatch, ""});
    bad_code[8] = std::byte{77};
    EXPECT_EQ(refusal({bad_code}), "REFUSE: unknown code 77");
}

}  // namespace
}  // namespace dhub::zmq_transport
