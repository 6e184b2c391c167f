// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/codec.hpp"

#include <gtest/gtest.h>

#include "support/broker_test_support.hpp"

namespace dhub::broker {
namespace {

using nlohmann::json;
using namespace dhub::broker::testing;

constexpr std::uint64_t REQUEST_ID = 0x0102030405060708ULL;

std::vector<std::string> valid_frames() {
    return frames_of(Message{MessageType::RegisterChannel, REQUEST_ID, register_channel_body("cam0")});
}

TEST(Codec_test, RoundTripsEveryRequestWithItsRequestId) {
    const std::vector<Message> messages = {
        {MessageType::Hello, 1, hello_body()},
        {MessageType::RegisterChannel, 2, register_channel_body("cam0")},
        {MessageType::Discover, 3, json{{"name", "cam0"}, {"wait_ms", 500}}},
        {MessageType::DeregisterChannel, 4, json{{"name", "cam0"}}},
        {MessageType::RegisterConsumer, 5,
         json{{"channel", "cam0"}, {"consumer", identity(7)}, {"expected_schema_hash", SCHEMA_A}}},
        {MessageType::DeregisterConsumer, 6, json{{"channel", "cam0"}, {"consumer", identity(7)}}},
        {MessageType::Heartbeat, 7, json::object()},
        {MessageType::List, UINT64_MAX, json::object()},
        {MessageType::Error, 9, json{{"code", "NOT_FOUND"}, {"message", "no"}}},
        {MessageType::Notice, NOTICE_REQUEST_ID, json{{"event", "producer_died"}, {"channel", "cam0"}}},
    };
    for (const auto& sut : messages) {
        const Decoded decoded = decode_frames(frames_of(sut));
        ASSERT_TRUE(decoded.ok()) << to_wire(sut.type) << ": " << decoded.error().reason;
        EXPECT_EQ(decoded.message().type, sut.type);
        EXPECT_EQ(decoded.message().request_id, sut.request_id);
        EXPECT_EQ(decoded.message().body, sut.body);
    }
}

TEST(Codec_test, RequestIdIsEightBytesLittleEndian) {
    const auto frames = valid_frames();
    ASSERT_EQ(frames[2].size(), 8u);
    EXPECT_EQ(static_cast<unsigned char>(frames[2][0]), 0x08);
    EXPECT_EQ(static_cast<unsigned char>(frames[2][7]), 0x01);
    EXPECT_EQ(frames[0], std::string("DHUB\x01\x02", 6));  // protocol 1.2
}

struct MalformedCase {
    const char* what;
    std::function<void(std::vector<std::string>&)> mutate;
    DecodeFailure expected;
    const char* reason_mentions;
};

class Codec_malformed_test : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(Codec_malformed_test, IsRefusedWithTheRightFailureAndReason) {
    auto frames = valid_frames();
    GetParam().mutate(frames);
    const Decoded decoded = decode_frames(frames);
    ASSERT_FALSE(decoded.ok()) << GetParam().what;
    EXPECT_EQ(decoded.error().failure, GetParam().expected) << GetParam().what << ": " << decoded.error().reason;
    EXPECT_NE(decoded.error().reason.find(GetParam().reason_mentions), std::string::npos) << decoded.error().reason;
}

json body_of(const std::vector<std::string>& frames) {
    return json::parse(frames[3]);
}

INSTANTIATE_TEST_SUITE_P(
    EveryCase,
    Codec_malformed_test,
    ::testing::Values(
        MalformedCase{"no frames", [](auto& f) { f.clear(); }, DecodeFailure::Truncated, "found 0"},
        MalformedCase{"three frames", [](auto& f) { f.pop_back(); }, DecodeFailure::Truncated, "found 3"},
        MalformedCase{"five frames", [](auto& f) { f.push_back("x"); }, DecodeFailure::ExtraFrames, "found 5"},
        MalformedCase{"wrong magic", [](auto& f) { f[0][0] = 'X'; }, DecodeFailure::BadHeader, "DHUB"},
        MalformedCase{"short header", [](auto& f) { f[0] = "DHUB"; }, DecodeFailure::BadHeader, "found 4 bytes"},
        MalformedCase{"other major", [](auto& f) { f[0][4] = 2; }, DecodeFailure::VersionMismatch, "major 2"},
        MalformedCase{"unknown type", [](auto& f) { f[1] = "EXPLODE"; }, DecodeFailure::UnknownType, "EXPLODE"},
        MalformedCase{"binary type", [](auto& f) { f[1] = std::string("\x01\xff", 2); }, DecodeFailure::UnknownType,
                      "??"},
        MalformedCase{"long type", [](auto& f) { f[1] = std::string(5000, 'A'); }, DecodeFailure::UnknownType,
                      "no message type"},
        MalformedCase{"short request id", [](auto& f) { f[2] = "1234"; }, DecodeFailure::BadRequestId, "found 4"},
        MalformedCase{"oversized body", [](auto& f) { f[3] = "{\"x\":\"" + std::string(MAX_BODY_BYTES, 'a') + "\"}"; },
                      DecodeFailure::OversizedBody, "limit is 65536"},
        MalformedCase{"invalid JSON", [](auto& f) { f[3] = "{\"name\": "; }, DecodeFailure::InvalidJson,
                      "not valid JSON"},
        MalformedCase{"invalid UTF-8", [](auto& f) { f[3] = "{\"name\": \"\xff\xfe\"}"; }, DecodeFailure::InvalidJson,
                      "not valid JSON"},
        MalformedCase{"deep nesting", [](auto& f) { f[3] = std::string(10000, '[') + std::string(10000, ']'); },
                      DecodeFailure::InvalidJson, "deeper than"},
        MalformedCase{"array body", [](auto& f) { f[3] = "[1,2]"; }, DecodeFailure::NotAnObject, "array"},
        MalformedCase{"empty body", [](auto& f) { f[3] = ""; }, DecodeFailure::InvalidJson, "not valid JSON"},
        MalformedCase{"missing field",
                      [](auto& f) {
                          auto b = body_of(f);
                          b.erase("schema_hash");
                          f[3] = b.dump();
                      },
                      DecodeFailure::MissingField, "\"schema_hash\""},
        MalformedCase{"string as number",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["slot_count"] = "8";
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "\"slot_count\""},
        MalformedCase{"negative number",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["slot_bytes"] = -1;
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "\"slot_bytes\""},
        MalformedCase{"float number",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["layout_version"] = 1.5;
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "\"layout_version\""},
        MalformedCase{"name with space",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["name"] = "cam 0";
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "\"name\""},
        MalformedCase{"non-hex schema",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["schema_hash"] = "zz";
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "\"schema_hash\""},
        MalformedCase{"short secret",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["attach_secret"] = "abcd";
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "\"attach_secret\""},
        MalformedCase{"identity without pid",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["producer"].erase("pid");
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "pid"},
        MalformedCase{"pid beyond 32 bits",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["producer"]["pid"] = 1ULL << 40;
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "pid"},
        MalformedCase{"policies not an object",
                      [](auto& f) {
                          auto b = body_of(f);
                          b["policies"] = "latest";
                          f[3] = b.dump();
                      },
                      DecodeFailure::WrongFieldType, "\"policies\""}));

TEST(Codec_test, VersionMismatchStillReportsTheRequestIdSoTheErrorCanEchoIt) {
    auto frames = valid_frames();
    frames[0][4] = 9;
    const Decoded decoded = decode_frames(frames);
    ASSERT_FALSE(decoded.ok());
    ASSERT_TRUE(decoded.error().request_id.has_value());
    EXPECT_EQ(*decoded.error().request_id, REQUEST_ID);
}

TEST(Codec_test, NewerMinorVersionAndUnknownExtraFieldsAreAccepted) {
    auto frames = valid_frames();
    frames[0][5] = 7;
    auto body = json::parse(frames[3]);
    body["added_in_1_7"] = true;
    frames[3] = body.dump();
    EXPECT_TRUE(decode_frames(frames).ok());
}

TEST(Codec_test, CheckBodyNamesTheFirstProblem) {
    auto body = register_channel_body("cam0");
    EXPECT_EQ(check_body(MessageType::RegisterChannel, body), "");
    body.erase("segment");
    EXPECT_NE(check_body(MessageType::RegisterChannel, body).find("\"segment\" is required"), std::string::npos);
}

}  // namespace
}  // namespace dhub::broker
