// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/channel_config.hpp"

#include <gtest/gtest.h>

namespace dhub::shm {
namespace {

ChannelConfig valid_config() {
    ChannelConfig config;
    config.name = "sensor.raw-0";
    return config;
}

TEST(ChannelConfig_test, DefaultsWithANameAreValid) {
    EXPECT_TRUE(validate(valid_config()).ok());
}

struct InvalidCase {
    const char* label;
    void (*break_it)(ChannelConfig&);
    const char* field_in_message;
};

class ChannelConfigInvalid_test : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ChannelConfigInvalid_test, IsRefusedWithTheFieldNamed) {
    ChannelConfig config = valid_config();
    GetParam().break_it(config);
    const auto result = validate(config);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(result.error().message.find(GetParam().field_in_message), std::string::npos) << result.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Fields,
    ChannelConfigInvalid_test,
    ::testing::Values(
        InvalidCase{"EmptyName", [](ChannelConfig& c) { c.name.clear(); }, "channel name"},
        InvalidCase{"SlashInName", [](ChannelConfig& c) { c.name = "a/b"; }, "may only contain"},
        InvalidCase{"LongName", [](ChannelConfig& c) { c.name = std::string(MAX_CHANNEL_NAME + 1, 'x'); }, "1 to"},
        InvalidCase{"ZeroSlotBytes", [](ChannelConfig& c) { c.slot_bytes = 0; }, "slot_bytes"},
        InvalidCase{"RingOfOne", [](ChannelConfig& c) { c.slot_count = 1; }, "slot_count"},
        InvalidCase{"UnknownRing", [](ChannelConfig& c) { c.ring = static_cast<RingPolicy>(0); }, "ring"},
        InvalidCase{"UnknownSync", [](ChannelConfig& c) { c.sync = static_cast<SyncPolicy>(9); }, "sync"},
        InvalidCase{"UnknownChecksum", [](ChannelConfig& c) { c.checksum = static_cast<ChecksumPolicy>(0); },
                    "checksum"},
        InvalidCase{"NoConsumers", [](ChannelConfig& c) { c.max_consumers = 0; }, "max_consumers"},
        InvalidCase{"TooManyConsumers", [](ChannelConfig& c) { c.max_consumers = MAX_CONSUMERS + 1; }, "max_consumers"},
        InvalidCase{"OwnerCannotWrite", [](ChannelConfig& c) { c.mode = 0400; }, "mode"}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(ChannelConfig_test, RingPolicyImpliesTheSlotCount) {
    ChannelConfig config = valid_config();
    config.slot_count = 5;
    config.ring = RingPolicy::Single;
    EXPECT_EQ(config.effective_slot_count(), 1u);
    config.ring = RingPolicy::Double;
    EXPECT_EQ(config.effective_slot_count(), 2u);
    config.ring = RingPolicy::Ring;
    EXPECT_EQ(config.effective_slot_count(), 5u);
}

}  // namespace
}  // namespace dhub::shm
