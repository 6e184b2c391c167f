// SPDX-License-Identifier: Apache-2.0
#include "support/fuzz_replay.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace dhub::testing {

int replay_fuzz(const char* name,
                int argc,
                char** argv,
                const std::vector<std::string>& corpus,
                std::string_view punctuation,
                FuzzTarget target) {
    const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20261126;
    const long iterations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 200000;
    std::mt19937_64 random(seed);
    for (const auto& input : corpus)
        target(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    for (long i = 0; i < iterations; ++i) {
        std::string input;
        if (i % 4 == 0 || corpus.empty()) {
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
                        input[at] = static_cast<char>(random());  // flip a byte
                        break;
                    case 1:
                        input.erase(at, 1 + random() % 8);  // drop bytes
                        break;
                    case 2:
                        input.insert(at, 1, static_cast<char>(random()));  // insert a byte
                        break;
                    default:
                        if (!punctuation.empty()) input[at] = punctuation[random() % punctuation.size()];
                        break;
                }
            }
        }
        target(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    }
    std::printf("%s: %ld inputs from seed %llu decoded without a crash\n", name,
                iterations + static_cast<long>(corpus.size()), static_cast<unsigned long long>(seed));
    return 0;
}

std::string pack_frames(const std::vector<std::string>& frames) {
    std::string input(1, static_cast<char>(frames.size()));
    for (const auto& frame : frames) {
        const std::size_t length = std::min<std::size_t>(frame.size(), 0xffff);
        input.push_back(static_cast<char>(length & 0xff));
        input.push_back(static_cast<char>(length >> 8));
        input.append(frame, 0, length);
    }
    return input;
}

std::vector<std::string_view> unpack_frames(const std::uint8_t* data, std::size_t size, std::size_t max_frames) {
    std::vector<std::string_view> frames;
    if (size == 0) return frames;
    const std::size_t frame_count = data[0] % (max_frames + 1);
    std::size_t offset = 1;
    for (std::size_t i = 0; i < frame_count; ++i) {
        std::size_t length = 0;
        if (offset + 2 <= size) {
            length = static_cast<std::size_t>(data[offset]) | (static_cast<std::size_t>(data[offset + 1]) << 8);
            offset += 2;
        } else {
            offset = size;
        }
        length = std::min(length, size - offset);
        frames.emplace_back(reinterpret_cast<const char*>(data + offset), length);
        offset += length;
    }
    return frames;
}

}  // namespace dhub::testing
