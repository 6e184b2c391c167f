// SPDX-License-Identifier: Apache-2.0
// Its descriptor says "someone_else" but the file is dhub-test_wrong_name.so: refused, not silently skipped.
#include <cstdint>

#include "dhub/sdk/plugin.hpp"

namespace {
struct Nothing : dhub::sdk::Sink<dhub::sdk::Bytes> {
    static constexpr const char* id = "test.sink.wrong_name";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "never loaded";
    dhub_status consume(dhub::sdk::NodeContext&, const dhub::sdk::InputSlot<dhub::sdk::Bytes>&) { return DHUB_OK; }
};
}  // namespace

DHUB_PLUGIN("someone_else", "1.0.0", "Apache-2.0", "name does not match its file", dhub::sdk::component<Nothing>());
