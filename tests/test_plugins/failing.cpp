// SPDX-License-Identifier: Apache-2.0
// A stage that fails every slot (returning an error, or throwing when "throw" is set): for error policies.
#include <cstdint>
#include <stdexcept>

#include "dhub/sdk/plugin.hpp"

namespace {
struct Failing : dhub::sdk::Stage<dhub::sdk::Bytes, dhub::sdk::Bytes> {
    static constexpr const char* id = "test.stage.failing";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "fails every slot";
    static constexpr const char* params_schema =
        R"([{"name":"throw","type":"boolean","default":false,"doc":"throw instead of returning an error"}])";

    explicit Failing(dhub::sdk::NodeContext& context) : throw_(context.params().boolean("throw")) {}
    dhub_status process(dhub::sdk::NodeContext&,
                        const dhub::sdk::InputSlot<dhub::sdk::Bytes>&,
                        dhub::sdk::OutputSlot<dhub::sdk::Bytes>&) {
        if (throw_) throw std::runtime_error("simulated handler fault");
        return DHUB_ERR_IO;
    }

private:
    bool throw_;
};
}  // namespace

DHUB_PLUGIN("test_failing", "1.0.0", "Apache-2.0", "always fails", dhub::sdk::component<Failing>());
