// SPDX-License-Identifier: Apache-2.0
// Fuzz entry point for the zmq transport's frame decoder (plugins/transports/zmq/wire.hpp). The input is cut into
// frames as support/fuzz_replay.hpp packs them (at most 4: a sender keeps no more of one message). decode() must
// return, never crash, throw or read out of bounds; a message it reads must encode to frames that decode to the
// same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "support/fuzz_replay.hpp"
#include "wire.hpp"

namespace {

using namespace dhub::zmq_transport;

std::span<const std::byte> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

/// DATA's and BATCH's payload is the caller's second frame: the header and that frame go back together.
std::vector<std::byte> header_of(const Message& message) {
    return std::visit([](const auto& body) { return encode(body); }, message);
}

bool same(const Message& a, const Message& b) {
    if (a.index() != b.index()) return false;
    if (const auto* data = std::get_if<Data>(&a)) {
        const Data& other = std::get<Data>(b);
        return data->session == other.session && data->sequence == other.sequence &&
               data->timestamp_ns == other.timestamp_ns && data->slot_bytes == other.slot_bytes &&
               data->offset == other.offset && data->flags == other.flags &&
               data->payload.size() == other.payload.size();
    }
    return std::visit(
        [&](const auto& body) {
            using Body = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<Body, Data>) {
                return false;
            } else if constexpr (std::is_same_v<Body, Batch>) {
                const Batch& other = std::get<Batch>(b);
                return body.session == other.session && body.slots == other.slots &&
                       body.payload.size() == other.payload.size();
            } else {
                return body == std::get<Body>(b);
            }
        },
        a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::string_view> frames = dhub::testing::unpack_frames(data, size, 4);
    std::vector<std::span<const std::byte>> spans;
    for (const auto frame : frames)
        spans.push_back(bytes_of(frame));
    const auto decoded = decode(spans);
    if (const auto* message = std::get_if<Message>(&decoded)) {
        const std::vector<std::byte> header = header_of(*message);
        std::vector<std::span<const std::byte>> again{std::span<const std::byte>(header)};
        if (std::holds_alternative<Data>(*message) || std::holds_alternative<Batch>(*message)) {
            again.push_back(spans[1]);  // the payload frame goes back as it came
        }
        const auto round_trip = decode(again);
        if (!std::holds_alternative<Message>(round_trip) || !same(*message, std::get<Message>(round_trip))) {
            std::abort();  // what a peer can send, this end can say back unchanged
        }
    }
    return 0;
}
