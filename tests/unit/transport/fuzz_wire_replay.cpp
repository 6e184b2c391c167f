// SPDX-License-Identifier: Apache-2.0
// Without libFuzzer (GCC builds): fuzz_wire.cpp's target driven from every message type's frames and mutations of
// them, reproducibly (support/fuzz_replay.hpp; pass a seed and a count to explore).
#include <cstdint>
#include <string>
#include <vector>

#include "support/fuzz_replay.hpp"
#include "wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using namespace dhub::zmq_transport;

std::string text_of(const std::vector<std::byte>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::vector<std::string> seeds() {
    ChannelDescription channel{"cam0", 4096, 64, {}};
    channel.schema_hash.fill(7);
    return {
        dhub::testing::pack_frames({text_of(encode(Hello{channel, 3, RESUME_NONE, 64, "kernel-b/rx"}))}),
        dhub::testing::pack_frames({text_of(encode(Welcome{channel, 3, 10, 1 << 20, Delivery::Latest}))}),
        dhub::testing::pack_frames({text_of(encode(Refuse{RefuseCode::Mismatch, "slot size differs"}))}),
        dhub::testing::pack_frames({text_of(encode(Credit{3, 11, 64, CREDIT_REWIND}))}),
        dhub::testing::pack_frames({text_of(encode(Data{3, 11, 99, 8, 4, 10, DATA_LAST_CHUNK})), "5678"}),
        dhub::testing::pack_frames({text_of(encode(Heartbeat{3, 12}))}),
        dhub::testing::pack_frames({text_of(encode(Bye{}))}),
        dhub::testing::pack_frames({text_of(encode(End{3, 12}))}),
        dhub::testing::pack_frames({text_of(encode(Batch{3, {{11, 99, 3, 10}, {12, 100, 5, 11}}, {}})), "abcdefgh"}),
    };
}

}  // namespace

int main(int argc, char** argv) {
    return dhub::testing::replay_fuzz("fuzz_wire_replay", argc, argv, seeds(), std::string_view("\x00\x01\x02\xff", 4),
                                      &LLVMFuzzerTestOneInput);
}
