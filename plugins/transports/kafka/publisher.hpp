// SPDX-License-Identifier: Apache-2.0
// dhub.transport.kafka_publish: reads the local channel on its input and publishes each slot as one record of a
// Kafka topic (message_format.hpp: key = channel, headers = schema, sequence, timestamp), with librdkafka's
// idempotent producer. At least once: a record the cluster has not confirmed is retried until it is, or the
// node fails naming it; while the cluster is away, records queue up to a bound and then the node stops reading,
// so a lossless local channel holds its producer back. When the input closes, an end record follows the last
// slot and the node waits for the cluster to confirm them all (docs/transports.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client.hpp"
#include "client_events.hpp"
#include "dhub/sdk/plugin.hpp"
#include "message_format.hpp"

namespace dhub::kafka_transport {

class KafkaPublisher : public sdk::TransportSender {
public:
    static constexpr const char* id = "dhub.transport.kafka_publish";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Publishes each slot of a channel as a record of a Kafka topic (idempotent producer, at least once)";
    static constexpr const char* params_schema = R"json([
{"name":"brokers","type":"string","doc":"the cluster's bootstrap servers, host:port[,host:port...]"},
{"name":"topic","type":"string","default":"","doc":"the topic; empty: the channel's name"},
{"name":"key","type":"string","default":"","doc":"every record's key (the partitioner keeps one key in one partition, in order); empty: the channel's name"},
{"name":"properties","type":"string","default":"","doc":"a Kafka client properties file (name=value lines: security.protocol, sasl.*, ssl.*, linger.ms, ...)"},
{"name":"max_message_bytes","type":"integer","default":1000000,"min":1000,"max":1000000000,"doc":"the largest record the topic takes (its max.message.bytes); a slot with more bytes stops the node with both sizes named"},
{"name":"delivery_timeout_ms","type":"integer","default":0,"min":0,"doc":"how long a record may wait for the cluster before the node fails; 0: for ever (the cluster's outage holds the producer back)"},
{"name":"flush_timeout_ms","type":"integer","default":10000,"min":0,"doc":"at stop, how long unconfirmed records may still take; those left are named in an error"}
])json";

    explicit KafkaPublisher(sdk::NodeContext& context);
    dhub_status run(sdk::NodeContext& context);

private:
    /// Hands one record to librdkafka, waiting while its queue is full. False: the node stops or failed.
    bool produce(sdk::NodeContext& context,
                 std::uint64_t sequence,
                 std::uint64_t timestamp_ns,
                 bool end,
                 const void* bytes,
                 std::size_t size);
    /// Waits for the cluster to confirm every record handed over, up to timeout_ns (< 0: while not stopped).
    /// False when some are still unconfirmed (logged, with their count).
    bool drain(sdk::NodeContext& context, std::int64_t timeout_ns);
    void on_delivery(const rd_kafka_message_t& message);
    /// The refusal of a slot too large for the topic's records, naming both sizes.
    std::string too_large(std::uint64_t sequence, std::size_t bytes) const;

    std::string brokers_;
    std::string topic_;
    std::string key_;
    std::string properties_;
    std::uint64_t max_message_bytes_;
    std::int64_t delivery_timeout_ms_;
    std::int64_t flush_timeout_ms_;

    RecordHeaders stamp_;                  ///< the channel's part of every record's headers
    std::optional<HeaderWriter> headers_;  ///< ... formatted once
    ClientEvents events_;
    Handle producer_;
    std::uint64_t handed_ = 0;     ///< records given to librdkafka
    std::uint64_t confirmed_ = 0;  ///< ... that the cluster confirmed
    std::uint64_t failed_ = 0;     ///< ... that it refused for good
    std::size_t overhead_ = 0;     ///< what a record adds to its slot's bytes at most
    std::uint64_t input_trouble_ns_ = 0;
    bool queue_full_ = false;  ///< said so, and not yet that it has room again
    std::uint64_t bytes_ = 0;
    std::uint64_t next_sequence_ = 0;     ///< after the last slot handed over: what the end record says
    std::optional<std::string> failure_;  ///< the first record the cluster would not take, and why
};

}  // namespace dhub::kafka_transport
