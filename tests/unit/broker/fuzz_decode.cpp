// SPDX-License-Identifier: Apache-2.0
// Fuzz entry point for the control-plane decoder. The input bytes are cut into frames: byte 0 gives the
// frame count (0..7), then each frame is a 2-byte little-endian length and that many bytes (clamped to what
// is left). decode() must return, never crash, throw or read out of bounds; a decoded message must survive
// an encode/decode round trip (same type and request id).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "dhub/broker/codec.hpp"
#include "support/fuzz_replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dhub::broker;
    const std::vector<std::string_view> frames = dhub::testing::unpack_frames(data, size, 7);
    const Decoded decoded = decode(frames);
    if (decoded.ok()) {
        const Frames again = encode(decoded.message());
        const std::vector<std::string_view> views(again.begin(), again.end());
        const Decoded round_trip = decode(views);
        // Bodies are not compared: JSON numbers like 1e999 do not survive a dump/parse, and need not.
        if (!round_trip.ok() || round_trip.message().type != decoded.message().type ||
            round_trip.message().request_id != decoded.message().request_id) {
            std::abort();  // what we decode we must be able to send back unchanged
        }
    }
    return 0;
}
