// SPDX-License-Identifier: Apache-2.0
// dhub.validator.monotonic_timestamp through the harness, loaded from the built dhub-monotonic_timestamp.so; the
// tests give the fake host the typed schema document of the guarded channel.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "dhub/sdk/testing/harness.hpp"
#include "support/plugin_files.hpp"

namespace {

using dhub::sdk::testing::Frame;
using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;
using dhub::sdk::testing::ParamMap;

/// 48 bytes: u8, i8 and big-endian u8 timestamps, an f8 and a u8 pair, as the kernel hands the document.
constexpr const char* STAMPED_SCHEMA = R"({"align":8,"encoding":"struct","fields":[
{"dtype":"<u8","name":"t","offset":0,"shape":[]},
{"dtype":"<i8","name":"signed_t","offset":8,"shape":[]},
{"dtype":">u8","name":"big_t","offset":16,"shape":[]},
{"dtype":"<f8","name":"seconds","offset":24,"shape":[]},
{"dtype":"<u8","name":"pair","offset":32,"shape":[2]}],
"name":"lab.stamped","size":48,"version":1})";

/// A slot whose own timestamp is timestamp_ns (no payload needed).
Frame at(std::uint64_t timestamp_ns) {
    Frame frame;
    frame.bytes.resize(8);
    frame.timestamp_ns = timestamp_ns;
    return frame;
}

/// A lab.stamped slot holding value in field t, signed_t and big_t; its own timestamp goes down instead.
Frame stamped(std::int64_t value) {
    static std::uint64_t own_timestamp = 1'000'000;
    Frame frame;
    frame.bytes.resize(48);
    frame.timestamp_ns = --own_timestamp;
    const auto unsigned_value = static_cast<std::uint64_t>(value);
    const std::uint64_t big = __builtin_bswap64(unsigned_value);  // the test hosts are little-endian
    std::memcpy(frame.bytes.data(), &unsigned_value, 8);
    std::memcpy(frame.bytes.data() + 8, &value, 8);
    std::memcpy(frame.bytes.data() + 16, &big, 8);
    return frame;
}

class MonotonicTimestamp_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("monotonic_timestamp", "dhub.validator.monotonic_timestamp");
    }
    /// A validator, not yet created, guarding a channel of schema id and typed schema document ("": none).
    static std::unique_ptr<Harness> on_channel(const char* schema_id, const char* document, ParamMap params = {}) {
        auto sut = std::make_unique<Harness>(component(), std::move(params));
        sut->host().set_port_schema(dhub::sdk::Direction::Input, 0, schema_id);
        if (*document != '\0') sut->host().set_port_schema_document(dhub::sdk::Direction::Input, 0, document);
        return sut;
    }
    /// A started validator guarding a lab.stamped channel.
    static std::unique_ptr<Harness> started(ParamMap params = {}) {
        auto sut = on_channel("lab.stamped@1", STAMPED_SCHEMA, std::move(params));
        EXPECT_EQ(sut->start(), DHUB_OK) << sut->log_text();
        return sut;
    }
};

TEST_F(MonotonicTimestamp_test, DescriptorDeclaresAValidatorOfAnySchema) {
    EXPECT_EQ(component()->kind, DHUB_KIND_VALIDATOR);
    EXPECT_NE(component()->validate, nullptr);
    EXPECT_STREQ(component()->input_schema, "*");
}

TEST_F(MonotonicTimestamp_test, AcceptsTheFirstSlotAndIncreasingTimestamps) {
    auto sut = started();

    for (const std::uint64_t timestamp : {500U, 501U, 2'000U}) {
        const auto verdict = sut->validate(at(timestamp));
        EXPECT_EQ(verdict.status, DHUB_OK);
        EXPECT_TRUE(verdict.valid) << timestamp << ": " << verdict.reason;
    }
}

TEST_F(MonotonicTimestamp_test, RejectsAnEqualTimestampWhenStrict) {
    auto sut = started();
    ASSERT_TRUE(sut->validate(at(1'000)).valid);

    const auto verdict = sut->validate(at(1'000));

    EXPECT_EQ(verdict.status, DHUB_OK);
    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "not_monotonic");
    EXPECT_EQ(verdict.reason, "timestamp 1000 ns is not after the previous accepted slot's 1000 ns (difference 0 ns)");
}

TEST_F(MonotonicTimestamp_test, RejectsAnEarlierTimestampGivingTheDifference) {
    auto sut = started();
    ASSERT_TRUE(sut->validate(at(1'500)).valid);

    const auto verdict = sut->validate(at(1'000));

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "not_monotonic");
    EXPECT_EQ(verdict.reason,
              "timestamp 1000 ns is not after the previous accepted slot's 1500 ns (difference -500 ns)");
}

TEST_F(MonotonicTimestamp_test, NotStrictAcceptsAnEqualTimestampButNotAnEarlierOne) {
    auto sut = started({{"strict", false}});
    ASSERT_TRUE(sut->validate(at(1'000)).valid);

    EXPECT_TRUE(sut->validate(at(1'000)).valid);
    const auto verdict = sut->validate(at(900));
    EXPECT_EQ(verdict.kind, "not_monotonic");
    EXPECT_EQ(verdict.reason, "timestamp 900 ns is before the previous accepted slot's 1000 ns (difference -100 ns)");
}

TEST_F(MonotonicTimestamp_test, ComparesWithThePreviousAcceptedSlotNotARejectedOne) {
    auto sut = started();
    ASSERT_TRUE(sut->validate(at(1'000)).valid);
    ASSERT_FALSE(sut->validate(at(500)).valid);

    // After 500 but not after 1000, the last slot accepted.
    EXPECT_FALSE(sut->validate(at(800)).valid);
    EXPECT_TRUE(sut->validate(at(1'001)).valid);
}

TEST_F(MonotonicTimestamp_test, ReadsAnUnsignedFieldInsteadOfTheSlotsTimestamp) {
    auto sut = started({{"field", "t"}});

    EXPECT_TRUE(sut->validate(stamped(10)).valid);  // the slots' own timestamps go down
    EXPECT_TRUE(sut->validate(stamped(20)).valid);
    const auto verdict = sut->validate(stamped(15));
    EXPECT_EQ(verdict.kind, "not_monotonic");
    EXPECT_EQ(verdict.reason,
              "field 't' timestamp 15 ns is not after the previous accepted slot's 20 ns (difference -5 ns)");
}

TEST_F(MonotonicTimestamp_test, ComparesASignedFieldAsSigned) {
    auto sut = started({{"field", "signed_t"}});

    EXPECT_TRUE(sut->validate(stamped(-5)).valid);
    EXPECT_TRUE(sut->validate(stamped(3)).valid);
    const auto verdict = sut->validate(stamped(-10));
    EXPECT_EQ(verdict.kind, "not_monotonic");
    EXPECT_EQ(verdict.reason,
              "field 'signed_t' timestamp -10 ns is not after the previous accepted slot's 3 ns (difference -13 ns)");
}

TEST_F(MonotonicTimestamp_test, ReadsABigEndianFieldInItsByteOrder) {
    auto sut = started({{"field", "big_t"}});

    EXPECT_TRUE(sut->validate(stamped(1)).valid);
    EXPECT_TRUE(sut->validate(stamped(256)).valid);  // 1 < 256, though not as little-endian bytes
    EXPECT_EQ(sut->validate(stamped(255)).reason,
              "field 'big_t' timestamp 255 ns is not after the previous accepted slot's 256 ns (difference -1 ns)");
}

TEST_F(MonotonicTimestamp_test, RejectsASlotTooShortForTheField) {
    auto sut = started({{"field", "signed_t"}});
    Frame frame = stamped(1);
    frame.bytes.resize(12);

    const auto verdict = sut->validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "length");
    EXPECT_EQ(verdict.reason, "slot of 12 bytes does not hold field 'signed_t' (bytes 8 to 16)");
}

TEST_F(MonotonicTimestamp_test, RefusesAFieldOnAChannelWithoutATypedSchema) {
    auto sut = on_channel("dhub.waveform.f64@1", "", {{"field", "t"}});

    EXPECT_EQ(sut->create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut->has_log(DHUB_LOG_ERROR,
                             "\"field\" is 't', but the channel has no typed schema to find it in (its schema is "
                             "'dhub.waveform.f64@1'); declare one (docs/schemas.md)"))
        << sut->log_text();
}

TEST_F(MonotonicTimestamp_test, NeedsNoTypedSchemaForTheSlotsOwnTimestamp) {
    auto sut = on_channel("dhub.waveform.f64@1", "");

    ASSERT_EQ(sut->start(), DHUB_OK) << sut->log_text();
    EXPECT_TRUE(sut->validate(at(1)).valid);
}

TEST_F(MonotonicTimestamp_test, RefusesAFieldTheSchemaDoesNotHave) {
    auto sut = on_channel("lab.stamped@1", STAMPED_SCHEMA, {{"field", "time"}});

    EXPECT_EQ(sut->create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut->has_log(DHUB_LOG_ERROR,
                             "lab.stamped@1 has no field 'time'; its fields: t, signed_t, big_t, seconds, pair"))
        << sut->log_text();
}

TEST_F(MonotonicTimestamp_test, RefusesAFieldThatIsNotAScalarEightByteInteger) {
    auto seconds = on_channel("lab.stamped@1", STAMPED_SCHEMA, {{"field", "seconds"}});
    auto pair = on_channel("lab.stamped@1", STAMPED_SCHEMA, {{"field", "pair"}});

    EXPECT_EQ(seconds->create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(seconds->has_log(DHUB_LOG_ERROR,
                                 "field 'seconds' of lab.stamped@1 is \"<f8\"; a timestamp field must be a scalar "
                                 "\"<u8\" or \"<i8\" (integer nanoseconds)"))
        << seconds->log_text();
    EXPECT_EQ(pair->create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(pair->has_log(DHUB_LOG_ERROR, "field 'pair' of lab.stamped@1 is \"<u8\" with shape [2]; a timestamp"))
        << pair->log_text();
}

TEST_F(MonotonicTimestamp_test, RefusesParamsOfTheWrongType) {
    EXPECT_THROW(Harness(component(), {{"strict", "yes"}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"field", 3}}), HarnessError);
}

}  // namespace
