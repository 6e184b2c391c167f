// SPDX-License-Identifier: Apache-2.0
// dhub.validator.schema through the harness, loaded from the built dhub-schema_validator.so, guarding channels
// whose typed schema documents the tests give the fake host.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
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

/// A struct of 48 bytes with integer, f4, f8 array, f2 array and big-endian f4 fields, as the kernel hands it
/// (every default filled in).
constexpr const char* SAMPLE_SCHEMA = R"({"align":8,"encoding":"struct","fields":[
{"dtype":"<u8","name":"timestamp_ns","offset":0,"shape":[]},
{"dtype":"<u2","name":"count","offset":8,"shape":[]},
{"dtype":"<f4","name":"gain","offset":12,"shape":[]},
{"dtype":"<f8","name":"samples","offset":16,"shape":[3]},
{"dtype":"<f2","name":"half","offset":40,"shape":[2]},
{"dtype":">f4","name":"big","offset":44,"shape":[]}],
"name":"lab.sample","size":48,"version":1})";
constexpr std::size_t SAMPLE_BYTES = 48;

constexpr const char* IMAGE_SCHEMA =
    R"({"align":4,"encoding":"ndarray","fields":[{"dtype":"<f4","name":"pixels","offset":0,"shape":[3,4]}],
"name":"lab.image","size":48,"version":1})";
constexpr const char* IQ_SCHEMA =
    R"({"align":8,"encoding":"struct","fields":[{"dtype":"<c16","name":"iq","offset":0,"shape":[2]}],
"name":"lab.iq","size":32,"version":1})";
constexpr const char* BLOB_SCHEMA = R"({"align":1,"encoding":"bytes","name":"lab.blob","size":16,"version":1})";

constexpr std::uint16_t HALF_ONE = 0x3C00;
constexpr std::uint16_t HALF_INF = 0x7C00;
constexpr std::uint16_t HALF_NAN = 0x7E00;
constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
constexpr double INF = std::numeric_limits<double>::infinity();

template <typename T>
void put(Frame& frame, std::size_t offset, T value) {
    std::memcpy(frame.bytes.data() + offset, &value, sizeof value);
}

/// A float stored big-endian.
void put_big(Frame& frame, std::size_t offset, float value) {
    std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    if constexpr (std::endian::native == std::endian::little) bits = __builtin_bswap32(bits);
    put(frame, offset, bits);
}

/// A well-formed lab.sample slot: every float finite.
Frame sample() {
    Frame frame;
    frame.bytes.resize(SAMPLE_BYTES);
    put<std::uint64_t>(frame, 0, 1'000);
    put<std::uint16_t>(frame, 8, 7);
    put(frame, 12, 0.5F);
    for (std::size_t i = 0; i < 3; ++i)
        put(frame, 16 + 8 * i, 1.5 * static_cast<double>(i));
    put(frame, 40, HALF_ONE);
    put(frame, 42, HALF_ONE);
    put_big(frame, 44, 2.0F);
    return frame;
}

class SchemaValidator_test : public ::testing::Test {
protected:
    static const dhub_component_descriptor* component() {
        return dhub::test::plugin_component("schema_validator", "dhub.validator.schema");
    }
    /// A validator, not yet created, guarding a channel of schema id and typed schema document ("": none).
    static std::unique_ptr<Harness> on_channel(const char* schema_id, const char* document, ParamMap params = {}) {
        auto sut = std::make_unique<Harness>(component(), std::move(params));
        sut->host().set_port_schema(dhub::sdk::Direction::Input, 0, schema_id);
        if (*document != '\0') sut->host().set_port_schema_document(dhub::sdk::Direction::Input, 0, document);
        return sut;
    }
    /// A started validator guarding a channel of that typed schema.
    static std::unique_ptr<Harness> guarding(const char* document, ParamMap params = {}) {
        auto sut = on_channel("lab.any@1", document, std::move(params));
        EXPECT_EQ(sut->start(), DHUB_OK) << sut->log_text();
        return sut;
    }
};

TEST_F(SchemaValidator_test, DescriptorDeclaresAValidatorOfAnySchema) {
    EXPECT_EQ(component()->kind, DHUB_KIND_VALIDATOR);
    EXPECT_NE(component()->validate, nullptr);
    EXPECT_STREQ(component()->input_schema, "*");
}

TEST_F(SchemaValidator_test, AcceptsASlotOfTheSchemasSizeWithFiniteFloats) {
    auto sut = guarding(SAMPLE_SCHEMA);

    const auto verdict = sut->validate(sample());

    EXPECT_EQ(verdict.status, DHUB_OK);
    EXPECT_TRUE(verdict.valid) << verdict.reason;
    EXPECT_EQ(verdict.kind, "");
}

TEST_F(SchemaValidator_test, RejectsASlotShorterThanTheSchema) {
    auto sut = guarding(SAMPLE_SCHEMA);
    Frame frame = sample();
    frame.bytes.resize(40);

    const auto verdict = sut->validate(frame);

    EXPECT_EQ(verdict.status, DHUB_OK);
    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "length");
    EXPECT_EQ(verdict.reason, "slot of 40 bytes, but lab.sample@1 is 48 bytes");
}

TEST_F(SchemaValidator_test, RejectsALongerSlotUnlessLengthIsAtLeast) {
    Frame frame = sample();
    frame.bytes.resize(56);

    const auto exact = guarding(SAMPLE_SCHEMA)->validate(frame);
    const auto at_least = guarding(SAMPLE_SCHEMA, {{"length", "at_least"}})->validate(frame);

    EXPECT_FALSE(exact.valid);
    EXPECT_EQ(exact.kind, "length");
    EXPECT_EQ(exact.reason, "slot of 56 bytes, but lab.sample@1 is 48 bytes");
    EXPECT_TRUE(at_least.valid) << at_least.reason;
}

TEST_F(SchemaValidator_test, AtLeastStillRejectsAShorterSlot) {
    auto sut = guarding(SAMPLE_SCHEMA, {{"length", "at_least"}});
    Frame frame = sample();
    frame.bytes.resize(47);

    const auto verdict = sut->validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "length");
    EXPECT_EQ(verdict.reason, "slot of 47 bytes, but lab.sample@1 is at least 48 bytes");
}

TEST_F(SchemaValidator_test, RejectsAFieldThatDoesNotFitInTheSlot) {
    // A document whose size is smaller than its fields (the kernel never declares one; the rule still holds).
    auto sut = guarding(R"({"encoding":"struct","fields":[{"dtype":"<f8","name":"x","offset":8,"shape":[2]}],
"name":"lab.odd","size":8,"version":1})",
                        {{"length", "at_least"}});
    Frame frame;
    frame.bytes.resize(16);

    const auto verdict = sut->validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "length");
    EXPECT_EQ(verdict.reason, "field 'x' (bytes 8 to 24) does not fit in the slot of 16 bytes");
}

TEST_F(SchemaValidator_test, RejectsNaNNamingTheFieldAndTheElement) {
    auto sut = guarding(SAMPLE_SCHEMA);
    Frame frame = sample();
    put(frame, 16 + 8 * 2, NaN);

    const auto verdict = sut->validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "nan");
    EXPECT_EQ(verdict.reason, "field 'samples' element 2 is NaN");
}

TEST_F(SchemaValidator_test, RejectsAnInfinityWithItsSign) {
    auto sut = guarding(SAMPLE_SCHEMA);
    Frame frame = sample();
    put(frame, 12, -std::numeric_limits<float>::infinity());

    const auto verdict = sut->validate(frame);

    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.kind, "inf");
    EXPECT_EQ(verdict.reason, "field 'gain' is -inf");
}

TEST_F(SchemaValidator_test, ReportsTheFirstOffenderInFieldOrder) {
    auto sut = guarding(SAMPLE_SCHEMA);
    Frame frame = sample();
    put(frame, 16, INF);
    put(frame, 12, std::numeric_limits<float>::quiet_NaN());

    EXPECT_EQ(sut->validate(frame).reason, "field 'gain' is NaN");
}

TEST_F(SchemaValidator_test, ChecksHalfFloatsByTheirBits) {
    auto sut = guarding(SAMPLE_SCHEMA);
    Frame infinite = sample();
    put(infinite, 42, HALF_INF);
    Frame nan = sample();
    put(nan, 40, HALF_NAN);

    const auto inf_verdict = sut->validate(infinite);
    const auto nan_verdict = sut->validate(nan);

    EXPECT_EQ(inf_verdict.kind, "inf");
    EXPECT_EQ(inf_verdict.reason, "field 'half' element 1 is inf");
    EXPECT_EQ(nan_verdict.kind, "nan");
    EXPECT_EQ(nan_verdict.reason, "field 'half' element 0 is NaN");
}

TEST_F(SchemaValidator_test, ReadsBigEndianFloatsInTheirByteOrder) {
    auto sut = guarding(SAMPLE_SCHEMA);
    Frame infinite = sample();
    put_big(infinite, 44, std::numeric_limits<float>::infinity());
    // Bytes 00 00 80 7F: a tiny finite number big-endian, but an infinity read little-endian.
    Frame finite = sample();
    const std::byte tiny[] = {std::byte{0x00}, std::byte{0x00}, std::byte{0x80}, std::byte{0x7F}};
    std::memcpy(finite.bytes.data() + 44, tiny, sizeof tiny);

    EXPECT_EQ(sut->validate(infinite).reason, "field 'big' is inf");
    EXPECT_TRUE(sut->validate(finite).valid);
}

TEST_F(SchemaValidator_test, NeverLooksForNaNInIntegerFields) {
    auto sut = guarding(SAMPLE_SCHEMA);
    Frame frame = sample();
    put(frame, 0, std::bit_cast<std::uint64_t>(NaN));

    EXPECT_TRUE(sut->validate(frame).valid);
}

TEST_F(SchemaValidator_test, AllowsNaNOrInfinitiesWhenAskedAndStillRejectsTheOther) {
    Frame nan = sample();
    put(nan, 16, NaN);
    Frame infinite = sample();
    put(infinite, 16, INF);
    auto nan_allowed = guarding(SAMPLE_SCHEMA, {{"nan", "allow"}});
    auto inf_allowed = guarding(SAMPLE_SCHEMA, {{"inf", "allow"}});
    auto both_allowed = guarding(SAMPLE_SCHEMA, {{"nan", "allow"}, {"inf", "allow"}});

    EXPECT_TRUE(nan_allowed->validate(nan).valid);
    EXPECT_EQ(nan_allowed->validate(infinite).kind, "inf");
    EXPECT_TRUE(inf_allowed->validate(infinite).valid);
    EXPECT_EQ(inf_allowed->validate(nan).kind, "nan");
    EXPECT_TRUE(both_allowed->validate(nan).valid);
    EXPECT_TRUE(both_allowed->validate(infinite).valid);
}

TEST_F(SchemaValidator_test, NamesTheElementOfAMultiDimensionalArrayRowMajor) {
    auto sut = guarding(IMAGE_SCHEMA);
    Frame frame;
    frame.bytes.resize(48);
    put(frame, 4 * (2 * 4 + 1), std::numeric_limits<float>::quiet_NaN());  // pixels[2][1]

    const auto verdict = sut->validate(frame);

    EXPECT_EQ(verdict.kind, "nan");
    EXPECT_EQ(verdict.reason, "field 'pixels' element [2, 1] is NaN");
}

TEST_F(SchemaValidator_test, ChecksBothPartsOfComplexNumbers) {
    auto sut = guarding(IQ_SCHEMA);
    Frame frame;
    frame.bytes.resize(32);
    put(frame, 24, -INF);  // iq[1].imag

    const auto verdict = sut->validate(frame);

    EXPECT_EQ(verdict.kind, "inf");
    EXPECT_EQ(verdict.reason, "field 'iq' element 1 (imaginary part) is -inf");
}

TEST_F(SchemaValidator_test, ChecksOnlyTheLengthOfOpaqueBytes) {
    auto sut = guarding(BLOB_SCHEMA);
    Frame frame;
    frame.bytes.resize(16);
    put(frame, 0, NaN);
    put(frame, 8, INF);
    Frame short_frame = frame;
    short_frame.bytes.resize(15);

    EXPECT_TRUE(sut->validate(frame).valid);
    const auto verdict = sut->validate(short_frame);
    EXPECT_EQ(verdict.kind, "length");
    EXPECT_EQ(verdict.reason, "slot of 15 bytes, but lab.blob@1 is 16 bytes");
}

TEST_F(SchemaValidator_test, RefusesAChannelWithoutATypedSchema) {
    auto sut = on_channel("dhub.waveform.f64@1", "");

    EXPECT_EQ(sut->create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sut->has_log(DHUB_LOG_ERROR,
                             "the channel has no typed schema (its schema is 'dhub.waveform.f64@1'), so there is "
                             "nothing to check its slots against; declare one"))
        << sut->log_text();
    EXPECT_TRUE(sut->has_log(DHUB_LOG_ERROR, "docs/schemas.md")) << sut->log_text();
}

TEST_F(SchemaValidator_test, RefusesASchemaDocumentItCannotRead) {
    auto not_json = on_channel("lab.x@1", "{not json");
    auto bad_dtype =
        on_channel("lab.x@1", R"({"encoding":"struct","fields":[{"dtype":"<f3","name":"x","offset":0,"shape":[]}],
"name":"lab.x","size":8,"version":1})");

    EXPECT_EQ(not_json->create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(not_json->has_log(DHUB_LOG_ERROR,
                                  "cannot read the channel's typed schema: the schema document is not valid JSON"))
        << not_json->log_text();
    EXPECT_EQ(bad_dtype->create(), DHUB_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(
        bad_dtype->has_log(DHUB_LOG_ERROR, "schema lab.x@1 field 0 ('x') dtype \"<f3\": floats have 2, 4 or 8 bytes"))
        << bad_dtype->log_text();
}

TEST_F(SchemaValidator_test, RefusesParamsOutsideTheirEnums) {
    EXPECT_THROW(Harness(component(), {{"length", "sometimes"}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"nan", "ignore"}}), HarnessError);
    EXPECT_THROW(Harness(component(), {{"inf", true}}), HarnessError);
}

}  // namespace
