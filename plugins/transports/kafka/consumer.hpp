// SPDX-License-Identifier: Apache-2.0
// dhub.transport.kafka_consume: consumes the records a kafka_publish node wrote to a topic and writes them into
// the local channel on its output, with the far producer's timestamps. Each record's headers are checked against
// the local channel (name, slot size, schema hash) before a byte is written; a record's offset is stored for
// commit only once its slot is committed locally, so a consumer that dies re-reads what it had not written
// (at least once), and the duplicates a re-read or a producer's retry brings are dropped by sequence number.
// Gaps in the far sequence numbers are counted (upstream_lost); the far channel's end record closes the local
// one (docs/transports.md).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "client.hpp"
#include "client_events.hpp"
#include "dhub/sdk/plugin.hpp"
#include "message_format.hpp"

namespace dhub::kafka_transport {

class KafkaConsumer : public sdk::TransportReceiver {
public:
    static constexpr const char* id = "dhub.transport.kafka_consume";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Consumes the records kafka_publish wrote to a Kafka topic into the local channel, checked and in order";
    static constexpr const char* params_schema = R"json([
{"name":"brokers","type":"string","doc":"the cluster's bootstrap servers, host:port[,host:port...]"},
{"name":"topic","type":"string","default":"","doc":"the topic; empty: the local channel's name"},
{"name":"channel","type":"string","default":"","doc":"the far channel's name, as its records' dhub.channel header says (records of other channels on the topic are passed over, counted); empty: the local channel's name"},
{"name":"group","type":"string","default":"","doc":"the consumer group whose committed offsets say where to go on (consumers of one group share the records: give each kernel that wants them all its own); empty: dhub.<channel>"},
{"name":"start","type":"string","default":"earliest","enum":["earliest","latest"],"doc":"where a group with no committed offset starts"},
{"name":"properties","type":"string","default":"","doc":"a Kafka client properties file (name=value lines: security.protocol, sasl.*, ssl.*, ...)"},
{"name":"on_mismatch","type":"string","default":"stop","enum":["stop","skip"],"doc":"a record of another slot size or schema: stop the node (naming both), or pass it over and count it"}
])json";

    explicit KafkaConsumer(sdk::NodeContext& context);
    dhub_status run(sdk::NodeContext& context);

private:
    enum class Outcome { Continue, Stop, Fail, End };
    /// The account of one publisher session.
    struct Account {
        std::uint64_t session = 0;
        sdk::SequenceLedger ledger;
        bool ended = false;  ///< its end record was read: a later session does not go on from it
    };

    Outcome handle(sdk::NodeContext& context, const rd_kafka_message_t& record);
    /// The account of the record's publisher session, made when it is new (see consumer.cpp); the last of
    /// accounts_ from then on.
    Account& account_of(sdk::NodeContext& context, const RecordHeaders& headers);
    /// An end record: the far channel closed, once nothing of it follows in the partition (see PendingEnd).
    void on_end(sdk::NodeContext& context, const rd_kafka_message_t& record, const RecordHeaders& headers);
    /// Counts what the ledger's last verdict added to lost (upstream_lost).
    void count_lost(sdk::NodeContext& context, const sdk::SequenceLedger& ledger, std::uint64_t lost_before);
    /// Writes the record's value into a local slot (waiting for one) and commits it with the far timestamp.
    Outcome write(sdk::NodeContext& context, const rd_kafka_message_t& record, const RecordHeaders& headers);
    /// A record that is not taken: said (rate-limited), counted, and its offset stored so it is not read again.
    void pass_over(sdk::NodeContext& context, const rd_kafka_message_t& record, const std::string& why);
    void store_offset(const rd_kafka_message_t& record);

    std::string brokers_;
    std::string topic_;
    std::string far_channel_;
    std::string group_;
    std::string start_;
    std::string properties_;
    bool stop_on_mismatch_;

    sdk::ChannelInfo local_;  ///< the local channel, under the far channel's name
    ClientEvents events_;
    Handle consumer_;
    /// One account per publisher session used lately, so a re-read of an earlier session's records (a rewind
    /// after a failed commit, a rebalance) is still known for what it is; least recently used first.
    std::vector<Account> accounts_;
    /// An end record read, which closes the local channel once its partition is read to the end with no later
    /// record of this channel (one that comes makes it an earlier run's end). Records of other channels on a
    /// shared topic do not count.
    struct PendingEnd {
        std::int32_t partition = 0;
        std::int64_t offset = 0;
        std::uint64_t sequence = 0;
    };
    std::optional<PendingEnd> pending_end_;
    std::optional<std::uint64_t> current_session_;
    std::set<std::string> other_channels_;  ///< channels of the topic said to be passed over
    std::uint64_t lost_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t other_records_ = 0;
    std::uint64_t last_sequence_ = 0;
    std::uint64_t committed_ = 0;
    std::uint64_t passed_over_ = 0;
    std::uint64_t complained_ns_ = 0;
    std::uint64_t passed_over_ns_ = 0;
    std::string passed_over_why_;
    dhub_status failure_ = DHUB_ERR_INTERNAL;
    std::optional<sdk::Logger> log_;  ///< the node's log, for store_offset()
    int store_trouble_logged_ = 0;
};

}  // namespace dhub::kafka_transport
