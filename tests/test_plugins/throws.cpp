// SPDX-License-Identifier: Apache-2.0
// A component whose constructor throws: the node cannot be created, the kernel must say so and not crash.
#include <cstdint>
#include <stdexcept>

#include "dhub/sdk/plugin.hpp"

namespace {
struct Thrower : dhub::sdk::Source<dhub::sdk::Bytes> {
    static constexpr const char* id = "test.source.throws";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "throws in its constructor";
    explicit Thrower(dhub::sdk::NodeContext&) { throw std::runtime_error("device /dev/imaginary0 not found"); }
    dhub_status produce(dhub::sdk::NodeContext&, dhub::sdk::OutputSlot<dhub::sdk::Bytes>&) { return DHUB_OK; }
};
}  // namespace

DHUB_PLUGIN("test_throws", "1.0.0", "Apache-2.0", "create fails", dhub::sdk::component<Thrower>());
