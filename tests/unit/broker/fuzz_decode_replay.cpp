// SPDX-License-Identifier: Apache-2.0
// Without libFuzzer (GCC builds): drives LLVMFuzzerTestOneInput with random inputs and with mutations of
// valid messages, for a fixed number of iterations from a fixed seed (reproducible; pass another seed and
// count as arguments to explore). Exits non-zero only by crashing, which is what ctest detects.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "support/broker_test_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using namespace dhub::broker;
using namespace dhub::broker::testing;

std::string pack(const std::vector<std::string>& frames) {
    std::string input(1, static_cast<char>(frames.size()));
    for (const auto& frame : frames) {
        const std::size_t length = std::min<std::size_t>(frame.size(), 0xffff);
        input.push_back(static_cast<char>(length & 0xff));
        input.push_back(static_cast<char>(length >> 8));
        input.append(frame, 0, length);
    }
    return input;
}

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
        inputs.push_back(pack(frames_of(message)));
    return inputs;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20261126;
    const long iterations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 200000;
    std::mt19937_64 random(seed);
    const auto corpus = seeds();
    for (const auto& input : corpus) {
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    }
    for (long i = 0; i < iterations; ++i) {
        std::string input;
        if (i % 4 == 0) {
            input.resize(random() % 256);
            for (char& c : input)
                c = static_cast<char>(random());
        } else {
            input = corpus[random() % corpus.size()];
            const int mutations = 1 + static_cast<int>(random() % 4);
            for (int m = 0; m < mutations && !input.empty(); ++m) {
                const std::size_t at = random() % input.size();
                switch (random() % 4) {
                    case 0:
                        input[at] = static_cast<char>(random());
                        break;  // flip a byte
                    case 1:
                        input.erase(at, 1 + random() % 8);
                        break;  // drop bytes
                    case 2:
                        input.insert(at, 1, static_cast<char>(random()));
                        break;  // insert a byte
                    default:
                        input[at] = "{}[]\",:0\\"[random() % 9];
                        break;  // JSON punctuation
                }
            }
        }
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    }
    std::printf("fuzz_decode_replay: %ld inputs from seed %llu decoded without a crash\n",
                iterations + static_cast<long>(corpus.size()), static_cast<unsigned long long>(seed));
    return 0;
}
