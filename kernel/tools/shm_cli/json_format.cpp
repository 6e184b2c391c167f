// SPDX-License-Identifier: Apache-2.0
#include "json_format.hpp"

#include "channel_facts.hpp"
#include "stored_schema.hpp"

namespace dhub::tools {
namespace {

// ordered: fields come out in the order a reader expects (identity, header, producer, ...), not sorted.
using json = nlohmann::ordered_json;

json header_json(const shm::ChannelInfo& info) {
    return {
        {"segment_bytes", info.segment_bytes},
        {"layout_version", info.layout_version},
        {"ring_policy", shm::to_string(info.ring)},
        {"sync_policy", shm::to_string(info.sync)},
        {"checksum_policy", shm::to_string(info.checksum)},
        {"slot_count", info.slot_count},
        {"slot_payload_bytes", info.slot_payload_bytes},
        {"slot_stride_bytes", info.slot_stride_bytes},
        {"flex_zone_bytes", info.flex_zone_bytes},
        {"consumer_capacity", info.consumer_capacity},
        {"schema_hash", info.schema_hash_hex},
        {"mode", octal_mode(info.mode)},
        {"owner_uid", info.owner_uid},
        {"creation_time", iso8601_utc(info.creation_realtime_ns)},
        {"creation_realtime_ns", info.creation_realtime_ns},
    };
}

/// null for a channel without a stored descriptor; else its id, fingerprint and document, or the error.
json schema_json(const shm::ChannelInfo& info) {
    const auto stored = read_stored_schema(info.schema_descriptor);
    if (!stored) return nullptr;
    if (!stored->schema) return {{"error", stored->error}};
    return {{"id", stored->schema->id()},
            {"fingerprint", schema::fingerprint_string(*stored->schema)},
            {"descriptor", json(schema::to_json(*stored->schema))}};
}

json producer_json(const shm::ChannelInfo& info) {
    return {
        // null rather than 0 when nobody holds the lease: 0 is not a pid.
        {"pid", info.producer_pid == 0 ? json(nullptr) : json(info.producer_pid)},
        {"start_ticks", info.producer_start_ticks},
        {"epoch", info.producer_epoch},
        {"alive", info.producer_alive},
        {"heartbeat_age_ns", info.producer_heartbeat_age_ns},
        {"closed", info.closed},
    };
}

json slot_json(const shm::SlotInfo& slot) {
    return {
        {"index", slot.index},
        // An empty slot holds no sequence (its raw value is a marker, not a number anyone wrote).
        {"seq", slot.empty ? json(nullptr) : json(slot.seq)},
        {"state", slot_state(slot)},
        {"payload_bytes", slot.payload_bytes},
        {"timestamp_ns", slot.timestamp_ns},
    };
}

json consumer_json(const shm::ChannelInfo& info, const shm::ConsumerInfo& consumer) {
    const auto lag = consumer_lag(info, consumer);
    return {
        {"seat", consumer.seat},
        {"pid", consumer.pid},
        {"name", consumer.name},
        {"state", consumer.state},
        {"alive", consumer.alive},
        {"cursor", consumer.cursor},
        {"lag", lag ? json(*lag) : json(nullptr)},
        {"heartbeat_age_ns", consumer.heartbeat_age_ns},
        {"reads", consumer.reads},
        {"checksum_failures", consumer.checksum_failures},
        {"overwritten_retries", consumer.overwritten_retries},
        {"overwritten_releases", consumer.overwritten_releases},
        {"held", consumer.held_sequence == 0 ? json(nullptr) : json(consumer.held_sequence - 1)},
        {"read_timeouts", consumer.read_timeouts},
        {"delivery", consumer.latest ? "latest" : "lossless"},
        {"skipped", consumer.skipped},
    };
}

}  // namespace

json to_json(const shm::ChannelInfo& info) {
    json slots = json::array();
    for (const auto& slot : info.slots)
        slots.push_back(slot_json(slot));
    json consumers = json::array();
    for (const auto& consumer : info.consumers)
        consumers.push_back(consumer_json(info, consumer));
    json validators = json::array();
    for (const auto& gate : info.gates) {
        validators.push_back({{"validator", gate.validator},
                              {"reason", gate.reason},
                              {"on_reject", gate.on_reject},
                              {"rejected", gate.rejected}});
    }
    return {
        {"channel", info.channel},
        {"header", header_json(info)},
        {"schema", schema_json(info)},
        {"producer", producer_json(info)},
        {"write_seq", info.write_seq},
        {"flex_zone", {{"bytes", info.flex_zone_bytes}, {"version", info.flex_version}, {"locked", info.flex_locked}}},
        {"counters", info.counters},
        {"slots", std::move(slots)},
        {"consumers", std::move(consumers)},
        {"validators", std::move(validators)},
    };
}

}  // namespace dhub::tools
