// SPDX-License-Identifier: Apache-2.0
// Without libFuzzer (GCC builds): fuzz_kafka_headers.cpp's target driven from a publisher's headers, an end
// record's, and mutations of them, reproducibly (support/fuzz_replay.hpp; pass a seed and a count to explore).
#include <cstdint>
#include <string>
#include <vector>

#include "message_format.hpp"
#include "support/fuzz_replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using namespace dhub::kafka_transport;

std::string packed(const RecordHeaders& headers) {
    std::vector<std::string> frames;
    for (const auto& [name, value] : encode(headers)) {
        frames.push_back(name);
        frames.push_back(value);
    }
    return dhub::testing::pack_frames(frames);
}

std::vector<std::string> seeds() {
    RecordHeaders slot;
    slot.channel = "cam0";
    slot.slot_bytes = 4096;
    slot.slot_count = 64;
    slot.schema_hash.fill(0x5a);
    slot.session = 77;
    slot.sequence = 12;
    slot.timestamp_ns = 1'790'000'000'000'000'000;
    RecordHeaders end = slot;
    end.end = true;
    return {packed(slot), packed(end), dhub::testing::pack_frames({"traceparent", "00-ab", "dhub.seq", "1"})};
}

}  // namespace

int main(int argc, char** argv) {
    return dhub::testing::replay_fuzz("fuzz_kafka_headers_replay", argc, argv, seeds(),
                                      std::string_view("0123456789abcdef.", 17), &LLVMFuzzerTestOneInput);
}
