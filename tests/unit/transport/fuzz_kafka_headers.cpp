// SPDX-License-Identifier: Apache-2.0
// Fuzz entry point for the kafka transport's record-header decoder (plugins/transports/kafka/message_format.hpp):
// what any producer on a shared topic may put in a record's headers. The input is cut into frames as
// support/fuzz_replay.hpp packs them, taken in pairs as (name, value). decode() must return, never crash, throw or
// read out of bounds; headers it reads must encode to headers that decode to the same record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "message_format.hpp"
#include "support/fuzz_replay.hpp"

using namespace dhub::kafka_transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::string_view> frames = dhub::testing::unpack_frames(data, size, 24);
    std::vector<std::pair<std::string_view, std::string_view>> raw;
    for (std::size_t i = 0; i + 1 < frames.size(); i += 2)
        raw.emplace_back(frames[i], frames[i + 1]);
    const auto decoded = decode(raw);
    const auto* record = std::get_if<RecordHeaders>(&decoded);
    if (record == nullptr) return 0;
    const std::vector<Header> again = encode(*record);
    std::vector<std::pair<std::string_view, std::string_view>> again_raw;
    for (const auto& [name, value] : again)
        again_raw.emplace_back(name, value);
    const auto redecoded = decode(again_raw);
    const auto* same = std::get_if<RecordHeaders>(&redecoded);
    if (same == nullptr || same->channel != record->channel || same->slot_bytes != record->slot_bytes ||
        same->slot_count != record->slot_count || same->schema_hash != record->schema_hash ||
        same->schema_id != record->schema_id || same->session != record->session ||
        same->sequence != record->sequence || same->timestamp_ns != record->timestamp_ns || same->end != record->end) {
        std::abort();
    }
    return 0;
}
