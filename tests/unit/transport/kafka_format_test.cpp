// SPDX-License-Identifier: Apache-2.0
// The kafka transport's record headers: what a publisher writes reads back the same; every missing or malformed
// header is named; headers it does not know are ignored.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "message_format.hpp"

namespace dhub::kafka_transport {
namespace {

using RawHeaders = std::vector<std::pair<std::string_view, std::string_view>>;

RecordHeaders sample() {
    RecordHeaders headers;
    headers.channel = "cam0";
    headers.slot_bytes = 1 << 20;
    headers.slot_count = 64;
    for (std::size_t i = 0; i < headers.schema_hash.size(); ++i)
        headers.schema_hash[i] = static_cast<std::uint8_t>(i * 7);
    headers.schema_id = "lab.frame@3";
    headers.session = 0xfedcba9876543210ull;
    headers.sequence = 12345678901234ull;
    headers.timestamp_ns = 1'790'000'000'123'456'789ull;
    return headers;
}

RawHeaders view(const std::vector<Header>& headers) {
    RawHeaders raw;
    for (const auto& [name, value] : headers)
        raw.emplace_back(name, value);
    return raw;
}

std::string problem_of(const RawHeaders& raw) {
    const auto decoded = decode(raw);
    const auto* problem = std::get_if<std::string>(&decoded);
    return problem != nullptr ? *problem : "(decoded)";
}

TEST(KafkaRecordHeaders_test, WhatIsWrittenReadsBackTheSame) {
    for (const bool end : {false, true}) {
        RecordHeaders written = sample();
        written.end = end;
        const std::vector<Header> headers = encode(written);
        const auto decoded = decode(view(headers));
        ASSERT_TRUE(std::holds_alternative<RecordHeaders>(decoded)) << std::get<std::string>(decoded);
        const RecordHeaders& read = std::get<RecordHeaders>(decoded);
        EXPECT_EQ(read.channel, written.channel);
        EXPECT_EQ(read.slot_bytes, written.slot_bytes);
        EXPECT_EQ(read.slot_count, written.slot_count);
        EXPECT_EQ(read.schema_hash, written.schema_hash);
        EXPECT_EQ(read.schema_id, written.schema_id);
        EXPECT_EQ(read.session, written.session);
        EXPECT_EQ(read.sequence, written.sequence);
        EXPECT_EQ(read.timestamp_ns, written.timestamp_ns);
        EXPECT_EQ(read.end, end);
    }
}

TEST(KafkaRecordHeaders_test, ValuesAreTextAnyConsumerCanRead) {
    const std::vector<Header> headers = encode(sample());
    const auto value_of = [&](const std::string& name) {
        for (const auto& [key, value] : headers) {
            if (key == name) return value;
        }
        return std::string("(none)");
    };
    EXPECT_EQ(value_of("dhub.seq"), "12345678901234");
    EXPECT_EQ(value_of("dhub.channel"), "cam0");
    EXPECT_EQ(value_of("dhub.schema").substr(0, 8), "00070e15");
    EXPECT_EQ(value_of("dhub.end"), "(none)");
}

TEST(KafkaRecordHeaders_test, EveryMissingHeaderIsNamed) {
    const std::vector<Header> headers = encode(sample());
    for (std::size_t left_out = 0; left_out < headers.size(); ++left_out) {
        RawHeaders raw;
        for (std::size_t i = 0; i < headers.size(); ++i) {
            if (i != left_out) raw.emplace_back(headers[i].first, headers[i].second);
        }
        if (headers[left_out].first == "dhub.schema_id") {
            // Only for people and tools: a record without it is read, its schema id taken as "*".
            const auto decoded = decode(raw);
            ASSERT_TRUE(std::holds_alternative<RecordHeaders>(decoded)) << std::get<std::string>(decoded);
            EXPECT_EQ(std::get<RecordHeaders>(decoded).schema_id, "*");
            continue;
        }
        const std::string problem = problem_of(raw);
        EXPECT_NE(problem.find(headers[left_out].first), std::string::npos)
            << "without " << headers[left_out].first << ": " << problem;
    }
    EXPECT_NE(problem_of({}).find("not a record a dhub kafka_publish node wrote"), std::string::npos);
}

TEST(KafkaRecordHeaders_test, MalformedValuesAreRefusedNamingTheHeader) {
    const std::vector<Header> good = encode(sample());
    const auto with = [&](std::string_view name, std::string_view value) {
        RawHeaders raw = view(good);
        raw.emplace_back(name, value);  // the last of a name counts
        return problem_of(raw);
    };
    EXPECT_NE(with("dhub.seq", "12x").find("header dhub.seq is '12x', not a decimal number"), std::string::npos);
    EXPECT_NE(with("dhub.seq", "").find("dhub.seq"), std::string::npos);
    EXPECT_NE(with("dhub.seq", "-1").find("dhub.seq"), std::string::npos);
    EXPECT_NE(with("dhub.ts", "99999999999999999999999").find("dhub.ts"), std::string::npos);
    EXPECT_NE(with("dhub.slots", "4294967296").find("up to 4294967295"), std::string::npos);
    EXPECT_NE(with("dhub.schema", "abc").find("64 hex digits, found 3 characters"), std::string::npos);
    EXPECT_NE(with("dhub.schema", std::string(64, 'g')).find("not a hex digit"), std::string::npos);
    EXPECT_NE(with("dhub.channel", "").find("dhub.channel"), std::string::npos);
}

TEST(KafkaRecordHeaders_test, UnknownHeadersAreIgnored) {
    const std::vector<Header> headers = encode(sample());
    RawHeaders raw = view(headers);
    raw.emplace(raw.begin(), "traceparent", "00-abc-def-01");
    raw.emplace_back("x-facility", "ESS");
    const auto decoded = decode(raw);
    ASSERT_TRUE(std::holds_alternative<RecordHeaders>(decoded)) << std::get<std::string>(decoded);
    EXPECT_EQ(std::get<RecordHeaders>(decoded).sequence, sample().sequence);
}

TEST(KafkaRecordHeaders_test, SessionsAreDrawnAndNeverZero) {
    const std::uint64_t a = draw_session();
    const std::uint64_t b = draw_session();
    EXPECT_NE(a, 0u);
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace dhub::kafka_transport
