// SPDX-License-Identifier: Apache-2.0
#include "support/kafka_mock_cluster.hpp"

#include <cstdint>
#include <stdexcept>

namespace dhub::testing {

KafkaMockCluster::KafkaMockCluster(int brokers) : brokers_(brokers) {
    char reason[512] = "";
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The hosting handle talks to no cluster: without this it warns that it has no bootstrap.servers.
    (void)rd_kafka_conf_set(conf, "log_level", "3", reason, sizeof reason);
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof reason);
    if (host_ == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot make the mock cluster's host handle: ") + reason);
    }
    cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
    if (cluster_ == nullptr) {
        rd_kafka_destroy(host_);
        throw std::runtime_error("cannot start librdkafka's mock cluster");
    }
}

KafkaMockCluster::~KafkaMockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(host_);
}

std::string KafkaMockCluster::bootstraps() const {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
}

void KafkaMockCluster::create_topic(const std::string& name, int partitions) {
    const rd_kafka_resp_err_t error = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, brokers_);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error("cannot create mock topic '" + name + "': " + rd_kafka_err2str(error));
    }
}

void KafkaMockCluster::fail_next_produce(rd_kafka_resp_err_t error, int count) {
    constexpr std::int16_t PRODUCE = 0;  // Kafka's ApiKey of Produce requests
    for (int i = 0; i < count; ++i)
        rd_kafka_mock_push_request_errors(cluster_, PRODUCE, 1, error);
}

void KafkaMockCluster::set_all_down(bool down) {
    for (int broker = 1; broker <= brokers_; ++broker) {
        if (down)
            (void)rd_kafka_mock_broker_set_down(cluster_, broker);
        else
            (void)rd_kafka_mock_broker_set_up(cluster_, broker);
    }
}

}  // namespace dhub::testing
