// SPDX-License-Identifier: Apache-2.0
// What librdkafka reports of a client — its log lines, its errors (a broker down, a fatal producer state) and
// a producer's delivery reports — delivered in the node's own thread, when it polls, into the node's log.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <librdkafka/rdkafka.h>

#include "dhub/sdk/node_context.hpp"

namespace dhub::kafka_transport {

class ClientEvents {
public:
    explicit ClientEvents(sdk::NodeContext& context) : context_(&context) {}
    ClientEvents(const ClientEvents&) = delete;
    ClientEvents& operator=(const ClientEvents&) = delete;

    /// Routes conf's events here (this object must outlive the client made from conf). Log lines are queued
    /// rather than written from librdkafka's threads: call after_create() once the client exists.
    void attach(rd_kafka_conf_t* conf);
    /// The same for a consumer, whose partition assignments are also logged (and taken).
    void attach_consumer(rd_kafka_conf_t* conf);
    void after_create(rd_kafka_t* client);

    /// A producer's delivery reports, when set before attach().
    std::function<void(const rd_kafka_message_t&)> on_delivery;
    /// librdkafka's word that the client cannot go on (e.g. the idempotent producer lost its state).
    const std::optional<std::string>& fatal() const noexcept { return fatal_; }

private:
    static void log_line(const rd_kafka_t* client, int level, const char* facility, const char* text);
    static void error(rd_kafka_t* client, int code, const char* reason, void* opaque);
    static void rebalanced(rd_kafka_t* client,
                           rd_kafka_resp_err_t event,
                           rd_kafka_topic_partition_list_t* partitions,
                           void* opaque);
    static void delivered(rd_kafka_t* client, const rd_kafka_message_t* message, void* opaque);

    sdk::NodeContext* context_;
    std::optional<std::string> fatal_;
    int last_error_ = 0;
    std::uint64_t error_logged_ns_ = 0;
};

}  // namespace dhub::kafka_transport
