// SPDX-License-Identifier: Apache-2.0
// A validator built against the SDK 1.1 headers (no verdict kind, no validate_burst): it rejects every third
// slot it is asked about. On a channel's "validators" today's kernel calls it once per slot, in order, and
// counts its rejections as "rejected" (tests/system/kernel/sdk11_plugins_test.cpp).
#include <cstdint>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace {

class EveryThird : public dhub::sdk::Validator<dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "test.validator.every_third";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "rejects the 3rd, 6th, 9th ... slot it judges (SDK 1.1)";
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([])json";

    explicit EveryThird(dhub::sdk::NodeContext&) {}

    dhub::sdk::Verdict validate(dhub::sdk::NodeContext&, const dhub::sdk::InputSlot<dhub::sdk::Bytes>&) {
        if (++judged_ % 3 != 0) return dhub::sdk::Verdict::accept();
        return dhub::sdk::Verdict::reject("slot " + std::to_string(judged_) + " is a third one");
    }

private:
    std::uint64_t judged_ = 0;
};

}  // namespace

DHUB_PLUGIN("test_sdk11_validator", "1.1.0", "Apache-2.0", "an SDK 1.1 validator", dhub::sdk::component<EveryThird>());
