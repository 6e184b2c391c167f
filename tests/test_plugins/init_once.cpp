// SPDX-License-Identifier: Apache-2.0
// Plugin-wide init/shutdown (SDK 1.2), observable from a test: each call appends a line to the file named by
// DHUB_TEST_INIT_LOG; with DHUB_TEST_INIT_FAIL set, init fails with that text as its message.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "dhub/sdk/plugin.hpp"

namespace {

void note(const char* line) {
    if (const char* path = std::getenv("DHUB_TEST_INIT_LOG"); path != nullptr)
        std::ofstream(path, std::ios::app) << line << "\n";
}

dhub_status init(char* message, std::uint64_t capacity) {
    note("init");
    if (const char* failure = std::getenv("DHUB_TEST_INIT_FAIL"); failure != nullptr) {
        std::snprintf(message, capacity, "%s", failure);
        return DHUB_ERR_UNAVAILABLE;
    }
    return DHUB_OK;
}

void shutdown() {
    note("shutdown");
}

struct Tick {
    std::uint64_t value;
};

class Once : public dhub::sdk::Source<Tick> {
public:
    static constexpr const char* id = "test.source.init_once";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "writes 0..9; its plugin logs init and shutdown";

    dhub_status produce(dhub::sdk::NodeContext&, dhub::sdk::OutputSlot<Tick>& out) {
        if (next_ == 10) return DHUB_END_OF_STREAM;
        out.value().value = next_++;
        return DHUB_OK;
    }

private:
    std::uint64_t next_ = 0;
};

}  // namespace

DHUB_PLUGIN_WITH_INIT(
    "test_init_once", "1.0.0", "Apache-2.0", "init/shutdown once per run", init, shutdown, dhub::sdk::component<Once>())
