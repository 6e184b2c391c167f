// SPDX-License-Identifier: Apache-2.0
#include "client_events.hpp"

#include <string_view>

namespace dhub::kafka_transport {
namespace {

/// The same error (e.g. "all brokers are down") is written at most this often while it lasts.
constexpr std::uint64_t ERROR_LOG_EVERY_NS = 2'000'000'000;

void destroy(rd_kafka_error_t* error) {
    if (error != nullptr) rd_kafka_error_destroy(error);
}

}  // namespace

void ClientEvents::attach(rd_kafka_conf_t* conf) {
    char reason[256];
    (void)rd_kafka_conf_set(conf, "log.queue", "true", reason, sizeof reason);
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_log_cb(conf, &ClientEvents::log_line);
    rd_kafka_conf_set_error_cb(conf, &ClientEvents::error);
    if (on_delivery) rd_kafka_conf_set_dr_msg_cb(conf, &ClientEvents::delivered);
}

void ClientEvents::attach_consumer(rd_kafka_conf_t* conf) {
    attach(conf);
    rd_kafka_conf_set_rebalance_cb(conf, &ClientEvents::rebalanced);
}

void ClientEvents::after_create(rd_kafka_t* client) {
    (void)rd_kafka_set_log_queue(client, nullptr);  // to the main queue, which the node polls
}

void ClientEvents::log_line(const rd_kafka_t* client, int level, const char* facility, const char* text) {
    auto* self = static_cast<ClientEvents*>(rd_kafka_opaque(client));
    const std::string line = std::string("librdkafka ") + facility + ": " + text;
    // syslog levels: 0-3 errors, 4 warnings, 5-6 notices and information, 7 debugging.
    if (level <= 3)
        self->context_->log().error(line);
    else if (level == 4)
        self->context_->log().warn(line);
    else if (level <= 6)
        self->context_->log().info(line);
    else
        self->context_->log().debug(line);
}

void ClientEvents::error(rd_kafka_t* client, int code, const char* reason, void* opaque) {
    auto* self = static_cast<ClientEvents*>(opaque);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        char text[512] = "";
        (void)rd_kafka_fatal_error(client, text, sizeof text);
        self->fatal_ = text;
        self->context_->log().error(std::string("Kafka client failed for good: ") + text);
        return;
    }
    // Brokers going down and coming back is weather: librdkafka retries by itself. Said once per change, and
    // again every few seconds while it lasts, so the log shows it without filling up.
    const std::string text = std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(code))) + ": " + reason;
    const std::uint64_t now = self->context_->now_ns();
    // Keyed on the code: librdkafka's texts carry counters ("N identical error(s) suppressed") that change.
    if (code != self->last_error_ || now - self->error_logged_ns_ >= ERROR_LOG_EVERY_NS) {
        self->last_error_ = code;
        self->error_logged_ns_ = now;
        self->context_->log().warn("Kafka: " + text + " (retrying)");
    }
}

void ClientEvents::rebalanced(rd_kafka_t* client,
                              rd_kafka_resp_err_t event,
                              rd_kafka_topic_partition_list_t* partitions,
                              void* opaque) {
    auto* self = static_cast<ClientEvents*>(opaque);
    // A properties file may choose a cooperative assignor (cooperative-sticky), which assigns incrementally.
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(client)) == "COOPERATIVE";
    std::string names;
    for (int i = 0; i < partitions->cnt; ++i) {
        names += (names.empty() ? "" : ", ") + std::string(partitions->elems[i].topic) + "[" +
                 std::to_string(partitions->elems[i].partition) + "]";
    }
    if (event == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        // Logged as it happens: records published before a new group's first assignment are read only if the
        // cluster still holds them (auto.offset.reset "earliest"), or not at all ("latest").
        self->context_->log().info("assigned partitions " + (names.empty() ? std::string("(none)") : names));
        if (cooperative)
            destroy(rd_kafka_incremental_assign(client, partitions));
        else
            (void)rd_kafka_assign(client, partitions);
    } else {
        // Offsets stored so far are committed by librdkafka before the partitions go.
        self->context_->log().info("partitions revoked: " + (names.empty() ? std::string("(none)") : names));
        if (cooperative)
            destroy(rd_kafka_incremental_unassign(client, partitions));
        else
            (void)rd_kafka_assign(client, nullptr);
    }
}

void ClientEvents::delivered(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    static_cast<ClientEvents*>(opaque)->on_delivery(*message);
}

}  // namespace dhub::kafka_transport
