// SPDX-License-Identifier: Apache-2.0
// Without libFuzzer (GCC builds): drives LLVMFuzzerTestOneInput with random inputs and with mutations of
// valid messages, for a fixed number of iterations from a fixed seed (reproducible; pass another seed and
// count as arguments to explore). Exits non-zero only by crashing, which is what ctest detects.
#include <cstdint>
#include <string>
#include <vector>

#include "support/broker_test_support.hpp"
#include "support/fuzz_replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using namespace dhub::broker;
using namespace dhub::broker::testing;

std::vector<std::string> seeds() {
    std::vector<std::string> inputs;
    const std::vector<Message> messages = {
        {MessageType::Hello, 1, hello_body()},
        {MessageType::RegisterChannel, 2, register_channel_body("cam0")},
        {MessageType::Discover, 3, nlohmann::json{{"name", "cam0"}, {"wait_ms", 10}}},
        {MessageType::RegisterConsumer, 4,
         nlohmann::json{{"channel", "cam0"}, {"consumer", identity(3)}, {"expected_schema_hash", SCHEMA_A}}},
        {MessageType::List, 5, nlohmann::json::object()},
    };
    for (const auto& message : messages)
        inputs.push_back(dhub::testing::pack_frames(frames_of(message)));
    return inputs;
}

}  // namespace

int main(int argc, char** argv) {
    return dhub::testing::replay_fuzz("fuzz_decode_replay", argc, argv, seeds(), "{}[]\",:0\\",
                                      &LLVMFuzzerTestOneInput);
}
